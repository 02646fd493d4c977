#!/usr/bin/env python
"""Download and unpack GRID corpus speakers (video, 25 kHz audio, alignments); resumable.

Examples (from the repository root)::

    python data_prep/download_grid.py --speakers 1 2 4 29 --out data/grid
    python data_prep/download_grid.py --speakers all --parts audio align --out data/grid
    python data_prep/download_grid.py --speakers 1 --out data/grid --from-dir ~/Downloads/grid
    python data_prep/download_grid.py --speakers 1 --out data/grid --base-url https://my.mirror/gridcorpus

See docs/download.md and :mod:`lip2audspec.corpora.download`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

try:
    import lip2audspec  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lip2audspec.cli._runner import add_debug_argument, run_command  # noqa: E402
from lip2audspec.corpora.download import DEFAULT_BASE_URL, N_SPEAKERS, PARTS, fetch_grid  # noqa: E402
from lip2audspec.errors import ParameterError  # noqa: E402

PROG = "download_grid.py"


def _speakers(values) -> list:
    if any(v.lower() == "all" for v in values):
        if len(values) != 1:
            raise ParameterError("--speakers all cannot be combined with speaker numbers")
        return list(range(1, N_SPEAKERS + 1))
    return list(values)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--speakers", nargs="+", required=True, metavar="S",
                   help=f"speaker numbers 1..{N_SPEAKERS} or names s1 ..; 'all' for every speaker (s21 has no video)")
    p.add_argument("--out", required=True, type=Path, help="output root (sN/*.mpg, audio_25k/sN/*.wav, alignments/sN/*.align)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="archives to fetch")
    p.add_argument("--base-url", default=DEFAULT_BASE_URL,
                   help="server or mirror root holding sN/video/sN.mpg_vcd.zip, sN/audio/sN.tar, sN/align/sN.tar")
    p.add_argument("--from-dir", type=Path, default=None,
                   help="use archives already on disk (no network); see docs/download.md for the names looked for")
    p.add_argument("--no-keep-archives", dest="keep_archives", action="store_false",
                   help="delete downloaded archives after unpacking")
    p.add_argument("--retries", type=int, default=3, help="retries per download after transient failures")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout in seconds")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    add_debug_argument(p)
    return p


def run(args) -> int:
    report = fetch_grid(args.out, _speakers(args.speakers), base_url=args.base_url, parts=args.parts,
                        from_dir=args.from_dir, keep_archives=args.keep_archives, progress=args.progress,
                        retries=args.retries, timeout=args.timeout)
    for item in report["items"]:
        print(f"{item['speaker']:>4} {item['part']:<6} {item['action']:<13} {item['files']:>5} files")
    print(f"downloaded {report['downloaded_bytes'] / 2**20:.1f} MiB; manifest: {report['manifest']}")
    return 0


def main(argv=None) -> int:
    """Run the downloader; returns the exit status (0 success, 2 error, 130 interrupted)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return run_command(PROG, run, args, interrupted="interrupted; rerun the same command to resume")


if __name__ == "__main__":
    sys.exit(main())

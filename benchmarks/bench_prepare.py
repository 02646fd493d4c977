"""Throughput of the GRID preparation pipeline on the synthetic corpus.

Prints clips/second for the whole pipeline with 1 and 2 worker processes, the seconds per clip of each
stage (validate, decode, crop, target), and the projected time for all of GRID (34 speakers x 1000
clips). Run: ``python benchmarks/bench_prepare.py [--corpus DIR] [--cropper landmarks]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lip2audspec.data.crop import CropConfig
from lip2audspec.data.prepare import PrepareConfig, prepare_grid

GRID_CLIPS = 34 * 1000


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help="existing synthetic/GRID folder (default: generate 4 speakers x 10 clips)")
    ap.add_argument("--cropper", default="landmarks", choices=["mask", "haar", "landmarks"])
    ap.add_argument("--crop-size", type=int, default=128)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    try:
        corpus = Path(args.corpus) if args.corpus else tmp / "grid"
        if not args.corpus:
            from lip2audspec.corpora.synthetic import generate_corpus

            print("generating a synthetic corpus (4 speakers x 10 clips) ...")
            generate_corpus(corpus, speakers=4, utterances=10, seed=11, workers=2, progress=False)
        cfg = PrepareConfig(crop=CropConfig(method=args.cropper, size=args.crop_size))
        print(f"cropper {args.cropper}, crops {args.crop_size}x{args.crop_size}, targets [10 10 -2 0]\n")
        for workers in (1, 2):
            out = tmp / f"out{workers}"
            t0 = time.perf_counter()
            s = prepare_grid(corpus, out, config=cfg, workers=workers, progress=False)
            dt = time.perf_counter() - t0
            n = s["clips"] + s["excluded"]
            rate = n / dt
            stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in s["seconds_per_clip"].items())
            print(f"{workers} worker(s): {n} clips in {dt:.1f} s = {rate:.2f} clips/s (incl. start-up and assembly)")
            print(f"   per clip and worker: {stages}")
            print(f"   projected for all of GRID ({GRID_CLIPS} clips): {GRID_CLIPS / rate / 3600:.1f} h")
            shutil.rmtree(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

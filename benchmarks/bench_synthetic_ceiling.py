"""Synthetic corpus 1.0 vs 2.0 (issue 14): visual ceiling and what the decoded pixels show.

``python benchmarks/bench_synthetic_ceiling.py ceiling [--speakers 4] [--carriers 1] [--seed 0] [--before-rev 6404fda]``
    :func:`visual_ceiling` of the corpus spec (synth-grid defaults: 4 speakers, seed 0) with the 2.0 renderer
    and with the 1.0 viseme track and mouth renderer loaded from git (``--before-rev``, a 1.0 commit).
``python benchmarks/bench_synthetic_ceiling.py pixels CORPUS_DIR [--clips-per-speaker 20]``
    :func:`corpus_visual_checks` of an existing corpus of either version: b/p/m closures with a closed-lips
    frame, open vowels closed in their middle, f/v with the teeth on the lower lip, all from decoded pixels.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lip2audspec.corpora.synthetic import CorpusConfig, load_manifest, visual_ceiling  # noqa: E402
from lip2audspec.corpora.synthetic.ceiling import format_ceiling  # noqa: E402
from lip2audspec.corpora.synthetic.checks import corpus_visual_checks  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("ceiling")
    c.add_argument("--speakers", type=int, default=4)
    c.add_argument("--carriers", type=int, default=1)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--before-rev", default="6404fda")
    c.add_argument("--json", default=None)
    p = sub.add_parser("pixels")
    p.add_argument("corpus")
    p.add_argument("--clips-per-speaker", type=int, default=20)
    args = ap.parse_args(argv)
    if args.what == "ceiling":
        from _synthetic_v1 import load_v1

        cfg = CorpusConfig(speakers=args.speakers, utterances=max(args.carriers, 1), seed=args.seed)
        track_fn, renderer_cls = load_v1(args.before_rev)
        out = {}
        for name, kw in (("1.0 (before)", {"_track_fn": track_fn, "_renderer_cls": renderer_cls}), ("2.0 (after)", {})):
            t = time.perf_counter()
            ceil = visual_ceiling(cfg, carriers=args.carriers, **kw)
            out[name] = ceil
            print(f"== {name}: {args.speakers} speakers x {args.carriers} carrier(s), seed {args.seed}, "
                  f"tolerance {ceil['settings']['tolerance_px']} px ({time.perf_counter() - t:.0f} s)")
            for line in format_ceiling(ceil):
                print(f"  {line}")
            print("  groups (first context): " + "; ".join(f"{k}: " + " ".join("/".join(g) for g in v if len(g) > 1)
                                                          for k, v in ceil["groups"].items() if any(len(g) > 1 for g in v)))
            print("  nearest distinct: " + ", ".join(f"{n['pair']} {n['px']:.2f} px" for n in ceil["nearest_distinct"][:6]))
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=1))
    else:
        m = load_manifest(args.corpus)
        bad = {(c["speaker"], c["utt_id"]) for c in m["corrupted"]}
        clips = [(s, u) for s, d in m["speakers"].items() for u in d["utterances"][: args.clips_per_speaker] if (s, u) not in bad]
        r = corpus_visual_checks(args.corpus, clips=clips)
        print(f"{args.corpus} (generator {m['version']}, {r['clips']} clips):")
        print(f"  b/p/m closures (not after a pause) with a closed-lips frame: {r['closures_shown']}/{r['closures']} "
              f"({', '.join(f'{k} {a}/{b}' for k, (a, b) in sorted(r['closures_by_phoneme'].items()))})")
        print(f"  open vowels closed in their middle: {r['open_vowels_closed']}/{r['open_vowels']}")
        print(f"  f/v with the teeth band on the lower lip: {r['fv_teeth']}/{r['fv']}")


if __name__ == "__main__":
    main()

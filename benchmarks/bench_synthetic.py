"""Throughput of the synthetic GRID corpus generator: 4 speakers x 25 utterances with 1 and 2 workers.

Run: ``python benchmarks/bench_synthetic.py [--speakers 4] [--utterances 25] [--workers 1 2]``.
Also prints the audio-visual sync measured from the decoded pixels of the 2-worker corpus.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np

from lip2audspec.corpora.synthetic import clip_sync, generate_corpus, load_manifest, read_mouth_params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--speakers", type=int, default=4)
    ap.add_argument("--utterances", type=int, default=25)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench_synth_"))
    try:
        last = None
        for w in args.workers:
            out = tmp / f"w{w}"
            rep = generate_corpus(out, speakers=args.speakers, utterances=args.utterances, seed=args.seed, workers=w, progress=False)
            n = len(rep.generated)
            st = rep.stage_seconds
            tot = sum(st.values())
            print(f"workers={w}: {n} clips in {rep.seconds:.1f} s -> {n / rep.seconds:.2f} clips/s, {rep.seconds / n:.3f} s/clip wall; "
                  f"per-clip CPU: speech {st['speech'] / n:.3f} s ({100 * st['speech'] / tot:.0f}%), "
                  f"render {st['render'] / n:.3f} s ({100 * st['render'] / tot:.0f}%), "
                  f"encode+write {st['write'] / n:.3f} s ({100 * st['write'] / tot:.0f}%)")
            last = out
        m = load_manifest(last)
        print("AV sync from decoded pixels (per speaker: best lag in frames, mean corr at best lag, mean corr at lag 0):")
        for s, d in m["speakers"].items():
            lags, cb, c0 = [], [], []
            for u in d["utterances"]:
                mp = read_mouth_params(last / "mouth_params" / s / f"{u}.csv")
                box = (mp["bbox_x0"].min() - 4, mp["bbox_y0"].min() - 4, mp["bbox_x1"].max() + 4, mp["bbox_y1"].max() + 4)
                r = clip_sync(last / s / f"{u}.mpg", last / "audio_25k" / s / f"{u}.wav", box=box)
                lags.append(r["best_lag"])
                cb.append(r["best_corr"])
                c0.append(r["corr_at_0"])
            vals, counts = np.unique(lags, return_counts=True)
            print(f"  {s} ({d['voice']['name']}): best-lag histogram {dict(zip(vals.tolist(), counts.tolist()))}, "
                  f"corr best {np.mean(cb):.2f}, corr at 0 {np.mean(c0):.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

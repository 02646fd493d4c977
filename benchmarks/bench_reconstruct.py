"""Reconstruction quality and speed on held-out utterances of seen speakers (synthetic corpus).

Uses the folder of ``lip2audspec demo`` (runs it first if missing): prints Corr2D, STOI, ESTOI,
PESQ-NB/WB and word accuracy for original / oracle / reconstruction (from the demo's report), then the
time to reconstruct one 3 s clip end to end from its video file, split by stage (median over clips,
2 CPU cores). Targets from the issue: Corr2D >= 0.85, reconstruction word accuracy >= 70 % and >= 85 % of
the oracle's, < 1 s per clip. Run: ``python benchmarks/bench_reconstruct.py [--demo-dir demo_out]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--demo-dir", default="demo_out")
    ap.add_argument("--clips", type=int, default=12, help="held-out videos timed end to end")
    ap.add_argument("--iterations", type=int, default=20)
    args = ap.parse_args(argv)
    demo = Path(args.demo_dir)
    if not (demo / "report" / "report.json").is_file():
        from lip2audspec.demos import lip_demo

        lip_demo(demo, n_iter=args.iterations, progress=False)
    doc = json.loads((demo / "report" / "report.json").read_text())
    conds = doc["overall"]["conditions"]
    print(f"held-out seen-speaker clips: {doc['meta']['clips']} ({doc['meta']['split']}), aud2wav {doc['meta']['aud2wav_iterations']} iterations")
    for c in ("oracle", "recon"):
        m = conds[c]["metrics"]
        print(f"  {c:9s} Corr2D {m['corr2d']['mean']:.3f}  STOI {m['stoi']['mean']:.3f}  ESTOI {m['estoi']['mean']:.3f}  "
              f"PESQ-NB {m['pesq_nb']['mean']:.2f}  PESQ-WB {m['pesq_wb']['mean']:.2f}")
    acc = {c: conds[c]["words"]["accuracy"] for c in ("original", "oracle", "recon")}
    print("  word accuracy: " + ", ".join(f"{c} {v * 100:.1f}%" for c, v in acc.items())
          + f"; reconstruction / oracle = {acc['recon'] / max(acc['oracle'], 1e-9) * 100:.0f}%")
    per_pos = conds["recon"]["words"]["per_position"]
    print("  reconstruction per position: " + ", ".join(f"{k} {v * 100:.0f}%" for k, v in per_pos.items()))

    from lip2audspec.corpora.grid import GridLayout
    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.reconstruct import Reconstructor

    rec = Reconstructor(demo / "runs" / "lip", n_iter=args.iterations)
    layout = GridLayout.discover(demo / "grid")
    with GridDataset(demo / "prepared" / "dataset.h5") as ds:
        clips = [(str(ds.clip_speakers[i]), str(ds.ids[i])) for i in ds.split("seen/test")][: args.clips + 1]
    timings = []
    for k, (spk, uid) in enumerate(clips):
        t0 = time.perf_counter()
        out = rec.from_video(layout.clip_paths(spk, uid).video, speaker=spk)
        total = time.perf_counter() - t0
        if k:  # the first call traces the TensorFlow graph
            timings.append({**out.timings, "total": total})
    med = {k: float(np.median([t[k] for t in timings])) for k in timings[0]}
    print(f"time per 3 s clip, video file -> wav (median of {len(timings)}): "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in med.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

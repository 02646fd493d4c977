"""``reconstruct --batch`` throughput and one clip's warm latency, video file -> wav (issue 17).

In one run, on the same videos (default: the first ``--clips`` test clips of real GRID s1, GRID CC BY 4.0)
with the bundled ``grid-s1`` model: (1) warm latency of :meth:`Reconstructor.from_video` + write for
one 3 s clip (median over the clips, by stage); (2) the clips one by one (the old ``--batch`` loop);
(3) :func:`lip2audspec.batch.reconstruct_batch` (decode/crop, network and aud2wav pipelined on 2 cores).
Prints clips/s, the ratio, whether every wav is identical, and the load average. Targets: <= 250 ms a
clip warm, >= 6 clips/s batched. Run::

    python benchmarks/bench_batch.py --grid /work/real_s1/grid --split /work/shared/real_grid/s1_split.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def load():
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="/work/real_s1/grid")
    ap.add_argument("--split", default="/work/shared/real_grid/s1_split.json")
    ap.add_argument("--model", default="grid-s1")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--detect-every", type=int, default=None,
                    help="landmark cropper: face detector every K frames (default: the model's setting)")
    ap.add_argument("--landmark-step", type=int, default=None,
                    help="landmark cropper: landmarks on every K-th frame (default: the model's setting)")
    args = ap.parse_args(argv)
    from lip2audspec.auditory import read_wav
    from lip2audspec.batch import reconstruct_batch
    from lip2audspec.pretrained import reconstructor_for

    ids = json.loads(Path(args.split).read_text())["test"][: args.clips]
    videos = [Path(args.grid) / "s1" / f"{i}.mpg" for i in ids]
    rec = reconstructor_for(args.model, n_iter=args.iterations, detect_every=args.detect_every,
                            landmark_step=args.landmark_step)
    crop = rec.crop_config
    print(f"{len(videos)} real s1 test clips, model {args.model} ({crop.method} crops, detect_every "
          f"{crop.detect_every}, landmark_step {crop.landmark_step}), {args.iterations} aud2wav iterations; "
          f"load average before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rec.write(rec.from_video(videos[0]), tmp / "warm.wav")  # trace the graph, load the kernels
        stages = []
        t0 = time.perf_counter()
        for v in videos:
            t1 = time.perf_counter()
            r = rec.from_video(v)
            rec.write(r, tmp / "seq" / f"{v.stem}.wav")
            stages.append({**r.timings, "total": time.perf_counter() - t1})
        t_seq = time.perf_counter() - t0
        t0 = time.perf_counter()
        reconstruct_batch(rec, videos, [tmp / "pipe" / f"{v.stem}.wav" for v in videos], keep_results=False)
        t_pipe = time.perf_counter() - t0
        same = all(np.array_equal(read_wav(tmp / "seq" / f"{v.stem}.wav")[0], read_wav(tmp / "pipe" / f"{v.stem}.wav")[0])
                   for v in videos)
    med = {k: float(np.median([s[k] for s in stages])) for k in stages[0]}
    print("warm, one clip (median): " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in med.items()) + "  (target <= 250 ms)")
    print(f"one by one : {len(videos) / t_seq:5.2f} clips/s")
    print(f"pipelined  : {len(videos) / t_pipe:5.2f} clips/s  ({t_seq / t_pipe:.2f}x; target >= 6 clips/s)")
    print(f"identical wavs: {same}; load average after: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Landmark cropper: face detection and landmarks on every frame against every k-th frame.

``CropConfig.detect_every`` (face detector every k frames, tracked by the landmarks in between) and
``CropConfig.landmark_step`` (detector / shape predictor on every k-th frame, mouth box interpolated).

On the same clips (default: the first ``--clips`` test clips of real GRID speaker s1; GRID, Cooke et al.
2006, CC BY 4.0), decoded once, the landmark cropper runs with ``detect_every`` = each of ``--every``
x ``landmark_step`` = each of ``--step`` ((1, 1) = the per-frame detection every prepared dataset used
before the options). Printed per variant, in one run:
crop milliseconds per clip (median) and the speed-up against (1, 1); how far the crop boxes move against
(1, 1) (largest shift of any box edge, as a share of the box side) and the mean absolute crop difference
in grey levels. With ``--data`` (the prepared dataset of those clips) and ``--model`` (a whole-clip
family run, e.g. ``train_main --arch framesync``): the model's Corr2D between its prediction from each
variant's crops and the clip's target, so the cost of tracking is read in the measure training optimises
(also: whether the (1, 1) crops are array-equal to the dataset's). Run::

    python benchmarks/bench_landmark_tracking.py --grid /work/real_s1/grid --split /work/shared/real_grid/s1_split.json \\
        --data /work/real_s1/bench/prepared --model RUN --clips 100 --every 1 5 --step 1 2 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", default="/work/real_s1/grid")
    ap.add_argument("--split", default="/work/shared/real_grid/s1_split.json")
    ap.add_argument("--speaker", default="s1")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--every", type=int, nargs="+", default=[1, 3, 5, 10])
    ap.add_argument("--step", type=int, nargs="+", default=[1],
                    help="landmark_step values (shape predictor every k-th frame); each is run with every --every")
    ap.add_argument("--crop-size", type=int, default=48)
    ap.add_argument("--data", help="prepared dataset of these clips (targets; and the stored crops to compare)")
    ap.add_argument("--model", help="a whole-clip family run: Corr2D of its predictions per k (needs --data)")
    args = ap.parse_args(argv)
    if args.model and not args.data:
        ap.error("--model needs --data (the clips' targets)")
    variants = sorted({(e, st) for e in args.every for st in args.step} | {(1, 1)})

    from lip2audspec.data.crop import CropConfig, make_cropper
    from lip2audspec.data.video import read_video

    ids = json.loads(Path(args.split).read_text())["test"][: args.clips]
    croppers = {v: make_cropper(CropConfig(method="landmarks", size=args.crop_size, detect_every=v[0], landmark_step=v[1]))
                for v in variants}
    ds = model = None
    if args.data:
        from lip2audspec.data.dataset import GridDataset

        ds = GridDataset(args.data)
        index = {u: i for i, u in enumerate(ds.ids)}
    if args.model:
        from lip2audspec.evaluation.metrics import corr2d
        from lip2audspec.inference import predict_clip
        from lip2audspec.training.runs import RunDir

        model = RunDir(args.model).load_model("best")
    print(f"{len(ids)} {args.speaker} test clips, landmarks {args.crop_size} px, (detect_every, landmark_step) "
          f"{variants}; "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    times, shift, diff, r = ({v: [] for v in variants} for _ in range(4))
    stored_equal = []
    for uid in ids:
        frames = read_video(Path(args.grid) / args.speaker / f"{uid}.mpg", fps=25).frames
        out = {}
        for k in variants:
            t0 = time.perf_counter()
            out[k] = croppers[k].crop(frames)
            times[k].append(time.perf_counter() - t0)
        ref = out[(1, 1)]
        side = ref.boxes[:, 2] - ref.boxes[:, 0]
        for k in variants:
            shift[k].append(float((np.abs(out[k].boxes - ref.boxes).max(axis=1) / side).max()))
            diff[k].append(float(np.abs(out[k].crops.astype(np.float64) - ref.crops).mean()))
        if ds is not None and uid in index:
            stored = ds.array("crops", index[uid])
            stored_equal.append(bool(np.array_equal(stored[: len(ref.crops)], ref.crops)))
            if model is not None:
                target = ds.array("spec", index[uid])
                for k in variants:
                    pred = predict_clip(model, out[k].crops)
                    n = min(len(pred), len(target))
                    r[k].append(corr2d(pred[:n], target[:n]))
    t1 = np.median(times[(1, 1)])
    print(f"{'every, step':>12s} {'crop ms/clip':>12s} {'speed-up':>8s} {'max box shift':>13s} {'mean |diff|':>11s}"
          + ("   model Corr2D" if model is not None else ""))
    for k in variants:
        line = (f"{str(k):>12s} {np.median(times[k]) * 1e3:12.0f} {t1 / np.median(times[k]):7.2f}x "
                f"{np.max(shift[k]) * 100:12.1f}% {np.mean(diff[k]):11.2f}")
        if model is not None:
            line += f"   {np.mean(r[k]):.4f} (min {np.min(r[k]):.3f})"
        print(line)
    if stored_equal:
        print(f"detect_every=1, landmark_step=1 crops array-equal to the dataset's: {sum(stored_equal)} of {len(stored_equal)} clips")
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

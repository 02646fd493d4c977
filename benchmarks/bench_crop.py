"""Per-clip time of the mouth croppers (mask, haar, landmarks) on the synthetic GRID corpus.

For every clean clip (75 frames, 360x288) the video is decoded once (timed separately), then each cropper
crops it to 128x128; models are loaded before timing. Also printed: how well the crops hold the true
mouth (the corpus' ``mouth_params`` boxes): fraction of frames with the true mouth centre inside the crop
box, the smallest coverage of the true mouth box and the range of crop side / true mouth width.

Run: ``python benchmarks/bench_crop.py [--corpus DIR] [--speakers 4 --utterances 5] [--threads 1]``
(without ``--corpus`` a corpus is generated in a temporary folder first).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="synthetic corpus folder (default: generate one)")
    ap.add_argument("--speakers", type=int, default=4)
    ap.add_argument("--utterances", type=int, default=5)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="OpenCV threads (default 1: per-core figures)")
    ap.add_argument("--methods", default="mask,haar,landmarks")
    args = ap.parse_args(argv)

    import cv2

    from lip2audspec.corpora.grid import GridLayout
    from lip2audspec.corpora.synthetic import generate_corpus, read_mouth_params
    from lip2audspec.data.crop import CropConfig, estimate_mask_box, make_cropper
    from lip2audspec.data.video import read_video
    from lip2audspec.errors import DataError

    cv2.setNumThreads(args.threads)
    tmp = None
    root = args.corpus
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_crop_")
        root = Path(tmp.name) / "grid"
        t = time.perf_counter()
        generate_corpus(root, speakers=args.speakers, utterances=args.utterances, seed=args.seed, workers=2, progress=False)
        print(f"generated {args.speakers}x{args.utterances} clips in {time.perf_counter() - t:.1f} s")
    layout = GridLayout.discover(root)
    bad = set()
    if (root / "manifest.json").is_file():
        bad = {(c["speaker"], c["utt_id"]) for c in json.loads((root / "manifest.json").read_text())["corrupted"]}
    clips, t_read = [], []
    for spk in layout.speakers:
        for utt in layout.utterances(spk):
            if (spk, utt) in bad:
                continue
            p = layout.clip_paths(spk, utt)
            t = time.perf_counter()
            try:
                v = read_video(p.video, fps=25, min_frames=75)
            except DataError:
                continue
            t_read.append(time.perf_counter() - t)
            truth = None
            if p.mouth_params is not None:
                mp = read_mouth_params(p.mouth_params)
                truth = np.stack([mp["bbox_x0"], mp["bbox_y0"], mp["bbox_x1"], mp["bbox_y1"]], axis=1)
            clips.append((spk, v, truth))
    if not clips:
        print("no usable clips", file=sys.stderr)
        return 1
    print(f"{len(clips)} clips of {clips[0][1].frames.shape}; decode to gray: median {np.median(t_read) * 1e3:.1f} ms/clip")
    t = time.perf_counter()
    masks = {spk: estimate_mask_box([layout.clip_paths(spk, u).video for u in layout.utterances(spk)], max_clips=3)
             for spk in layout.speakers}
    print(f"estimate_mask_box: {(time.perf_counter() - t) / len(masks):.2f} s/speaker (3 clips, every 5th frame, incl. model load once)")
    print(f"{'method':10s} {'median ms':>10s} {'mean ms':>8s} {'max ms':>7s} {'ms/frame':>9s} {'centre in':>9s} {'min cov':>8s} {'side/width':>11s}")
    for method in args.methods.split(","):
        cropper = make_cropper(CropConfig(method=method, mask_boxes=masks))
        cropper.crop(clips[0][1], speaker=clips[0][0])  # load models
        times, inside, cov, ratio = [], [], [], []
        for spk, v, truth in clips:
            t = time.perf_counter()
            mc = cropper.crop(v, speaker=spk)
            times.append(time.perf_counter() - t)
            if truth is not None:
                b = mc.boxes
                tc = (truth[:, :2] + truth[:, 2:]) / 2
                inside.append(np.all((tc >= b[:, :2]) & (tc <= b[:, 2:]), axis=1))
                ix = np.clip(np.minimum(truth[:, 2], b[:, 2]) - np.maximum(truth[:, 0], b[:, 0]), 0, None)
                iy = np.clip(np.minimum(truth[:, 3], b[:, 3]) - np.maximum(truth[:, 1], b[:, 1]), 0, None)
                cov.append(ix * iy / ((truth[:, 2] - truth[:, 0]) * (truth[:, 3] - truth[:, 1])))
                ratio.append((b[:, 2] - b[:, 0]) / (truth[:, 2] - truth[:, 0]))
        ts = np.array(times) * 1e3
        n_frames = clips[0][1].n_frames
        q = (f"{np.mean(np.concatenate(inside)):9.3f} {np.min(np.concatenate(cov)):8.3f} "
             f"{np.min(np.concatenate(ratio)):5.2f}..{np.max(np.concatenate(ratio)):4.2f}") if inside else ""
        print(f"{method:10s} {np.median(ts):10.1f} {ts.mean():8.1f} {ts.max():7.1f} {np.median(ts) / n_frames:9.2f} {q}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cold GRID preparation at corpus scale: clips/s and the extrapolation to all of GRID, per cropper.

Each run is **cold**: a fresh output folder (so an empty per-clip work cache), the worker processes (or
the local Dask cluster) started inside the timed region, and the assembly of ``dataset.h5`` included.
Nothing is projected from a warm partial run; the only extrapolation is the linear one from the clips
prepared here to GRID's ~33,000 clips (34 speakers, s21 has no video), which slightly overstates the
time (start-up and assembly are counted once per run, not per 33,000 clips). Numba's on-disk kernel
cache is whatever the machine has (warm after the first ``wav2aud`` ever run there).

For every cropper (``--cropper haar landmarks``) the script prepares the corpus with ``--workers`` local
processes and, with ``--scheduler local:2`` (or an address), again through the Dask scheduler, and checks
that the two ``dataset.h5`` files hold the same arrays. It prints, per run: clips, wall time, clips/s,
mean wall seconds per valid clip of each stage (decode, validate, crop, target) and CPU seconds per valid
clip, in one worker (the CPU figure is steadier than wall time on a shared machine), the extrapolation to
33,000 clips against the issue's targets (<= 30 min haar, <= 60 min landmarks on 2 cores), and the
load average at the start and end (a busy machine inflates every wall time).

``--clips N`` prepares only the first N clips of each speaker: a corpus of symbolic links to them is made
in the output folder (for a quick check; the targets are about the full corpus).

Run (GRID speaker s1, all 1000 clips, on an idle 2-core machine)::

    python benchmarks/bench_prepare.py --corpus /work/real_s1/grid --speakers s1 --cropper haar landmarks \\
        --workers 2 --scheduler local:2 --out /tmp/bench_prepare --json /tmp/bench_prepare.json

Without ``--corpus`` a synthetic corpus (4 speakers x 10 clips) is generated first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from lip2audspec.corpora.grid import GridLayout
from lip2audspec.data.crop import CropConfig
from lip2audspec.data.prepare import PrepareConfig, prepare_grid

GRID_CLIPS = 33_000
TARGET_MIN = {"haar": 30.0, "landmarks": 60.0}  # issue 17, on 2 cores


def _subset_corpus(corpus: Path, speakers, n: int, dst: Path) -> Path:
    """A GRID folder of symbolic links to the first ``n`` clips (video, audio, alignment) of each speaker."""
    layout = GridLayout.discover(corpus)
    for spk in speakers:
        for utt in layout.utterances(spk)[:n]:
            paths = layout.clip_paths(spk, utt)
            for kind, src in (("", paths.video), ("audio_25k/", paths.audio), ("alignments/", paths.align)):
                if src is not None:
                    link = dst / f"{kind}{spk}" / Path(src).name
                    link.parent.mkdir(parents=True, exist_ok=True)
                    link.symlink_to(Path(src).resolve())
    return dst


def _h5_arrays(path) -> dict:
    """Every dataset of an HDF5 file, by name (the manifest attribute, with its timestamps, is left out)."""
    import h5py

    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def same_arrays(a, b) -> bool:
    """True when two ``dataset.h5`` files hold the same datasets with equal arrays."""
    x, y = _h5_arrays(a), _h5_arrays(b)
    return x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)


def run_one(corpus, out: Path, *, speakers, config, workers: int, scheduler) -> dict:
    """One cold ``prepare_grid`` into ``out`` (removed first); its figures."""
    shutil.rmtree(out, ignore_errors=True)  # cold: no per-clip cache
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    s = prepare_grid(corpus, out, speakers=speakers, config=config, workers=workers, scheduler=scheduler, progress=False)
    wall = time.perf_counter() - t0
    n = s["clips"] + s["excluded"]
    stages = dict(s["seconds_per_clip"])
    cpu = stages.pop("cpu", float("nan"))
    return {"clips": n, "valid": s["clips"], "excluded": s["excluded"], "wall_s": wall, "cpu_per_clip_s": cpu,
            "clips_per_s": n / wall, "grid_minutes": GRID_CLIPS * wall / n / 60, "stages_s": stages,
            "load_start": load0, "load_end": os.getloadavg(), "dataset": str(out / "dataset.h5"),
            "workers": _worker_count(scheduler, workers)}


def _worker_count(scheduler, workers: int):
    """Worker processes of a run: ``workers`` locally, N for ``local:N``, None for a remote cluster."""
    if scheduler is None:
        return workers
    from lip2audspec.cluster import parse_scheduler

    kind, value = parse_scheduler(scheduler, workers=workers)
    return value if kind == "local" else None


def _print(label: str, cropper: str, r: dict) -> None:
    target = TARGET_MIN.get(cropper.split("_")[0])
    verdict = "" if target is None else (f" (target <= {target:.0f} min: {'met' if r['grid_minutes'] <= target else 'NOT met'}"
                                         f", {r['grid_minutes'] / target:.2f}x the target)")
    stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in r["stages_s"].items())
    print(f"{cropper:9s} {label}: {r['clips']} clips ({r['excluded']} excluded) in {r['wall_s']:.1f} s = "
          f"{r['clips_per_s']:.2f} clips/s; load average (1 min) {r['load_start'][0]:.2f} at start, "
          f"{r['load_end'][0]:.2f} at end")
    print(f"{'':9s}   per valid clip in one worker: wall {stages}; CPU {r['cpu_per_clip_s'] * 1000:.0f} ms")
    print(f"{'':9s}   cold run extrapolated to {GRID_CLIPS} clips: {r['grid_minutes']:.1f} min{verdict}")
    if r["workers"] and r["cpu_per_clip_s"] > 0:  # an estimate beside the measurement, for a loaded machine
        est = GRID_CLIPS * r["cpu_per_clip_s"] / r["workers"] / 60
        print(f"{'':9s}   (estimate, not the target's measure: {GRID_CLIPS} clips x CPU per clip / {r['workers']} "
              f"busy cores = {est:.1f} min, without start-up, assembly or contention)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", help="GRID-layout folder (default: generate a synthetic one, 4 speakers x 10 clips)")
    ap.add_argument("--speakers", nargs="+", help="speakers to prepare (default: all)")
    ap.add_argument("--cropper", nargs="+", default=["haar", "landmarks"], choices=["mask", "haar", "landmarks"])
    ap.add_argument("--crop-size", type=int, default=48, help="crop side (default 48, the small preset's)")
    ap.add_argument("--detect-every", type=int, nargs="+", default=[1], metavar="K",
                    help="landmarks: face detector every K frames, landmarks tracking in between (default 1; "
                         "several values: one landmarks run each, e.g. 1 5)")
    ap.add_argument("--landmark-step", type=int, default=1, metavar="K",
                    help="landmarks: shape predictor on every K-th frame, box interpolated (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    ap.add_argument("--scheduler", help="also run through this Dask scheduler (local:2, tcp://host:8786) and compare")
    ap.add_argument("--no-local", action="store_true", help="only the --scheduler run")
    ap.add_argument("--clips", type=int, help="only the first N clips of each speaker (a quick check)")
    ap.add_argument("--out", help="work folder (default: a temporary one, removed at the end)")
    ap.add_argument("--keep", action="store_true", help="keep the prepared datasets")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    if args.no_local and not args.scheduler:
        ap.error("--no-local needs --scheduler")
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench_prepare_"))
    root.mkdir(parents=True, exist_ok=True)
    results = {"grid_clips": GRID_CLIPS, "targets_min": TARGET_MIN, "cpus": os.cpu_count(), "runs": {}}
    try:
        corpus = Path(args.corpus) if args.corpus else root / "synthetic"
        if not args.corpus and not corpus.is_dir():
            from lip2audspec.corpora.synthetic import generate_corpus

            print("generating a synthetic corpus (4 speakers x 10 clips) ...")
            generate_corpus(corpus, speakers=4, utterances=10, seed=11, workers=2, progress=False)
        speakers = args.speakers or GridLayout.discover(corpus).speakers
        if args.clips:
            sub = root / f"subset{args.clips}"
            shutil.rmtree(sub, ignore_errors=True)
            corpus = _subset_corpus(corpus, speakers, args.clips, sub)
        modes = ([] if args.no_local else [(f"{args.workers} local processes", None)])
        modes += [(f"Dask {args.scheduler}", args.scheduler)] if args.scheduler else []
        print(f"corpus {corpus}, speakers {' '.join(speakers)}, crops {args.crop_size} px, {os.cpu_count()} CPUs\n")
        variants = [(c, k) for c in args.cropper for k in (args.detect_every if c == "landmarks" else [1])]
        for cropper, every in variants:
            step = args.landmark_step if cropper == "landmarks" else 1
            cfg = PrepareConfig(crop=CropConfig(method=cropper, size=args.crop_size, detect_every=every, landmark_step=step))
            name = cropper + (f"_every{every}" if every != 1 else "") + (f"_step{step}" if step != 1 else "")
            runs = {}
            for i, (label, scheduler) in enumerate(modes):
                runs[label] = run_one(corpus, root / f"{name}_{i}", speakers=speakers, config=cfg,
                                      workers=args.workers, scheduler=scheduler)
                _print(label, name, runs[label])
            if len(runs) == 2:
                a, b = (r["dataset"] for r in runs.values())
                equal = same_arrays(a, b)
                runs["array_equal"] = equal
                print(f"{'':9s}   Dask dataset array-equal to the local one: {equal}")
            results["runs"][name] = runs
            print()
            if not args.keep:
                for i in range(len(modes)):
                    shutil.rmtree(root / f"{name}_{i}", ignore_errors=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        if not args.out:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Learning curve of fine-tuning from a pretrained run against training from scratch (issue 13, item 4).

For every number of training clips ``--clips`` (the first N clips of the dataset's training split, the
same subset for every seed and both starts) and every ``--seeds`` seed, two runs of ``train_main``
with the same family, preset and ``--epochs`` budget:

- ``scratch``: randomly initialised;
- ``init``: ``--init PRETRAINED`` (layers copied from a run trained on other speakers; self-supervised:
  no transcript is used by any training in lip2audspec).

Each run is scored on the dataset's ``--split`` (default ``seen/test``, every clip) by the mean
per-clip Corr2D between the predicted and the true compressed auditory spectrogram (before
``aud2wav``, so the curve is cheap and deterministic), and on ``seen/val`` the same way; ``best.keras``
(lowest val loss) is the model scored. Results are appended per run to ``OUT/results.jsonl`` and runs
with a result are skipped, so the script resumes. The table (mean and standard deviation over seeds) is
printed and written to ``OUT/table.md``.

Example (real GRID s1, from a framesync run pretrained on the synthetic demo corpus)::

    python benchmarks/bench_pretraining.py --data real_s1/prepared --init synth/runs/framesync \\
        --out real_s1/pretraining --clips 25 50 100 --seeds 0 1 2 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def _stage(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _train(run: Path, args, n: int, seed: int, init: bool) -> None:
    from lip2audspec.cli.train_main import main as train_main
    from lip2audspec.training import RunDir

    if (run / "state.json").is_file():
        if RunDir(run).state().get("epoch", 0) >= args.epochs:  # trained; only its scores were missing
            return
        # interrupted: continue it with its own recorded settings
        argv = ["--resume", str(run), "--verbose", "0", "--no-tensorboard"]
    else:
        argv = [str(args.data), "--run", str(run), "--overwrite", "--arch", args.arch, "--preset", args.preset,
                "--epochs", str(args.epochs), "--patience", str(args.epochs), "--seed", str(seed),
                "--max-train-clips", str(n), "--verbose", "0", "--no-tensorboard"]
        if args.batch_size:
            argv += ["--batch-size", str(args.batch_size)]
        if init:
            argv += ["--init", str(args.init)]
    if train_main(argv) != 0:
        raise SystemExit(f"training {run} failed")


def _corr2d(run: Path, data: Path, splits) -> list:
    """Mean Corr2D of the run's ``best.keras`` (loaded once) on each of ``splits``."""
    from lip2audspec.evaluation import score_lipnet
    from lip2audspec.training import RunDir

    model = RunDir(run).load_model("best")
    return [score_lipnet(model, data=data, split=split)["corr2d"] for split in splits]


def _table(results: list, clips: list, seeds: list) -> str:
    import numpy as np

    lines = ["| training clips | from scratch: test Corr2D (mean +- sd) | fine-tuned: test Corr2D | difference | "
             "scratch / fine-tuned val Corr2D | seeds |", "|---|---|---|---|---|---|"]
    for n in clips:
        row = {}
        for start in ("scratch", "init"):
            rs = [r for r in results if r["clips"] == n and r["start"] == start and r["seed"] in seeds]
            row[start] = rs
        if not row["scratch"] or not row["init"]:
            continue
        t = {k: np.array([r["test_corr2d"] for r in v]) for k, v in row.items()}
        v = {k: np.array([r["val_corr2d"] for r in v]) for k, v in row.items()}
        paired = sorted({r["seed"] for r in row["scratch"]} & {r["seed"] for r in row["init"]})
        diff = [next(r["test_corr2d"] for r in row["init"] if r["seed"] == s)
                - next(r["test_corr2d"] for r in row["scratch"] if r["seed"] == s) for s in paired]
        lines.append(f"| {n} | {t['scratch'].mean():.3f} +- {t['scratch'].std():.3f} | {t['init'].mean():.3f} +- "
                     f"{t['init'].std():.3f} | {np.mean(diff):+.3f} (min {min(diff):+.3f}) | {v['scratch'].mean():.3f} / "
                     f"{v['init'].mean():.3f} | {len(paired)} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="prepared folder (or dataset.h5) of the target speaker")
    ap.add_argument("--init", type=Path, required=True, help="pretrained run (train_main run folder)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--arch", default="framesync")
    ap.add_argument("--preset", default="small")
    ap.add_argument("--clips", type=int, nargs="+", default=[25, 50, 100])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=10, help="the same budget for every run")
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--split", default="seen/test")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not (args.init / "best.keras").is_file():
        ap.error(f"--init {args.init} has no best.keras: give a finished train_main run")
    args.out.mkdir(parents=True, exist_ok=True)
    res_path = args.out / "results.jsonl"
    results = [json.loads(x) for x in res_path.read_text().splitlines()] if res_path.is_file() else []
    done = {(r["clips"], r["seed"], r["start"]) for r in results}
    for seed in args.seeds:  # seeds outermost: one complete curve first
        for n in args.clips:
            for start in ("scratch", "init"):
                if (n, seed, start) in done:
                    continue
                run = args.out / "runs" / f"{start}_n{n}_s{seed}"
                _stage(f"{start} n={n} seed={seed}: train")
                t0 = time.perf_counter()
                _train(run, args, n, seed, start == "init")
                secs = time.perf_counter() - t0
                val, test = _corr2d(run, args.data, ["seen/val", args.split])
                r = {"clips": n, "seed": seed, "start": start, "epochs": args.epochs, "arch": args.arch,
                     "init": str(args.init) if start == "init" else None, "train_s": secs,
                     "val_corr2d": val, "test_corr2d": test, "loadavg_1min": os.getloadavg()[0]}
                _stage(f"  val Corr2D {r['val_corr2d']:.3f}, test Corr2D {r['test_corr2d']:.3f} ({secs:.0f} s)")
                with open(res_path, "a") as f:
                    f.write(json.dumps(r) + "\n")
                results.append(r)
    table = _table(results, args.clips, args.seeds)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every lip-to-speech family on the same data and the same training budget: one table.

For each ``--arch`` (window network ``lip2audspec``; whole-clip ``framesync``, ``lip2wav``, ``lipsound2``):

1. train it with ``train_main --arch`` (``small`` preset, ``--epochs`` epochs, seed ``--seed``) on the
   prepared dataset's ``seen/train`` split unless ``--run ARCH=RUN`` names an existing run (the same
   budget for every family; ``best.keras`` = the epoch of lowest validation loss: chosen on val);
   ``--model-config ARCH=FILE`` hands a family's training ``train_main --model-config FILE`` (a whole
   config, or a JSON object of the fields to change, e.g. ``{"tcorr_weight": 1.0}``);
2. evaluate it on ``--split`` (default ``seen/test``) with :func:`lip2audspec.evaluation.evaluate`
   (aud2wav, ``--iterations`` iterations; original / oracle / reconstruction; STOI, ESTOI, word accuracy
   of the offline GRID recogniser with a 95 % bootstrap interval) into ``OUT/ARCH/report``;
3. measure training throughput (clips/s over the run's epochs, from its ``train.log``, and the epoch
   time it implies for 850 clips) and inference time before aud2wav (median ms of :func:`predict_clip`
   on one clip of the dataset, after one warm-up call).

Every stage is skipped when its output exists (rerun to continue). The table is printed (Markdown) and
written to ``OUT/table.md`` and ``OUT/summary.json`` with the load average of the machine at the time,
because CPU timings on a shared machine are only comparable within one run. Grammar chance is 19 %.
``OUT/comparison/index.html`` shows the families side by side (:func:`lip2audspec.evaluation.compare.
write_comparison`: paired word-accuracy differences against the first family, example clips).
Example (real GRID s1, prepared by ``benchmarks/bench_real_grid.py``)::

    python benchmarks/bench_lip2speech.py --data real_s1/prepared --out real_s1/lip2speech \\
        --run lip2audspec=real_s1/runs/lip --arch framesync --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

TARGET = {"stoi": 0.51, "estoi": 0.35, "words": 0.40}


def _stage(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _train(arch, data, run, epochs, seed, extra):
    from lip2audspec.cli.train_main import main as train_main

    if (run / "best.keras").is_file():
        return
    _stage(f"train {arch} -> {run}")
    argv = [str(data), "--arch", arch, "--run", str(run), "--epochs", str(epochs), "--seed", str(seed), "--verbose", "2",
            "--no-tensorboard", "--overwrite", *extra]
    if train_main(argv) != 0:
        raise SystemExit(f"training {arch} failed")


def _pairs(ap, flag: str, values) -> dict:
    """``["ARCH=VALUE", ...]`` -> ``{ARCH: VALUE}``; a malformed or repeated entry is a usage error."""
    out = {}
    for v in values:
        arch, sep, value = v.partition("=")
        if not (sep and arch and value):
            ap.error(f"{flag} takes ARCH=VALUE, got {v!r}")
        if arch in out:
            ap.error(f"{flag} names {arch} twice")
        out[arch] = value
    return out


def _throughput(run: Path) -> dict:
    """Training clips/s from train.log (``N epoch(s) in X s``) and the run's split size."""
    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.training import RunDir

    doc = RunDir(run).config()
    text = (run / "train.log").read_text() if (run / "train.log").is_file() else ""
    found = re.findall(r"(\d+) epoch\(s\) in ([\d.]+) s", text)
    if not found:
        return {"clips_per_s": None, "epoch_s_850": None}
    epochs = sum(int(e) for e, _ in found)
    seconds = sum(float(s) for _, s in found)
    tc = doc["train"]
    with GridDataset(doc["data"]["path"]) as ds:
        n = len(ds.split(tc["train_split"]))
    n = min(n, tc.get("max_train_clips") or n)
    if tc.get("steps_per_epoch"):
        n = min(n, tc["steps_per_epoch"] * doc.get("global_batch", tc["batch_size"]))
    cps = n * epochs / seconds
    return {"clips_per_s": cps, "epoch_s_850": 850 / cps, "train_epochs": epochs, "train_seconds": seconds}


def _inference_ms(run: Path, data: Path, repeats: int = 5) -> float:
    import numpy as np

    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.inference import predict_clip
    from lip2audspec.training import RunDir

    model = RunDir(run).load_model("best")
    with GridDataset(data) as ds:
        crops = ds.array("crops", int(ds.split("seen/test")[0]) if "seen/test" in ds.split_names else 0)
    predict_clip(model, crops)  # warm-up (tracing)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict_clip(model, crops)
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def _row(arch, run, out, args) -> dict:
    from lip2audspec.evaluation.evaluate import evaluate
    from lip2audspec.training import RunDir

    rep_dir = out / arch / "report"
    if not (rep_dir / "report.json").is_file():
        _stage(f"evaluate {arch} on {args.split}")
        evaluate(run, args.data, out=rep_dir, split=args.split, n_iter=args.iterations, seed=args.seed, progress=False)
    doc = json.loads((rep_dir / "report.json").read_text())
    rec = doc["overall"]["conditions"]["recon"]
    row = {"arch": arch, "run": str(run), "clips": doc["overall"]["n_clips"],
           "words": rec["words"]["accuracy"], "words_ci": rec["words"]["ci"],
           "stoi": rec["metrics"]["stoi"]["mean"], "estoi": rec["metrics"]["estoi"]["mean"],
           "corr2d": rec["metrics"]["corr2d"]["mean"],
           "oracle_words": doc["overall"]["conditions"]["oracle"]["words"]["accuracy"],
           "chance": doc["chance"]["accuracy"]}
    row.update(_throughput(run))
    hist = (Path(run) / "history.csv").read_text().strip().splitlines()
    header = hist[0].split(",")
    losses = [float(r.split(",")[header.index("val_loss")]) for r in hist[1:]]
    row["best_epoch"] = 1 + losses.index(min(losses))
    row["epochs"] = len(losses)
    align = Path(run) / "alignment.json"
    if align.is_file():
        row["alignment"] = json.loads(align.read_text())["message"]
    row["inference_ms"] = _inference_ms(run, args.data)
    row["loadavg_1min"] = os.getloadavg()[0]
    return row


def _table(rows) -> str:
    lines = ["| family | epochs (best on val) | words [95 % CI] | STOI | ESTOI | Corr2D | train clips/s | epoch over "
             "850 clips | inference ms / 3 s clip |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cps = f"{r['clips_per_s']:.2f}" if r.get("clips_per_s") else "n/a"
        ep = f"{r['epoch_s_850']:.0f} s" if r.get("epoch_s_850") else "n/a"
        lines.append(f"| {r['arch']} | {r['epochs']} ({r['best_epoch']}) | {100 * r['words']:.1f} % "
                     f"[{100 * r['words_ci'][0]:.1f}, {100 * r['words_ci'][1]:.1f}] | {r['stoi']:.3f} | {r['estoi']:.3f} | "
                     f"{r['corr2d']:.3f} | {cps} | {ep} | {r['inference_ms']:.0f} |")
    if rows:
        lines.append(f"\nGrammar chance {100 * rows[0]['chance']:.0f} %; oracle (aud2wav of the true spectrogram) "
                     f"{100 * rows[0]['oracle_words']:.1f} % of words; {rows[0]['clips']} clips. Targets (issue 13): "
                     f"STOI >= {TARGET['stoi']}, ESTOI >= {TARGET['estoi']}, words >= {100 * TARGET['words']:.0f} %.")
        for r in rows:
            if r.get("alignment"):
                lines.append(f"- {r['arch']}: {r['alignment']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="prepared folder (or dataset.h5)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--arch", action="append", default=[], help="family to train and evaluate (repeatable)")
    ap.add_argument("--run", action="append", default=[], metavar="ARCH=RUN", help="use an existing run for ARCH")
    ap.add_argument("--model-config", action="append", default=[], metavar="ARCH=FILE",
                    help="train ARCH with train_main --model-config FILE (repeatable)")
    ap.add_argument("--epochs", type=int, default=5, help="training budget per family (epochs)")
    ap.add_argument("--autoencoder", help="autoencoder run (window network without bottleneck targets)")
    ap.add_argument("--split", default="seen/test")
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from lip2audspec.data.dataset import dataset_file
    from lip2audspec.fileio import write_json_atomic

    args.data = dataset_file(args.data)
    args.out.mkdir(parents=True, exist_ok=True)
    runs, model_configs = _pairs(ap, "--run", args.run), _pairs(ap, "--model-config", args.model_config)
    archs = list(dict.fromkeys([*runs, *args.arch]))
    config_changes = {}  # each file read once, up front: recorded in the summary, a bad one stops nothing hours in
    for arch, path in model_configs.items():
        if arch in runs or arch not in archs:
            ap.error(f"--model-config {arch}={path}: {arch} is not trained here (give it with --arch, not --run)")
        if not Path(path).is_file():
            ap.error(f"--model-config {arch}={path}: no such file")
        try:
            config_changes[arch] = json.loads(Path(path).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            ap.error(f"--model-config {arch}={path}: not readable JSON ({exc})")
    rows = []
    for arch in archs:
        run = Path(runs[arch]) if arch in runs else args.out / arch / "run"
        if arch not in runs:
            extra = ["--autoencoder", args.autoencoder] if args.autoencoder else []
            if arch in model_configs:
                extra += ["--model-config", model_configs[arch]]
            _train(arch, args.data, run, args.epochs, args.seed, extra)
        rows.append(_row(arch, run, args.out, args))
        _stage(f"{arch}: words {rows[-1]['words']:.3f}, STOI {rows[-1]['stoi']:.3f}, ESTOI {rows[-1]['estoi']:.3f}")
    table = _table(rows)
    print(table)
    (args.out / "table.md").write_text(table + "\n")
    write_json_atomic(args.out / "summary.json", {"seed": args.seed, "split": args.split, "rows": rows,
                                                  "aud2wav_iterations": args.iterations,
                                                  "model_configs": config_changes})
    if rows:  # the families side by side (paired word differences against the first, example clips)
        from lip2audspec.evaluation.compare import write_comparison

        write_comparison(args.out / "comparison", {r["arch"]: args.out / r["arch"] / "report" for r in rows},
                         title="Lip-to-speech families side by side")
        _stage(f"side-by-side report: {args.out / 'comparison' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

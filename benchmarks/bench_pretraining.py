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
printed and written to ``OUT/table.md``. With ``--words``, every run is also evaluated in full (aud2wav,
the offline GRID recogniser: word accuracy beside grammar chance 19 %, STOI, ESTOI) on ``--split``, after
all curve points have trained: ``OUT/words.jsonl`` (resumable) and ``OUT/words.md``.

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


STARTS = ("scratch", "init")


def _run_dir(out: Path, start: str, n: int, seed: int) -> Path:
    return out / "runs" / f"{start}_n{n}_s{seed}"


def _read_jsonl(path: Path) -> list:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.is_file() else []


def _append_jsonl(path: Path, record: dict, records: list) -> None:
    """One result line (appended at once, so an interrupted run keeps every finished point) and in memory."""
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
    records.append(record)


def _pending(records: list, seeds, clips):
    """``(clips, seed, start)`` of the curve without a record yet; seeds outermost: one complete curve first."""
    done = {(r["clips"], r["seed"], r["start"]) for r in records}
    for seed in seeds:
        for n in clips:
            for start in STARTS:
                if (n, seed, start) not in done:
                    yield n, seed, start


def _by_seed(records: list, n: int, seeds) -> tuple:
    """``({start: {seed: record}}, seeds both starts have)`` of the records at ``n`` clips."""
    row = {st: {r["seed"]: r for r in records if r["clips"] == n and r["start"] == st and r["seed"] in seeds}
           for st in STARTS}
    return row, sorted(set(row["scratch"]) & set(row["init"]))


def _words(run: Path, args) -> dict:
    """Word accuracy (and STOI / ESTOI) of the run's ``best.keras`` on ``--split``: the full evaluation
    (aud2wav ``--iterations``, the offline GRID recogniser), report in ``RUN/eval``, no sync expert."""
    from lip2audspec.evaluation.evaluate import evaluate

    doc = evaluate(run, args.data, out=run / "eval", split=args.split, n_iter=args.iterations, seed=0, progress=False,
                   report_clips=0, sync_model=None)
    rec = doc["overall"]["conditions"]["recon"]
    return {"test_words": rec["words"]["accuracy"], "test_words_ci": rec["words"]["ci"],
            "test_stoi": rec["metrics"]["stoi"]["mean"], "test_estoi": rec["metrics"]["estoi"]["mean"],
            "oracle_words": doc["overall"]["conditions"]["oracle"]["words"]["accuracy"],
            "n_test": doc["overall"]["n_clips"]}


def _words_table(words: list, clips: list, seeds: list) -> str:
    import numpy as np

    lines = ["| training clips | from scratch: words (mean +- sd over seeds) | fine-tuned: words | difference (paired "
             "by seed) | STOI scratch / fine-tuned | seeds |", "|---|---|---|---|---|---|"]
    for n in clips:
        row, paired = _by_seed(words, n, seeds)
        if not paired:
            continue
        w = {st: np.array([100 * row[st][s]["test_words"] for s in paired]) for st in row}
        st_ = {st: np.mean([row[st][s]["test_stoi"] for s in paired]) for st in row}
        d = w["init"] - w["scratch"]
        lines.append(f"| {n} | {w['scratch'].mean():.1f} % +- {w['scratch'].std():.1f} | {w['init'].mean():.1f} % +- "
                     f"{w['init'].std():.1f} | {d.mean():+.1f} points (min {d.min():+.1f}) | {st_['scratch']:.3f} / "
                     f"{st_['init']:.3f} | {len(paired)} |")
    if len(lines) > 2:
        oracle = next(iter(words))["oracle_words"]
        lines.append(f"\nGrammar chance 19 %; oracle (aud2wav of the true spectrogram) {100 * oracle:.1f} % of words; "
                     f"{next(iter(words))['n_test']} test clips.")
    return "\n".join(lines)


def _table(results: list, clips: list, seeds: list) -> str:
    import numpy as np

    lines = ["| training clips | from scratch: test Corr2D (mean +- sd) | fine-tuned: test Corr2D | difference | "
             "scratch / fine-tuned val Corr2D | seeds |", "|---|---|---|---|---|---|"]
    for n in clips:
        row, paired = _by_seed(results, n, seeds)
        if not row["scratch"] or not row["init"]:
            continue
        t = {k: np.array([r["test_corr2d"] for r in v.values()]) for k, v in row.items()}
        v = {k: np.array([r["val_corr2d"] for r in v.values()]) for k, v in row.items()}
        diff = [row["init"][s]["test_corr2d"] - row["scratch"][s]["test_corr2d"] for s in paired]
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
    ap.add_argument("--words", action="store_true",
                    help="also score word accuracy, STOI and ESTOI of every run on --split (full evaluation with "
                         "aud2wav; minutes per run); results in OUT/words.jsonl, table in OUT/words.md")
    ap.add_argument("--words-seeds", type=int, nargs="+", help="seeds scored in words (default: all --seeds)")
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations of --words (default 20)")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not (args.init / "best.keras").is_file():
        ap.error(f"--init {args.init} has no best.keras: give a finished train_main run")
    args.out.mkdir(parents=True, exist_ok=True)
    res_path = args.out / "results.jsonl"
    results = _read_jsonl(res_path)
    for n, seed, start in _pending(results, args.seeds, args.clips):
        run = _run_dir(args.out, start, n, seed)
        _stage(f"{start} n={n} seed={seed}: train")
        t0 = time.perf_counter()
        _train(run, args, n, seed, start == "init")
        secs = time.perf_counter() - t0
        val, test = _corr2d(run, args.data, ["seen/val", args.split])
        r = {"clips": n, "seed": seed, "start": start, "epochs": args.epochs, "arch": args.arch,
             "init": str(args.init) if start == "init" else None, "train_s": secs,
             "val_corr2d": val, "test_corr2d": test, "loadavg_1min": os.getloadavg()[0]}
        _stage(f"  val Corr2D {r['val_corr2d']:.3f}, test Corr2D {r['test_corr2d']:.3f} ({secs:.0f} s)")
        _append_jsonl(res_path, r, results)
    table = _table(results, args.clips, args.seeds)
    (args.out / "table.md").write_text(table + "\n")
    print(table)
    if args.words:  # second pass (after every curve point has trained), resumable like the first
        words_path = args.out / "words.jsonl"
        words = _read_jsonl(words_path)
        seeds = args.words_seeds or args.seeds
        for n, seed, start in _pending(words, seeds, args.clips):
            _stage(f"{start} n={n} seed={seed}: words on {args.split}")
            r = {"clips": n, "seed": seed, "start": start, **_words(_run_dir(args.out, start, n, seed), args)}
            _stage(f"  words {100 * r['test_words']:.1f} %, STOI {r['test_stoi']:.3f}")
            _append_jsonl(words_path, r, words)
        wt = _words_table(words, args.clips, seeds)
        (args.out / "words.md").write_text(wt + "\n")
        print("\n" + wt)
    return 0


if __name__ == "__main__":
    sys.exit(main())

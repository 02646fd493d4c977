"""``lip2audspec evaluate -m RUN_DIR --data PREPARED --split test -o REPORT_DIR``."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("-m", "--model", required=True, metavar="RUN_DIR", help="lip network run folder (train_main)")
    parser.add_argument("--data", help="prepared folder or dataset.h5 (default: the run's)")
    parser.add_argument("--split", default="test", help="test (= seen/test), unseen (= unseen/test), val, or a full split name")
    parser.add_argument("-o", "--out", required=True, help="report folder (report.json, report.md, index.html, clips/)")
    parser.add_argument("--iterations", type=int, default=20, help="aud2wav iterations (default 20)")
    parser.add_argument("--clips-per-speaker", type=int, help="evaluate at most N clips per speaker")
    parser.add_argument("--report-clips", type=int, default=3, help="clips per speaker with images and audio in index.html")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of aud2wav's random restarts, derived per clip (default 0; recorded in report.json)")
    parser.add_argument("--grid-dir", help="GRID folder with the original audio (default: from the dataset manifest)")
    parser.add_argument("--screenshot", action="store_true", help="also render index.html to screenshot.png with headless Chromium")
    parser.add_argument("--sync-model", default="default",
                        help="lip-sync expert for the LSE-D / LSE-C columns (run folder or bundled name; default: the "
                             "bundled one if any; 'none': no sync scores)")
    parser.add_argument("--voice-f0", type=_voice_f0, metavar="HZ|auto",
                        help="impose a steady voice's harmonics at this pitch on the reconstruction before aud2wav "
                             "('auto': the speaker's pitch from the dataset's training targets; default: none, as published)")
    parser.add_argument("--quiet", action="store_true")


def _voice_f0(value: str):
    import argparse

    if value == "auto":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a pitch in Hz or 'auto', got {value!r}") from None


def run(args) -> int:
    from pathlib import Path

    from ..evaluation.evaluate import evaluate

    doc = evaluate(args.model, args.data, out=args.out, split=args.split, n_iter=args.iterations,
                   clips_per_speaker=args.clips_per_speaker, report_clips=args.report_clips, grid_dir=args.grid_dir,
                   seed=args.seed, progress=not args.quiet,
                   sync_model=None if args.sync_model == "none" else args.sync_model, voice_f0=args.voice_f0)
    print(_summary_text(doc))
    print(f"report: {Path(args.out).resolve() / 'index.html'}")
    if args.screenshot:
        from ..evaluation.browser import screenshot

        png = screenshot(Path(args.out) / "index.html", Path(args.out) / "screenshot.png")
        print(f"screenshot: {png}")
    return 0


def _summary_text(doc: dict) -> str:
    from ..evaluation.report import CONFUSION_SLOTS, format_ci, format_confusions

    conds = doc.get("overall", {}).get("conditions", {})
    lines = [f"seed: {doc['seed']}"] if "seed" in doc else []
    for cond in ("oracle", "recon"):
        m = conds.get(cond, {}).get("metrics", {})
        vals = ", ".join(f"{k} {format_ci(v['mean'], v.get('ci'))}" for k, v in m.items() if v.get("mean") is not None)
        lines.append(f"{cond:9s} {vals}")
    sync = [f"{c} LSE-D {conds[c]['metrics']['lse_d']['mean']:.3f} / LSE-C {conds[c]['metrics']['lse_c']['mean']:.3f}"
            for c in ("original", "recon") if "lse_d" in (conds.get(c) or {}).get("metrics", {})]
    if sync:
        lines.append("lip sync: " + ", ".join(sync) + " (our SyncNet expert: not comparable with published LSE values)")
    acc = [f"{c} {format_ci(conds[c]['words']['accuracy'], conds[c]['words'].get('ci'), percent=True)}"
           for c in ("original", "oracle", "recon") if (conds.get(c) or {}).get("words")]
    b = doc.get("bootstrap")
    lines.append("word accuracy: " + ", ".join(acc)
                 + (f"  (in brackets: {100 * b['level']:.0f} % bootstrap intervals over clips, {b['resamples']} resamples, seed {b['seed']})" if b else ""))
    if doc.get("chance"):
        lines.append(f"grammar chance: {100 * doc['chance']['accuracy']:.1f} %")
    cm = (conds.get("recon") or {}).get("confusion") or {}
    for slot in CONFUSION_SLOTS:
        if slot in cm:
            lines.append(f"recon {slot} confusions: {format_confusions(cm[slot])}")
    return "\n".join(lines)

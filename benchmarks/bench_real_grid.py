"""Lip2AudSpec on real GRID speaker s1: prepare, train, evaluate on the fixed test split, one table.

Real GRID s1 (Cooke, Barker, Cunningham & Shao 2006, CC BY 4.0): the 1000 clips in GRID's layout
(``s1/*.mpg`` with the camera's MP2 audio track, ``alignments/s1/*.align``), split by
``../shared/real_grid/s1_split.json`` (850 train / 50 val / 100 test). Every stage is resumable (rerun the
same command to continue) and writes into ``--out``:

1. ``prepared/``: ``lip2audspec prepare`` with the split file, landmark mouth crops at the ``small``
   preset's 48 px, speech from the video container (``audio_source`` recorded);
2. ``runs/ae``, ``runs/lip``: the ``small`` autoencoder and lip network trained on ``seen/train``,
   chosen on ``seen/val`` (``best.keras`` = lowest validation loss; its epoch is reported);
3. ``report/``: ``evaluate`` on the 100 test clips (original / oracle / reconstruction; Corr2D, STOI,
   ESTOI, PESQ-NB/WB, word accuracy with 95 % bootstrap intervals and the grammar-chance line);
4. ``--final``: the chosen models retrained on ``seen/train+seen/val`` for the epochs the train-only
   runs chose (``runs/ae_final``, ``runs/lip_final``), and with ``--bundle NAME`` bundled with its model
   card into ``--bundle-dir`` (default: the package's ``lip2audspec/pretrained/models``).

Prints one table (figures of the test split) beside the published GRID figures, training times, best
epochs, and writes ``learning_curves.png`` and ``summary.json``. Run::

    python benchmarks/bench_real_grid.py --grid /path/to/grid --out real_s1   # (+ --final --bundle grid-s1)

No file of the corpus is written into the project.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parents[1]
SPLIT_FILE = ROOT.parent / "shared" / "real_grid" / "s1_split.json"

# Published GRID figures (4 speakers s1 s2 s4 s29; the Lip2AudSpec row is Lip2Wav's re-run of it; their
# PESQ may be raw P.862 where ours is MOS-LQO, their WER from Google's ASR where ours is pocketsphinx + the
# GRID grammar). Word accuracy = 1 - WER.
PUBLISHED = {
    "Lip2AudSpec (Lip2Wav's re-run)": {"stoi": 0.513, "estoi": 0.352, "pesq": 1.673, "words": 1 - 0.325},
    "Lip2Wav": {"stoi": 0.731, "estoi": 0.535, "pesq": 1.772, "words": 1 - 0.141},
    "VCA-GAN": {"stoi": 0.724, "estoi": 0.609, "pesq": 2.008, "words": 1 - 0.123},
}
TARGET = {"stoi": 0.51, "estoi": 0.35, "words": 0.40}


def _stage(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _best_epoch(run: Path) -> int:
    import csv

    with open(run / "history.csv") as fh:
        rows = list(csv.DictReader(fh))
    return 1 + min(range(len(rows)), key=lambda i: float(rows[i]["val_loss"]))


def _train(kind, data, run, *, epochs, seed, train_split="seen/train", ae=None, times: dict):
    from lip2audspec.training import TrainConfig, train_autoencoder, train_lipnet, train_or_resume

    tc = TrainConfig(epochs=epochs, seed=seed, verbose=2, tensorboard=False, train_split=train_split,
                     patience=max(6, epochs))
    fn = train_autoencoder if kind == "autoencoder" else train_lipnet
    kw = {"autoencoder_run": ae} if ae is not None else {}
    res = train_or_resume(fn, data, run, train_config=tc, **kw)
    if res.get("seconds"):
        times[run.name] = times.get(run.name, 0.0) + float(res["seconds"])
    return res


def _fmt(m, key, digits=3, pct=False):
    v = m.get(key)
    if not v or v.get("mean") is None:
        return ""
    f = (lambda x: f"{x * 100:.1f}") if pct else (lambda x: f"{x:.{digits}f}")
    ci = v.get("ci")
    return f"{f(v['mean'])}{' %' if pct else ''}" + (f" [{f(ci[0])}, {f(ci[1])}]" if ci else "")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", required=True, help="GRID folder with s1/*.mpg and alignments/s1/*.align")
    ap.add_argument("--out", default="real_s1", help="work folder (resumable)")
    ap.add_argument("--split-file", default=str(SPLIT_FILE))
    ap.add_argument("--cropper", default="landmarks", choices=["landmarks", "haar", "mask"])
    ap.add_argument("--ae-epochs", type=int, default=20)
    ap.add_argument("--lip-epochs", type=int, default=25)
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--final", action="store_true", help="retrain the chosen models on train+val")
    ap.add_argument("--bundle", help="bundle the models under this name (with --final: the retrained ones; without: "
                                     "the train-only runs chosen on val)")
    ap.add_argument("--bundle-dir", default=str(ROOT / "lip2audspec" / "pretrained" / "models"))
    args = ap.parse_args(argv)

    from lip2audspec.data.crop import CropConfig
    from lip2audspec.data.dataset import read_split_file
    from lip2audspec.data.prepare import PrepareConfig, prepare_grid
    from lip2audspec.evaluation.evaluate import evaluate
    from lip2audspec.models import preset

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    times_path = out / "times.json"
    times = json.loads(times_path.read_text()) if times_path.is_file() else {}
    small = preset("small")

    _stage("prepare (resumable)")
    t0 = time.perf_counter()
    config = PrepareConfig(crop=CropConfig(method=args.cropper, size=small.lipnet.crop_size),
                           splits=read_split_file(args.split_file), seed=args.seed)
    prep = prepare_grid(args.grid, out / "prepared", speakers=["s1"], config=config, workers=args.workers,
                        progress=False)
    times.setdefault("prepare", time.perf_counter() - t0)
    print(f"  {prep['clips']} clips, {prep['excluded']} excluded, splits {prep['splits']}")

    runs = out / "runs"
    _stage(f"autoencoder on seen/train ({args.ae_epochs} epochs, chosen on seen/val)")
    _train("autoencoder", out / "prepared", runs / "ae", epochs=args.ae_epochs, seed=args.seed, times=times)
    _stage(f"lip network on seen/train ({args.lip_epochs} epochs, chosen on seen/val)")
    _train("lipnet", out / "prepared", runs / "lip", epochs=args.lip_epochs, seed=args.seed, ae=runs / "ae",
           times=times)
    times_path.write_text(json.dumps(times, indent=2))
    best = {"ae": _best_epoch(runs / "ae"), "lip": _best_epoch(runs / "lip")}

    _stage("evaluate on the 100 test clips")
    report = out / "report"
    if not (report / "report.json").is_file():
        evaluate(runs / "lip", out / "prepared", out=report, split="seen/test", n_iter=args.iterations,
                 seed=args.seed, progress=False)
    doc = json.loads((report / "report.json").read_text())

    from lip2audspec.plots import _pyplot, plot_history, save_figure

    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    plot_history(runs / "ae", ax=axes[0], title="autoencoder (s1 train / val)")
    plot_history(runs / "lip", ax=axes[1], title="lip network (s1 train / val)")
    save_figure(fig, out / "learning_curves.png")

    _figure(out, runs, args, plt)
    conds = doc["overall"]["conditions"]
    chance = doc.get("chance", {}).get("accuracy")
    print()
    print(f"Real GRID s1, {doc['meta']['clips']} test clips, speech from the video's audio track (camera MP2, "
          f"16 kHz), aud2wav {args.iterations} iterations, seed {args.seed}; 95 % bootstrap intervals")
    print("| condition | Corr2D | STOI | ESTOI | PESQ-NB | PESQ-WB | word accuracy |")
    print("|---|---|---|---|---|---|---|")
    for c, label in (("original", "original speech"), ("oracle", "oracle aud2wav(wav2aud(x))"),
                     ("recon", "Lip2AudSpec small (ours)")):
        m = conds.get(c, {}).get("metrics", {})
        w = conds.get(c, {}).get("words") or {}
        acc = {"accuracy": {"mean": w.get("accuracy"), "ci": w.get("ci")}} if w else {}
        print(f"| {label} | {_fmt(m, 'corr2d')} | {_fmt(m, 'stoi')} | {_fmt(m, 'estoi')} | {_fmt(m, 'pesq_nb', 2)} | "
              f"{_fmt(m, 'pesq_wb', 2)} | {_fmt(acc, 'accuracy', pct=True)} |")
    if chance is not None:
        print(f"| grammar chance (uniform guess per slot) | | | | | | {chance * 100:.1f} % |")
    for name, p in PUBLISHED.items():
        print(f"| {name}, published (4 speakers) | | {p['stoi']:.3f} | {p['estoi']:.3f} | {p['pesq']:.3f} (P.862?) | | "
              f"{p['words'] * 100:.1f} % (Google ASR) |")
    r = conds["recon"]
    got = {"stoi": r["metrics"]["stoi"]["mean"], "estoi": r["metrics"]["estoi"]["mean"], "words": r["words"]["accuracy"]}
    print("target (published Lip2AudSpec level): " + ", ".join(
        f"{k} {got[k]:.3f} {'>=' if got[k] >= v else '<'} {v}" for k, v in TARGET.items()))
    print(f"best epochs on val: autoencoder {best['ae']}/{args.ae_epochs}, lip network {best['lip']}/{args.lip_epochs}")
    print("training time: " + ", ".join(f"{k} {v / 60:.1f} min" for k, v in times.items()))
    print(f"learning curves: {out / 'learning_curves.png'}; report: {report / 'index.html'}")

    summary = {"seed": args.seed, "clips": doc["meta"]["clips"], "best_epochs": best, "times_s": times,
               "recon": got, "oracle": {"stoi": conds["oracle"]["metrics"]["stoi"]["mean"],
                                        "words": conds["oracle"]["words"]["accuracy"]},
               "original_words": conds["original"]["words"]["accuracy"], "chance": chance,
               "epochs": {"ae": args.ae_epochs, "lip": args.lip_epochs}}

    if args.final:
        _stage(f"retrain on seen/train+seen/val for the chosen epochs (ae {best['ae']}, lip {best['lip']})")
        _train("autoencoder", out / "prepared", runs / "ae_final", epochs=best["ae"], seed=args.seed,
               train_split="seen/train+seen/val", times=times)
        # the final lip network learns the final autoencoder's codes: its own copy of the dataset's targets
        final_data = out / "prepared_final"
        if not (final_data / "dataset.h5").is_file():
            import shutil

            final_data.mkdir(exist_ok=True)
            shutil.copy2(out / "prepared" / "dataset.h5", final_data / ".dataset.h5.tmp")
            import h5py

            with h5py.File(final_data / ".dataset.h5.tmp", "a") as h5:
                if "bottleneck" in h5:
                    del h5["bottleneck"]
                from lip2audspec.data.dataset import DatasetSpec

                spec = DatasetSpec.from_json(h5.attrs["spec"])
                h5.attrs["spec"] = spec.replace(derived={}).to_json()
            (final_data / ".dataset.h5.tmp").rename(final_data / "dataset.h5")
        _train("lipnet", final_data, runs / "lip_final", epochs=best["lip"], seed=args.seed,
               train_split="seen/train+seen/val", ae=runs / "ae_final", times=times)
        times_path.write_text(json.dumps(times, indent=2))
        summary["final"] = {"ae_epochs": best["ae"], "lip_epochs": best["lip"]}
    if args.bundle:
        _bundle(args, out, runs, summary, doc, final=args.final)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return 0


def _figure(out, runs, args, plt):
    """One test clip: mouth crops, true / oracle / reconstructed auditory spectrograms."""
    import numpy as np

    from lip2audspec.auditory import aud2wav, wav2aud
    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.data.targets import auditory_target, spectrogram_from_target
    from lip2audspec.plots import plot_auditory_spectrogram, plot_crops, save_figure
    from lip2audspec.reconstruct import Reconstructor
    from lip2audspec.seeding import derived_rng

    rec = Reconstructor(runs / "lip", n_iter=args.iterations, seed=args.seed)
    tcfg, p = rec.target_config, rec.target_config.auditory
    with GridDataset(out / "prepared") as ds:
        i = int(ds.split("seen/test")[0])
        uid, crops, true = str(ds.ids[i]), ds.array("crops", i), ds.array("spec", i)
    r = rec.from_crops(crops, key=f"s1/{uid}")
    true_spec = spectrogram_from_target(true, config=tcfg)
    oracle = aud2wav(true_spec, n_iter=args.iterations, rng=derived_rng(args.seed, "figure", uid), **p.to_dict())
    oracle_target = auditory_target(oracle.x_best, n_video_frames=crops.shape[0], config=tcfg)
    fig, axes = plt.subplots(4, 1, figsize=(9, 9.5), gridspec_kw=dict(height_ratios=[1, 2, 2, 2]))
    plot_crops(crops, n=12, ax=axes[0], title=f"real GRID s1 test clip {uid}: landmark mouth crops (48x48)")
    for ax, spec, title in ((axes[1], true_spec, "true (camera audio track)"),
                            (axes[2], spectrogram_from_target(oracle_target, config=tcfg),
                             f"oracle aud2wav(wav2aud(x)), {args.iterations} iterations"),
                            (axes[3], np.maximum(r.spectrogram, 0), "reconstructed from the lips (small preset)")):
        plot_auditory_spectrogram(spec, frame_ms=p.frame_ms, ax=ax, title=title)
    fig.tight_layout()
    save_figure(fig, out / "real_grid_s1.png")


def card_figures(doc: dict) -> dict:
    """A model card's test figures from an evaluation's ``report.json``: the metric means of the oracle and
    the reconstruction, and the word accuracy of the original, oracle and reconstruction (also used by
    bundle_sequence_model.py)."""
    conds = doc["overall"]["conditions"]
    figs = {c: {k: v.get("mean") for k, v in conds[c]["metrics"].items()} for c in ("oracle", "recon")}
    for c in ("original", "oracle", "recon"):
        figs.setdefault(c, {})["word_accuracy"] = conds[c]["words"]["accuracy"]
    return figs


def fixture_check(name: str, *, root, split_file, n_iter: int, seed: int) -> dict:
    """The bundled model's ``fixture_check`` on the test-split clips of the real s1 fixture in ../shared (the
    package's tests reproduce it; also used by bundle_sequence_model.py)."""
    from lip2audspec.evaluation.spectral import bundle_fixture_check

    fixture = ROOT.parent / "shared" / "real_grid" / "s1_fixture" / "s1"
    test_ids = set(json.loads(Path(split_file).read_text())["test"])
    videos = sorted(v for v in fixture.glob("*.mpg") if v.stem in test_ids)
    return bundle_fixture_check(name, videos, root=root, n_iter=n_iter, seed=seed)


def _bundle(args, out, runs, summary, doc, *, final: bool):
    from lip2audspec.pretrained.bundles import make_bundle

    figs = card_figures(doc)
    command = (f"TF_ENABLE_ONEDNN_OPTS=1 python benchmarks/bench_real_grid.py --grid GRID --out OUT --ae-epochs "
               f"{args.ae_epochs} --lip-epochs {args.lip_epochs} --seed {args.seed}{' --final' if final else ''} "
               f"--bundle {args.bundle}")
    best = summary["best_epochs"]
    lip_run, ae_run = (runs / "lip_final", runs / "ae_final") if final else (runs / "lip", runs / "ae")
    if final:
        trained = (f"Epochs chosen on val ({best['ae']} autoencoder, {best['lip']} lip network), then retrained on "
                   f"train + val for those epochs (seed {args.seed}).")
        data = "real GRID speaker s1, 900 clips (train 850 + val 50 of s1_split.json)"
    else:
        trained = (f"Trained on the 850 train clips; the checkpoints with the lowest val loss are shipped (autoencoder "
                   f"epoch {best['ae']} of {args.ae_epochs}, lip network epoch {best['lip']} of {args.lip_epochs}; seed "
                   f"{args.seed}). Not retrained on train + val.")
        data = "real GRID speaker s1, the 850 train clips of s1_split.json (val 50 for choosing)"
    card = {
        "description": "Lip2AudSpec (small preset) for GRID speaker s1: silent video of s1's lips -> speech",
        "training_data": data,
        "split": "s1_split.json: 850 train / 50 val / 100 test; " + trained,
        "audio_source": "video (the camera's MP2 track inside each .mpg, 16 kHz)",
        "seed": args.seed, "command": command,
        "epochs": {"ae": best["ae"], "lip": best["lip"]},
        "test_figures": {"clips": doc["meta"]["clips"], "split": "seen/test (100 clips)",
                         "model_evaluated": "the train-only runs chosen on val (runs/ae, runs/lip)", **figs},
    }
    r, o = figs["recon"], figs["oracle"]
    md = f"""# grid-s1: Lip2AudSpec (small) for GRID speaker s1

Speech from silent video of **GRID speaker s1** (a man filmed frontally in GRID's studio setting).
A lip network (CNN-LSTM-FC, `small` preset, 48x48 landmark mouth crops, 2 frames of context) predicts the
32-dimensional bottleneck codes of an auditory-spectrogram autoencoder (NSL `wav2aud [10 10 -2 0]`);
the decoder and `aud2wav` (20 iterations) turn them into 16 kHz speech.

**What it is for:** one speaker, s1, in GRID's recording conditions. It is not a general lip-to-speech
model: on other speakers, faces, lighting or framing expect unintelligible output (`reconstruct` warns
when the mouth crops do not look like s1's training crops). Other real GRID speakers were not available
to us, so its behaviour on them is not measured.

**Training data:** real GRID speaker s1 (Cooke, Barker, Cunningham & Shao 2006, *An audio-visual corpus
for speech perception and automatic speech recognition*; licence CC BY 4.0): {data}; fixed split
`s1_split.json` (850 / 50 / 100), speech from the camera's audio track in each `.mpg`. {trained}

**Test figures** (100 test clips, models trained on train only and chosen on val{'' if final else ': these weights'};
`{command}`):

| | STOI | ESTOI | PESQ-NB | Corr2D | word accuracy (pocketsphinx + GRID grammar) |
|---|---|---|---|---|---|
| reconstruction | {r['stoi']:.3f} | {r['estoi']:.3f} | {r['pesq_nb']:.2f} | {r['corr2d']:.3f} | {figs['recon']['word_accuracy'] * 100:.1f} % |
| oracle `aud2wav(wav2aud(x))` | {o['stoi']:.3f} | {o['estoi']:.3f} | {o['pesq_nb']:.2f} | {o['corr2d']:.3f} | {figs['oracle']['word_accuracy'] * 100:.1f} % |
| original speech | | | | | {figs['original']['word_accuracy'] * 100:.1f} % |

Grammar chance (a uniform guess per word slot) is 19.0 %. Use: `lip2audspec reconstruct CLIP.mpg -m grid-s1
-o speech.wav`, or `lip2audspec.pretrained.load("grid-s1").reconstructor()`.

Credits: GRID corpus (CC BY 4.0); Lip2AudSpec (Akbari, Arora, Cao, Mesgarani, ICASSP 2018); the NSL
toolbox (Chi, Ru, Shamma) for the auditory spectrogram.
"""
    def bundle():
        return make_bundle(args.bundle, lip_run=lip_run, autoencoder_run=ae_run, out_dir=args.bundle_dir, card=card,
                           card_markdown=md, dataset=out / "prepared",
                           split="seen/train+seen/val" if final else "seen/train", which="last" if final else "best",
                           overwrite=True)

    bundle()
    # the shipped weights' own figures on the test-split clips of the fixture in ../shared (the package's
    # test of the bundle reproduces them), then the bundle again with them in its card (same weights)
    fx = card["fixture_check"] = fixture_check(args.bundle, root=args.bundle_dir, split_file=args.split_file,
                                               n_iter=args.iterations, seed=args.seed)
    print(f"  fixture test clips ({len(fx['clips'])}): Corr2D {fx['corr2d']:.3f}, STOI {fx['stoi']:.3f}")
    dest = bundle()
    _stage(f"bundled {dest}")


if __name__ == "__main__":
    sys.exit(main())

"""Train the `small` presets on a synthetic corpus and print the quality and speed figures.

Prints: autoencoder held-out frame correlation (seen/test clips; target >= 0.98, the paper's figure),
lip network held-out Corr2D between the predicted and true auditory spectrograms (seen speakers),
training samples/second for both models, and inference time per 3 s clip (lip network on every window
+ decoder). Run: ``python benchmarks/bench_models.py [--speakers 4 --utterances 60] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench_models_out", help="working folder (corpus, prepared data, runs)")
    ap.add_argument("--speakers", type=int, default=4)
    ap.add_argument("--utterances", type=int, default=60)
    ap.add_argument("--cropper", default="haar", choices=["haar", "landmarks", "mask"])
    ap.add_argument("--ae-epochs", type=int, default=40)
    ap.add_argument("--lip-epochs", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--context", type=int, default=None, help="lip network context frames (default: the preset's)")
    args = ap.parse_args(argv)

    from lip2audspec.data.crop import CropConfig
    from lip2audspec.data.prepare import PrepareConfig, prepare_grid
    from lip2audspec.corpora.synthetic import generate_corpus
    from lip2audspec.evaluation import score_autoencoder, score_lipnet
    from lip2audspec.models import preset
    from lip2audspec.training import RunDir, TrainConfig, train_autoencoder, train_lipnet

    out = Path(args.out)
    t0 = time.perf_counter()
    generate_corpus(out / "grid", speakers=args.speakers, utterances=args.utterances, seed=1, workers=args.workers, progress=False)
    t_gen = time.perf_counter() - t0
    p = preset("small")
    t0 = time.perf_counter()
    prepare_grid(out / "grid", out / "prepared", config=PrepareConfig(crop=CropConfig(method=args.cropper, size=p.lipnet.crop_size)),
                 workers=args.workers, progress=False)
    t_prep = time.perf_counter() - t0
    data = out / "prepared" / "dataset.h5"
    print(f"corpus: {args.speakers} speakers x {args.utterances} clips ({t_gen:.0f} s); prepared in {t_prep:.0f} s")

    tc = TrainConfig(epochs=args.ae_epochs, verbose=0, tensorboard=False, patience=8)
    ae = train_autoencoder(data, out / "runs" / "ae", train_config=tc, overwrite=True)
    ae_scores = score_autoencoder(out / "runs" / "ae", data, split="seen/test")
    print(f"autoencoder: {ae['epochs_done']} epochs, {ae['samples_per_second']:.0f} frames/s; held-out frame correlation "
          f"{ae_scores['frame_r']:.4f} (target >= 0.98; louder half of the frames {ae_scores['frame_r_loud']:.4f}), "
          f"Corr2D {ae_scores['corr2d']:.4f}")

    lip = train_lipnet(data, out / "runs" / "lip", autoencoder_run=out / "runs" / "ae", overwrite=True,
                       model_config=p.lipnet.replace(context=args.context) if args.context is not None else None,
                       train_config=TrainConfig(epochs=args.lip_epochs, verbose=0, tensorboard=False, patience=8))
    lip_scores = score_lipnet(out / "runs" / "lip", out / "runs" / "ae", data, split="seen/test")
    print(f"lip network (context {RunDir(out / 'runs' / 'lip').config()['model']['context']}): {lip['epochs_done']} epochs, "
          f"{lip['samples_per_second']:.1f} windows/s; held-out Corr2D {lip_scores['corr2d']:.4f} +- "
          f"{lip_scores['corr2d_std']:.4f} over {lip_scores['n_clips']} seen-speaker test clips")
    print(f"inference per 3 s clip (lip network on every window + decoder): {lip_scores['ms_per_clip']:.0f} ms median")
    summary = {"ae_frame_correlation": ae_scores["frame_r"], "ae_frame_correlation_loud": ae_scores["frame_r_loud"],
               "ae_corr2d": ae_scores["corr2d"], "ae_frames_per_s": ae["samples_per_second"],
               "lip_corr2d": lip_scores["corr2d"], "lip_windows_per_s": lip["samples_per_second"],
               "inference_ms_per_clip": lip_scores["ms_per_clip"], "ae_epochs": ae["epochs_done"],
               "lip_epochs": lip["epochs_done"], "test_clips": lip_scores["n_clips"]}
    (out / "bench_models.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

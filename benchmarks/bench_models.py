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

import numpy as np

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
    args = ap.parse_args(argv)

    from lip2audspec.data.crop import CropConfig
    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.data.prepare import PrepareConfig, prepare_grid
    from lip2audspec.data.synthetic import generate_corpus
    from lip2audspec.evaluation import corr2d, frame_correlation_np
    from lip2audspec.inference import decode, predict_windows
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
    model = RunDir(out / "runs" / "ae").load_model("best")
    with GridDataset(data) as ds:
        test = ds.split("seen/test")
        spec_test = ds.array("spec", np.sort(test))
    rec = decode(model, model.encoder.predict(spec_test.reshape(-1, 128), verbose=0, batch_size=4096)).reshape(spec_test.shape)
    ae_r = frame_correlation_np(spec_test, rec)
    ae_c2 = float(np.mean([corr2d(a, b) for a, b in zip(spec_test, rec)]))
    print(f"autoencoder: {ae['epochs_done']} epochs, {ae['samples_per_second']:.0f} frames/s; held-out frame correlation "
          f"{ae_r:.4f} (target >= 0.98), Corr2D {ae_c2:.4f}")

    lip = train_lipnet(data, out / "runs" / "lip", autoencoder_run=out / "runs" / "ae", overwrite=True,
                       train_config=TrainConfig(epochs=args.lip_epochs, verbose=0, tensorboard=False, patience=8))
    lipnet = RunDir(out / "runs" / "lip").load_model("best")
    c2, times = [], []
    with GridDataset(data) as ds:
        for i in np.sort(test):
            crops = ds.array("crops", int(i))
            t1 = time.perf_counter()
            spec_pred = decode(model, predict_windows(lipnet, crops))
            times.append(time.perf_counter() - t1)
            c2.append(corr2d(spec_pred, ds.array("spec", int(i))))
    print(f"lip network: {lip['epochs_done']} epochs, {lip['samples_per_second']:.1f} windows/s; held-out Corr2D "
          f"{np.mean(c2):.4f} +- {np.std(c2):.4f} over {len(c2)} seen-speaker test clips")
    print(f"inference per 3 s clip (lip network on every window + decoder): {np.median(times) * 1000:.0f} ms median")
    summary = {"ae_frame_correlation": ae_r, "ae_corr2d": ae_c2, "ae_frames_per_s": ae["samples_per_second"],
               "lip_corr2d": float(np.mean(c2)), "lip_windows_per_s": lip["samples_per_second"],
               "inference_ms_per_clip": float(np.median(times) * 1000), "ae_epochs": ae["epochs_done"],
               "lip_epochs": lip["epochs_done"], "test_clips": int(len(c2))}
    (out / "bench_models.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

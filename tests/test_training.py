"""Training scripts on a tiny prepared synthetic dataset (small presets, 48x48 crops)."""

import csv
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from lip2audspec.data.dataset import GridDataset

from lip2audspec.cli.train_autoencoder import main as train_autoencoder_main  # noqa: E402
from lip2audspec.cli.train_main import main as train_main_main  # noqa: E402
from lip2audspec.inference import decode, encode, predict_windows, stitch_windows  # noqa: E402
from lip2audspec.training import RunDir, TrainConfig, train_autoencoder  # noqa: E402


@pytest.fixture(scope="module")
def data48(tiny_grid, tmp_path_factory):
    """``lip2audspec prepare`` with its defaults (no size flag): the small preset's 48x48 crops."""
    from lip2audspec.cli.main import main

    out = tmp_path_factory.mktemp("prep48")
    assert main(["prepare", str(tiny_grid), "-o", str(out), "--cropper", "haar", "--fractions", "0.6", "0.2", "0.2",
                 "--quiet"]) == 0
    with GridDataset(out) as ds:
        assert ds.spec.crop_size == 48
    return out


@pytest.fixture(scope="module")
def ae_run(data48, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "ae"
    assert train_autoencoder_main([str(data48), "--run", str(run), "--epochs", "2", "--verbose", "0", "--no-tensorboard"]) == 0
    return run


def _history(run):
    with open(run / "history.csv") as fh:
        return list(csv.DictReader(fh))


def test_autoencoder_run_folder(ae_run):
    for name in ("config.json", "model.keras", "best.keras", "history.csv", "state.json", "train.log"):
        assert (ae_run / name).is_file(), name
    cfg = json.loads((ae_run / "config.json").read_text())
    assert cfg["kind"] == "autoencoder" and cfg["model"]["bottleneck"] == 32 and cfg["train"]["epochs"] == 2
    assert len(_history(ae_run)) == 2 and json.loads((ae_run / "state.json").read_text())["epoch"] == 2
    model = RunDir(ae_run).load_model("best")
    spec = np.random.default_rng(0).random((3, 300, 128)).astype(np.float32)
    codes = encode(model, spec)
    assert codes.shape == (3, 300, 32) and codes.min() > 0 and codes.max() < 1
    assert decode(model, codes).shape == (3, 300, 128)


def test_resume_continues_exactly(data48, ae_run, tmp_path):
    """2 epochs + resume to 3 == 3 epochs straight (same seed): same history, same weights."""
    cfg = TrainConfig(epochs=3, verbose=0, tensorboard=False, deterministic=True)
    train_autoencoder(data48, tmp_path / "straight", train_config=cfg)
    part = train_autoencoder(data48, tmp_path / "part", train_config=cfg.replace(epochs=2))
    assert part["epochs_done"] == 2
    resumed = train_autoencoder(None, tmp_path / "part", train_config=cfg, resume=True)
    assert resumed["epochs_done"] == 3 and len(resumed["history"]) == 1
    h1, h2 = _history(tmp_path / "straight"), _history(tmp_path / "part")
    assert [r["epoch"] for r in h2] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r["loss"]) for r in h1], [float(r["loss"]) for r in h2], rtol=1e-5)
    w1 = RunDir(tmp_path / "straight").load_model("last").get_weights()
    w2 = RunDir(tmp_path / "part").load_model("last").get_weights()
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    again = train_autoencoder(None, tmp_path / "part", train_config=cfg, resume=True)
    assert again["history"] == [] and again["epochs_done"] == 3  # nothing left to do


def test_loss_decreases_on_a_small_overfit_set(data48, tmp_path):
    res = train_autoencoder(data48, tmp_path / "overfit", train_config=TrainConfig(epochs=6, max_train_clips=2, verbose=0,
                                                                                  tensorboard=False))
    losses = [h["loss"] for h in res["history"]]
    assert losses[-1] < losses[0] - 0.3
    assert res["history"][-1]["pearson_r"] > 0.6


def test_train_main_adds_bottleneck_and_trains(data48, ae_run, tmp_path):
    run = tmp_path / "lip"
    assert train_main_main([str(data48), "--run", str(run), "--autoencoder", str(ae_run), "--epochs", "1",
                            "--verbose", "0", "--no-tensorboard"]) == 0
    with GridDataset(data48 / "dataset.h5") as ds:
        assert ds.has("bottleneck") and ds.array("bottleneck", 0).shape == (300, 32)
        crops = ds.array("crops", 0)
    assert (run / "best.keras").is_file() and len(_history(run)) == 1
    lipnet = RunDir(run).load_model("best")
    pred = predict_windows(lipnet, crops)
    assert pred.shape == (300, 32) and np.all((pred > 0) & (pred < 1))
    # resume to epoch 2 through the CLI
    assert train_main_main(["--resume", str(run), "--epochs", "2", "--verbose", "0"]) == 0
    assert len(_history(run)) == 2


def test_errors(data48, ae_run, tmp_path, capsys):
    from lip2audspec.models import preset

    cfg = preset("small").lipnet.replace(out_dim=16, window=4)
    cfg.save_json(tmp_path / "lip16.json")
    assert train_main_main([str(data48), "--run", str(tmp_path / "x"), "--model-config", str(tmp_path / "lip16.json"),
                            "--autoencoder", str(ae_run), "--epochs", "1", "--verbose", "0"]) == 2
    err = capsys.readouterr().err
    assert "does not fit the dataset" in err and "out_dim=32" in err and "out_frames=16" in err  # both, one error
    assert not (tmp_path / "x" / "model.keras").exists()
    assert train_autoencoder_main([str(data48), "--run", str(ae_run), "--epochs", "1"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert train_autoencoder_main([str(tmp_path / "nodata"), "--run", str(tmp_path / "y")]) == 2


def test_model_checked_against_the_dataset_spec(data48):
    """One check: crops of another size are resized on load; what cannot be adapted is one error."""
    from lip2audspec.data.dataset import DatasetSpec
    from lip2audspec.errors import ParameterError
    from lip2audspec.models import preset
    from lip2audspec.training import check_model_fits
    from lip2audspec.training.pipelines import window_dataset

    small = preset("small").lipnet
    spec128 = DatasetSpec(crop_size=128, derived={"bottleneck": {"dim": 32}})
    fit = check_model_fits(spec128, small)
    assert fit["resize_to"] == 48 and fit["window"].window == 5
    with pytest.raises(ParameterError, match="n_channels=128"):
        check_model_fits(spec128, preset("small").autoencoder.replace(n_channels=64))
    with pytest.raises(ParameterError, match="no 'bottleneck' targets"):
        check_model_fits(DatasetSpec(), small)
    with GridDataset(data48) as ds:
        clips = ds.split("seen/train")[:1]
    ds32, n = window_dataset(data48, clips, target="spec", batch_size=4, shuffle=False, context=2, crop_size=32)
    x, y = next(iter(ds32))
    assert tuple(x.shape) == (4, 9, 32, 32, 3) and tuple(y.shape) == (4, 20, 128) and n == 4


def test_stitch_windows_averages_overlaps():
    preds = np.stack([np.full((20, 2), v, np.float32) for v in (1.0, 3.0)])
    out = stitch_windows(preds, [0, 1], n_frames=7)
    assert out.shape == (28, 2)
    np.testing.assert_allclose(out[:4, 0], 1.0)
    np.testing.assert_allclose(out[4:20, 0], 2.0)
    np.testing.assert_allclose(out[20:24, 0], 3.0)
    np.testing.assert_allclose(out[24:, 0], 3.0)  # uncovered tail repeats the last covered frame


@pytest.mark.slow
def test_mirrored_strategy_on_two_cpu_devices(data48, tmp_path):
    """tf.distribute MirroredStrategy over 2 logical CPU devices (fresh process: devices are set at start-up)."""
    run = tmp_path / "mirrored"
    proc = subprocess.run([sys.executable, "-m", "lip2audspec.cli.train_autoencoder", str(data48), "--run", str(run),
                           "--epochs", "1", "--strategy", "mirrored", "--cpu-devices", "2", "--verbose", "0",
                           "--no-tensorboard"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["replicas"] == 2 and cfg["global_batch"] == 2 * 128
    assert "on 2 replica(s)" in proc.stdout


@pytest.mark.slow
def test_multiworker_strategy_single_worker(data48, tmp_path):
    run = tmp_path / "mw"
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    proc = subprocess.run([sys.executable, "-m", "lip2audspec.cli.train_autoencoder", str(data48), "--run", str(run),
                           "--epochs", "1", "--strategy", "multiworker", "--verbose", "0", "--no-tensorboard"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((run / "config.json").read_text())["replicas"] == 1


def test_train_or_resume(data48, tmp_path):
    from lip2audspec.training import train_or_resume

    run = tmp_path / "ae"
    tc = TrainConfig(epochs=1, verbose=0, tensorboard=False)
    assert train_or_resume(train_autoencoder, data48, run, train_config=tc)["epochs_done"] == 1
    again = train_or_resume(train_autoencoder, data48, run, train_config=tc)  # finished: nothing to do
    assert again["epochs_done"] == 1 and again["history"] == [] and len(_history(run)) == 1
    more = train_or_resume(train_autoencoder, data48, run, train_config=tc.replace(epochs=2))  # continues
    assert more["epochs_done"] == 2 and len(_history(run)) == 2
    state = json.loads((run / "state.json").read_text())
    state["callbacks"]["early_stopping"]["stopped_epoch"] = 2  # as if early stopping had ended it
    (run / "state.json").write_text(json.dumps(state))
    stopped = train_or_resume(train_autoencoder, data48, run, train_config=tc.replace(epochs=5))
    assert stopped["stopped_early"] and stopped["epochs_done"] == 2 and len(_history(run)) == 2

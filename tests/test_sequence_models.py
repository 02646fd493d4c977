"""Whole-clip (sequence) families: clip pipeline, shapes, config round trip, fresh-process reload, train_main --arch.

Tiny configurations (16 px crops, a few filters) keep every test fast; the data is the session's
``tiny_runs`` prepared synthetic corpus (48 px crops, resized on load).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from lip2audspec.cli.train_main import main as train_main_main
from lip2audspec.data.dataset import GridDataset
from lip2audspec.errors import ParameterError
from lip2audspec.inference import predict_clip
from lip2audspec.models import FAMILIES, config_class, load_config
from lip2audspec.training import RunDir
from lip2audspec.training.pipelines import EpochCounter, clip_dataset

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: per family, a tiny config (fast to build and train)
TINY = {
    "framesync": dict(crop_size=16, front_filters=(4, 8), res_blocks=(0, 1), front_units=16, lstm_units=(8,),
                      post_filters=(8,)),
}


def tiny_config(arch: str, **changes):
    return FAMILIES[arch].config_class(**{**TINY[arch], **changes})


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


# ---------------------------------------------------------------------------------------------------------------
# clip pipeline
def _epoch(path, clips, epoch, **kw):
    ds, n = clip_dataset(path, clips, batch_size=2, shuffle=True, seed=5, counter=EpochCounter(epoch), **kw)
    return [(np.asarray(x), np.asarray(y)) for x, y in ds], n


def test_clip_dataset_shapes_order_and_resume(tiny_runs):
    path = tiny_runs["data"] / "dataset.h5"
    with GridDataset(path) as ds:
        clips = ds.split("seen/train")
        T, S = ds.spec.n_frames, ds.spec.crop_size
        spec = {int(c): ds.array("spec", int(c)) for c in clips}
    assert len(clips) >= 3
    a, n = _epoch(path, clips, 0)
    assert n == -(-len(clips) // 2) and len(a) == n
    x, y = a[0]
    assert x.shape == (2, T, S, S, 3) and y.shape == (2, 4 * T, 128) and x.dtype == np.float32
    # every clip exactly once per epoch, each input paired with its own target
    seen = [next(c for c, s in spec.items() if np.array_equal(s, t)) for _, yb in a for t in yb]
    assert sorted(seen) == sorted(int(c) for c in clips)
    # same (seed, epoch): same batches (a resumed run draws what an uninterrupted one would); another epoch: other order
    b, _ = _epoch(path, clips, 0)
    assert all(np.array_equal(p[1], q[1]) and np.array_equal(p[0], q[0]) for p, q in zip(a, b))
    orders = {tuple(int(next(c for c, s in spec.items() if np.array_equal(s, t))) for _, yb in _epoch(path, clips, e)[0]
                    for t in yb) for e in range(6)}
    assert len(orders) > 1
    # unshuffled: the split's order; resize on load; derived targets
    ds2, _ = clip_dataset(path, clips, batch_size=8, shuffle=False, crop_size=16, target="bottleneck")
    x, y = next(iter(ds2))
    assert x.shape == (len(clips), T, 16, 16, 3) and y.shape == (len(clips), 4 * T, 32)


# ---------------------------------------------------------------------------------------------------------------
# models
@pytest.mark.parametrize("arch", sorted(TINY))
def test_shapes_any_length_and_targets(arch):
    fam = FAMILIES[arch]
    m = fam.model_class(tiny_config(arch))
    for T in (7, 11):
        x = np.random.default_rng(T).random((2, T, 16, 16, 3), dtype=np.float32)
        assert np.asarray(m.infer(x)).shape == (2, 4 * T, 128)
    codes = fam.model_class(tiny_config(arch, target="bottleneck", out_dim=32))
    y = np.asarray(codes.infer(np.zeros((1, 5, 16, 16, 3), np.float32)))
    assert y.shape == (1, 20, 32) and np.all((y > 0) & (y < 1))
    # the presets build (paper: GPU sizes; small: the CPU preset) with the same builder
    for name in ("paper", "small"):
        c = fam.preset(name)
        assert c.KIND == arch and c.target == "spec" and c.out_dim == 128
    with pytest.raises(ParameterError, match="too small"):
        tiny_config(arch, crop_size=2)
    with pytest.raises(ParameterError, match="res_blocks"):
        tiny_config(arch, res_blocks=(1,))
    with pytest.raises(ParameterError, match="target"):
        tiny_config(arch, target="wave")


@pytest.mark.parametrize("arch", sorted(TINY))
def test_config_round_trip(arch, tmp_path):
    c = tiny_config(arch, target="bottleneck", out_dim=32)
    assert type(c).from_dict(c.to_dict()) == c
    assert load_config(c.save_json(tmp_path / "c.json")) == c
    assert config_class(arch) is type(c)
    m = FAMILIES[arch].model_class(c)
    assert type(m).from_config(m.get_config()).config == c


_LOAD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import keras
    import lip2audspec.models  # registers the families
    from lip2audspec.inference import predict_clip
    model = keras.saving.load_model(sys.argv[1])
    assert type(model).__name__ == sys.argv[4], type(model)
    np.save(sys.argv[3], predict_clip(model, np.load(sys.argv[2])))
    """
)


@pytest.mark.parametrize("arch", sorted(TINY))
def test_keras_reload_in_fresh_process(arch, tmp_path):
    m = FAMILIES[arch].model_class(tiny_config(arch)).compile_for_training(learning_rate=1e-3)
    rng = np.random.default_rng(3)
    for layer in m._flatten_layers(include_self=False):  # non-default BatchNorm statistics
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape).astype(np.float32))
    crops = rng.integers(0, 255, (9, 24, 24), dtype=np.uint8)  # resized to the model's 16 px
    m.save(tmp_path / "m.keras")
    np.save(tmp_path / "crops.npy", crops)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-c", _LOAD, str(tmp_path / "m.keras"), str(tmp_path / "crops.npy"),
                          str(tmp_path / "y.npy"), type(m).__name__], capture_output=True, text=True, env=env, timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    want = predict_clip(m, crops)
    assert want.shape == (36, 128)
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), want, rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# train_main --arch, resume, --init, reconstruct
def _history(run):
    return (run / "history.csv").read_text().strip().splitlines()[1:]


@pytest.mark.parametrize("arch", sorted(TINY))
def test_train_main_arch_resume_init_reconstruct(arch, tiny_runs, tmp_path):
    from lip2audspec.reconstruct import Reconstructor

    data = str(tiny_runs["data"])
    cfg = tiny_config(arch).save_json(tmp_path / "tiny.json")
    run = tmp_path / "run"
    common = ["--verbose", "0", "--no-tensorboard"]
    assert train_main_main([data, "--arch", arch, "--run", str(run), "--model-config", str(cfg), "--epochs", "1",
                            *common]) == 0
    doc = json.loads((run / "config.json").read_text())
    assert doc["kind"] == arch and doc["arch"] == arch and doc["train"]["batch_size"] == FAMILIES[arch].training["small"]["batch_size"]
    assert len(_history(run)) == 1 and RunDir(run).model_config() == tiny_config(arch)
    # resume (the arch comes from the run; a contradicting --arch is refused)
    assert train_main_main(["--resume", str(run), "--epochs", "2", *common]) == 0
    assert len(_history(run)) == 2
    assert train_main_main(["--resume", str(run), "--arch", "lip2audspec", "--epochs", "3", *common]) == 2
    # --init: a new run starting from this one's weights
    run2 = tmp_path / "run2"
    assert train_main_main([data, "--arch", arch, "--run", str(run2), "--model-config", str(cfg), "--epochs", "1",
                            "--init", str(run), *common]) == 0
    assert json.loads((run2 / "config.json").read_text())["init_run"] == str(run.resolve())
    # reconstruct from a spectrogram-predicting run: no autoencoder needed
    rec = Reconstructor(run, n_iter=1)
    assert rec.autoencoder is None
    with GridDataset(tiny_runs["data"]) as ds:
        crops = ds.array("crops", 0)
    out = rec.from_crops(crops, key="tiny")
    assert out.target.shape == (4 * len(crops), 128) and out.audio.ndim == 1 and np.isfinite(out.audio).all()


def test_init_refuses_an_unrelated_run(tiny_runs, tmp_path):
    from lip2audspec.errors import ModelError
    from lip2audspec.training import init_from_run

    m = FAMILIES["framesync"].model_class(tiny_config("framesync"))
    with pytest.raises(ModelError, match="no layer"):
        init_from_run(m, tiny_runs["ae"])


def test_predict_clip_window_network(tiny_runs):
    lipnet = RunDir(tiny_runs["lip"]).load_model("best")
    with GridDataset(tiny_runs["data"]) as ds:
        crops = ds.array("crops", 0)
    assert predict_clip(lipnet, crops).shape == (4 * len(crops), 32)

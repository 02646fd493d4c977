"""Keras models: configs and presets, shapes, save/load in a fresh process, loss, metric, augmentation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the environment settings above)

from lip2audspec.errors import ParameterError  # noqa: E402
from lip2audspec.models import (  # noqa: E402
    PRESETS,
    AutoencoderConfig,
    CorrelationMSELoss,
    LipNetConfig,
    OPTIMIZER_KEYS,
    ModelPreset,
    PearsonCorrelation,
    RandomFlipOrNoise,
    RandomShift,
    apply_framewise,
    build_autoencoder,
    build_lipnet,
    frame_correlation,
    load_config,
    pearson_correlation,
    preset,
    segment_temporal_correlation,
    split_optimizer_settings,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


def _structured_frames(n: int, rng, channels: int = 128) -> np.ndarray:
    """Spectrogram-like frames: a few smooth spectral bumps with random gains, >= 0, roughly 0..2."""
    f = np.arange(channels)[None, :]
    centres = rng.uniform(10, channels - 10, (n, 3))
    gains = rng.uniform(0.2, 1.5, (n, 3))
    bumps = gains[:, :, None] * np.exp(-0.5 * ((f[:, None, :] - centres[:, :, None]) / 8.0) ** 2)
    return (bumps.sum(1) + 0.05).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------------
# configs
def test_presets_are_data_and_match():
    assert set(PRESETS) == {"paper", "small"}
    p = preset("paper")
    assert isinstance(p, ModelPreset)
    assert p.autoencoder == AutoencoderConfig() and p.lipnet == LipNetConfig()
    assert p.lipnet.conv_filters == (32, 32, 32, 64, 64, 128, 128)
    assert p.lipnet.pool_after == (1, 2, 3, 5, 7) and p.lipnet.dropout_after == (3, 5, 7)
    assert p.autoencoder.bottleneck == p.lipnet.out_dim == 32
    s = preset("small")
    assert s.lipnet.crop_size < p.lipnet.crop_size and s.autoencoder.bottleneck == 32
    with pytest.raises(ParameterError, match="unknown model preset"):
        preset("huge")
    # optimiser defaults live in the preset, as read-only data
    assert dict(p.training["autoencoder"]) == {"learning_rate": 1e-4, "batch_size": 128, "lr_factor": 0.2, "lr_patience": 4}
    assert dict(p.training["lipnet"]) == {"learning_rate": 1e-4, "batch_size": 32, "lr_factor": 0.2, "lr_patience": 4}
    assert s.training["autoencoder"]["learning_rate"] == s.training["lipnet"]["learning_rate"] == 1e-3
    with pytest.raises(TypeError):
        p.training["lipnet"]["learning_rate"] = 1.0
    with pytest.raises(TypeError):
        p.training["gan"] = {}
    for name in OPTIMIZER_KEYS:
        assert name not in AutoencoderConfig.field_names() and name not in LipNetConfig.field_names()


def test_schema1_model_configs_are_migrated(tmp_path):
    old = {"kind": "lipnet", **LipNetConfig(crop_size=32, pool_after=(1, 2)).to_dict(),
           "learning_rate": 1e-3, "batch_size": 16, "lr_factor": 0.5, "lr_patience": 2}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(old))
    c = load_config(path)
    assert c == LipNetConfig(crop_size=32, pool_after=(1, 2))
    assert LipNetConfig.from_dict(old, schema=1) == c
    with pytest.raises(ParameterError, match="learning_rate"):  # schema 2 has no optimiser fields
        LipNetConfig.from_dict(old)
    assert json.loads(c.to_json())["schema"] == LipNetConfig.SCHEMA_VERSION == AutoencoderConfig.SCHEMA_VERSION == 2
    model, opt = split_optimizer_settings(old)
    assert opt == {"learning_rate": 1e-3, "batch_size": 16, "lr_factor": 0.5, "lr_patience": 2}
    assert LipNetConfig.from_dict(model) == c and model["kind"] == "lipnet"
    ae_old = {**AutoencoderConfig().to_dict(), "learning_rate": 1e-4, "batch_size": 128}
    assert AutoencoderConfig.from_dict(ae_old, schema=1) == AutoencoderConfig()


@pytest.mark.parametrize("cls", [AutoencoderConfig, LipNetConfig])
def test_config_json_round_trip(cls, tmp_path):
    for name in PRESETS:
        c = getattr(preset(name), "autoencoder" if cls is AutoencoderConfig else "lipnet")
        assert cls.from_dict(c.to_dict()) == c
        assert cls.from_json(c.to_json()) == c
        path = c.save_json(tmp_path / name / "config.json")
        assert json.loads(path.read_text())["kind"] == cls.KIND
        assert cls.load_json(path) == c
        assert load_config(path) == c
    with pytest.raises(ParameterError, match="unknown"):
        cls.from_dict({**cls().to_dict(), "bogus": 1})
    other = LipNetConfig if cls is AutoencoderConfig else AutoencoderConfig
    with pytest.raises(ParameterError, match="kind"):
        cls.from_dict({"kind": other.KIND})


@pytest.mark.parametrize(
    "cls, changes, match",
    [
        (AutoencoderConfig, {"bottleneck": 0}, "bottleneck"),
        (AutoencoderConfig, {"encoder_units": (512, -1)}, "encoder_units"),
        (AutoencoderConfig, {"noise_std": -0.1}, "noise_std"),
        (AutoencoderConfig, {"corr_weight": 0.0, "mse_weight": 0.0}, "both 0"),
        (LipNetConfig, {"pool_after": (1, 9)}, "pool_after"),
        (LipNetConfig, {"dropout_after": (3, 3)}, "dropout_after"),
        (LipNetConfig, {"crop_size": 16}, "too small"),
        (LipNetConfig, {"conv_dropout": 1.0}, "conv_dropout"),
        (LipNetConfig, {"last_conv_activation": "relu"}, "last_conv_activation"),
        (LipNetConfig, {"flip_prob": 0.7, "noise_prob": 0.5}, "flip_prob"),
        (LipNetConfig, {"lstm_return_sequences": 1}, "lstm_return_sequences"),
        (LipNetConfig, {"conv_filters": ()}, "conv_filters"),
        (LipNetConfig, {"augment_seed": "x"}, "augment_seed"),
    ],
)
def test_config_validation(cls, changes, match):
    with pytest.raises(ParameterError, match=match):
        cls(**changes)


def test_config_frozen_and_lists_become_tuples():
    c = LipNetConfig.from_dict({"conv_filters": [8, 8, 16], "pool_after": [3, 1], "dropout_after": [], "crop_size": 32})
    assert c.conv_filters == (8, 8, 16) and c.pool_after == (1, 3) and c.dropout_after == ()
    with pytest.raises(Exception):
        c.window = 7
    with pytest.raises(ParameterError, match="out_dim"):
        ModelPreset("x", AutoencoderConfig(bottleneck=16), LipNetConfig())


# ---------------------------------------------------------------------------------------------------------------
# shapes
def test_autoencoder_shapes_and_submodels(rng):
    for name in PRESETS:
        c = preset(name).autoencoder
        ae = build_autoencoder(c)
        assert ae.input_shape == (None, 128) and ae.output_shape == (None, 128)
        assert ae.encoder.output_shape == (None, c.bottleneck)
        assert ae.decoder.input_shape == (None, c.bottleneck)
    # paper: 128-512-128-64-32 | 32-64-128-128 Dense + BatchNorm (4 params per unit)
    ae = build_autoencoder(preset("paper").autoencoder)
    dense = (128 * 512 + 512) + (512 * 128 + 128) + (128 * 64 + 64) + (64 * 32 + 32) + (32 * 64 + 64) + (64 * 128 + 128) + (128 * 128 + 128)
    bn = 4 * (512 + 128 + 64 + 32 + 64 + 128)
    assert ae.count_params() == dense + bn
    x = _structured_frames(16, rng)
    code = np.asarray(ae.encoder(x, training=False))
    assert code.shape == (16, 32) and np.all((code > 0) & (code < 1))
    full = np.asarray(ae(x, training=False))
    np.testing.assert_allclose(np.asarray(ae.decoder(code, training=False)), full, rtol=1e-5, atol=1e-5)
    # frame-wise helper on sequences
    seq = x.reshape(2, 8, 128)
    np.testing.assert_allclose(apply_framewise(ae, seq), full.reshape(2, 8, 128), rtol=1e-5, atol=1e-5)
    # the noise acts in training only (a training call also moves the BatchNorm statistics: do it last)
    assert not np.allclose(np.asarray(ae(x, training=True)), full, atol=1e-4)
    assert apply_framewise(ae.encoder, x[:5]).shape == (5, 32)
    with pytest.raises(ParameterError):
        apply_framewise(ae, np.zeros((3, 64)))


def test_lipnet_paper_shapes_and_params():
    c = preset("paper").lipnet
    m = build_lipnet(c)
    assert m.input_shape == (None, 5, 128, 128, 3)
    assert m.output_shape == (None, 20, 32)
    assert m.get_layer("frame_features").output.shape == (None, 5, 4 * 4 * 128)
    conv = 0
    cin = 3
    for f in c.conv_filters:
        conv += 27 * cin * f + f + 4 * f
        cin = f
    lstm = 4 * (2048 * 512 + 512 * 512 + 512) + 4 * 512
    head = (5 * 512 * 2048 + 2048) + 4 * 2048 + (2048 * 640 + 640)
    assert m.count_params() == conv + lstm + head
    out = m(np.zeros((1, *c.input_shape), np.float32), training=False)
    assert tuple(out.shape) == (1, 20, 32)


def test_lipnet_small_forward_and_train_step(rng):
    c = preset("small").lipnet
    m = build_lipnet(c).compile_for_training(learning_rate=1e-3)
    x = rng.random((4, *c.input_shape), dtype=np.float32)
    y = np.asarray(m(x, training=False))
    assert y.shape == (4, c.out_frames, c.out_dim) and np.all((y > 0) & (y < 1))
    logs = m.train_on_batch(x, rng.random((4, c.out_frames, c.out_dim), dtype=np.float32), return_dict=True)
    assert np.isfinite(logs["loss"]) and "pearson_r" in logs


# ---------------------------------------------------------------------------------------------------------------
# save / load in a fresh process
_LOAD_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    import lip2audspec.models as M
    import keras
    model = keras.saving.load_model(sys.argv[1])
    assert type(model).__name__ == sys.argv[4], type(model)
    assert model.config.to_dict() == M.load_config(sys.argv[5]).to_dict()
    x = np.load(sys.argv[2])
    np.save(sys.argv[3], np.asarray(model(x, training=False)))
    if sys.argv[4] == "Autoencoder":
        np.save(sys.argv[3] + ".code.npy", np.asarray(model.encoder(x, training=False)))
    assert model.optimizer is not None and model.loss.__class__.__name__ == "CorrelationMSELoss"
    """
)


def _reload_in_fresh_process(model, x, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    cfg = model.config.save_json(tmp_path / "config.json")
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.npy"
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, str(path), str(tmp_path / "x.npy"), str(out), type(model).__name__, str(cfg)],
        capture_output=True, text=True, env=env, timeout=240,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return out


def test_autoencoder_keras_round_trip_fresh_process(tmp_path, rng):
    ae = build_autoencoder(preset("small").autoencoder).compile_for_training(learning_rate=1e-3)
    x = _structured_frames(64, rng)
    ae.fit(x, x, batch_size=32, epochs=1, verbose=0)  # moves BatchNorm statistics away from the defaults
    out = _reload_in_fresh_process(ae, x, tmp_path)
    np.testing.assert_allclose(np.load(out), np.asarray(ae(x, training=False)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(str(out) + ".code.npy"), np.asarray(ae.encoder(x, training=False)), rtol=1e-5, atol=1e-6)


def test_lipnet_keras_round_trip_fresh_process(tmp_path, rng):
    c = preset("small").lipnet
    m = build_lipnet(c).compile_for_training(learning_rate=1e-3)
    x = rng.random((4, *c.input_shape), dtype=np.float32)
    # non-default BatchNorm statistics without paying for a compiled training step
    for layer in m.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype(np.float32))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape).astype(np.float32))
    out = _reload_in_fresh_process(m, x, tmp_path)
    np.testing.assert_allclose(np.load(out), np.asarray(m(x, training=False)), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# loss, metric
def test_loss_values_and_gradient(rng):
    y = _structured_frames(32, rng)
    loss = CorrelationMSELoss(corr_weight=2.0, mse_weight=1.0)
    assert float(loss(y, y)) == pytest.approx(-2.0, abs=1e-4)
    # independent noise: r ~ 0, so the loss is ~ the MSE
    a = rng.standard_normal((4096, 128)).astype(np.float32)
    b = rng.standard_normal((4096, 128)).astype(np.float32)
    corr_only = CorrelationMSELoss(corr_weight=1.0, mse_weight=0.0)
    assert abs(float(corr_only(a, b))) < 0.01
    assert float(pearson_correlation(a, b)) == pytest.approx(0.0, abs=0.01)
    assert float(pearson_correlation(a, -2 * a + 1)) == pytest.approx(-1.0, abs=1e-4)
    # per-frame r across the last axis; constant frames give r = 0
    r = np.asarray(frame_correlation(y.reshape(4, 8, 128), y.reshape(4, 8, 128)))
    assert r.shape == (4, 8) and np.allclose(r, 1.0, atol=1e-4)
    assert float(frame_correlation(np.ones((1, 128)), y[:1])[0]) == pytest.approx(0.0, abs=1e-6)
    # finite gradient, including constant predictions
    import tensorflow as tf

    for pred in (np.zeros_like(y), y + 0.1 * rng.standard_normal(y.shape).astype(np.float32)):
        v = tf.Variable(pred)
        with tf.GradientTape() as tape:
            val = CorrelationMSELoss()(y, v)
        g = tape.gradient(val, v).numpy()
        assert np.isfinite(float(val)) and np.all(np.isfinite(g)) and np.any(g != 0)
    cfg = CorrelationMSELoss.from_config(loss.get_config())
    assert (cfg.corr_weight, cfg.mse_weight) == (2.0, 1.0)
    with pytest.raises(ParameterError):
        CorrelationMSELoss(corr_weight=0.0, mse_weight=0.0)


def test_temporal_correlation_term(rng):
    # reference: numpy's r of each channel's trajectory in consecutive 40-frame segments (tail of 20 dropped)
    a = rng.random((3, 100, 8)).astype(np.float32)
    b = a + rng.random((3, 100, 8)).astype(np.float32)
    t = np.asarray(segment_temporal_correlation(a, b, frames=40))
    ref = [np.mean([np.corrcoef(a[i, s * 40:(s + 1) * 40, c], b[i, s * 40:(s + 1) * 40, c])[0, 1]
                    for s in range(2) for c in range(8)]) for i in range(3)]
    np.testing.assert_allclose(t, ref, atol=1e-5)
    # clips shorter than a segment: one segment of the whole clip; invariant to scale and offset per channel
    np.testing.assert_allclose(np.asarray(segment_temporal_correlation(a[:, :10], 3 * a[:, :10] + 1, frames=40)), 1.0,
                               atol=1e-4)
    # the temporal term sees what the per-frame term cannot: random gains and offsets per frame keep every
    # frame's spectral shape (per-frame r = 1) but garble the channels' trajectories over time
    y = _structured_frames(200, rng).reshape(2, 100, 128)
    garbled = y * rng.uniform(0.1, 5.0, (2, 100, 1)).astype(np.float32) + rng.uniform(-1, 1, (2, 100, 1)).astype(np.float32)
    both = CorrelationMSELoss(mse_weight=0.0, tcorr_weight=1.0, tcorr_frames=20)
    frame_only = CorrelationMSELoss(mse_weight=0.0)
    assert float(both(y, y)) == pytest.approx(-2.0, abs=1e-4)
    assert float(frame_only(y, garbled)) == pytest.approx(-1.0, abs=1e-4)
    assert float(both(y, garbled)) > -1.8  # temporal r about 0.7
    cfg = CorrelationMSELoss.from_config(both.get_config())
    assert (cfg.tcorr_weight, cfg.tcorr_frames) == (1.0, 20)
    with pytest.raises(ParameterError, match="batch, frames, channels"):
        both(y[0], y[0])
    for bad in ({"tcorr_weight": -1.0}, {"tcorr_frames": 1}, {"tcorr_frames": 2.5}):
        with pytest.raises(ParameterError):
            CorrelationMSELoss(**bad)


def test_pearson_metric_streaming(rng):
    a = rng.random((10, 128), dtype=np.float32)
    b = a + 0.3 * rng.random((10, 128), dtype=np.float32)
    m = PearsonCorrelation()
    m.update_state(a[:4], b[:4])
    m.update_state(a[4:], b[4:])
    expected = np.mean([np.corrcoef(a[i], b[i])[0, 1] for i in range(10)])
    assert float(m.result()) == pytest.approx(expected, abs=1e-4)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert PearsonCorrelation.from_config(m.get_config()).name == "pearson_r"


# ---------------------------------------------------------------------------------------------------------------
# augmentation
def test_random_shift_moves_whole_clips(rng):
    x = rng.random((16, 5, 12, 12, 3), dtype=np.float32)
    layer = RandomShift(2, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    shifts = []
    for i in range(len(x)):
        # output pixel (r, c) = input pixel (r + dy, c + dx), edges repeated; the same for every frame and channel
        found = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
                 if np.array_equal(y[i], x[i][:, np.clip(np.arange(12) + dy, 0, 11)][:, :, np.clip(np.arange(12) + dx, 0, 11)])]
        assert len(found) == 1
        shifts.append(found[0])
    assert len(set(shifts)) > 4  # drawn per clip
    assert RandomShift.from_config(layer.get_config()).max_shift == 2
    for bad in (0, 1.5, True):
        with pytest.raises(ParameterError, match="max_shift"):
            RandomShift(bad)
    with pytest.raises(ParameterError, match="time, height, width"):
        layer(x[0], training=True)


def test_augmentation_identity_at_inference_random_in_training(rng):
    x = rng.random((64, 5, 12, 12, 3), dtype=np.float32)
    layer = RandomFlipOrNoise(flip_prob=1 / 3, noise_prob=1 / 3, noise_std=0.01, seed=3)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    y = np.asarray(layer(x, training=True))
    flipped = np.all(y == x[:, :, :, ::-1, :], axis=(1, 2, 3, 4))
    same = np.all(y == x, axis=(1, 2, 3, 4))
    noisy = ~flipped & ~same
    assert flipped.sum() > 5 and same.sum() > 5 and noisy.sum() > 5
    d = (y - x)[noisy]
    assert abs(d.std() - 0.01) < 0.002
    # all flipped / all noisy
    y = np.asarray(RandomFlipOrNoise(flip_prob=1.0, noise_prob=0.0, seed=1)(x, training=True))
    np.testing.assert_array_equal(y, x[:, :, :, ::-1, :])
    y = np.asarray(RandomFlipOrNoise(flip_prob=0.0, noise_prob=1.0, seed=1)(x, training=True))
    assert np.all(np.any(y != x, axis=(1, 2, 3, 4)))
    assert RandomFlipOrNoise.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ParameterError):
        RandomFlipOrNoise(flip_prob=0.8, noise_prob=0.5)


# ---------------------------------------------------------------------------------------------------------------
# learning
def test_small_autoencoder_overfits(rng):
    c = preset("small").autoencoder
    ae = build_autoencoder(c).compile_for_training(learning_rate=1e-3)
    x = _structured_frames(64, rng)
    first = ae.evaluate(x, x, verbose=0, return_dict=True)
    for _ in range(30):
        ae.train_on_batch(x, x)
    last = ae.evaluate(x, x, verbose=0, return_dict=True)
    assert last["loss"] < first["loss"] - 0.1
    assert last["pearson_r"] > first["pearson_r"]

"""ConfiguredModel: legacy ``.keras`` files, and its hooks proven on three tiny families.

* a teacher-forced seq2seq (subclassed: ``build_layers`` + ``compute_losses`` + an autoregressive ``infer``);
* a contrastive audio/video pair model (functional ``build_graph`` + ``compute_losses`` with named parts);
* a GAN (subclassed, its own ``train_step``, a second optimiser, and a frozen expert).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402

from lip2audspec.config import Config, check_int, check_real  # noqa: E402
from lip2audspec.errors import ModelError, ParameterError  # noqa: E402
from lip2audspec.models import (  # noqa: E402
    OPTIMIZER_KEYS,
    Autoencoder,
    AutoencoderConfig,
    ConfiguredModel,
    CorrelationMSELoss,
    LipNet,
    build_autoencoder,
    load_config,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")

LEGACY = Path(__file__).parent / "data" / "legacy"


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


def _reload(model, tmp_path, **kwargs):
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    return keras.saving.load_model(path, **kwargs)


def _weights(layer) -> list:
    return [np.array(w) for w in layer.get_weights()]


def _changed(before, after) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(before, after))


# ---------------------------------------------------------------------------------------------------------------
# .keras files written before the config base (schema 1: no "schema" key, optimiser fields in the config)
@pytest.mark.parametrize("kind, cls", [("autoencoder", Autoencoder), ("lipnet", LipNet)])
@pytest.mark.parametrize("compile", [False, True])
def test_legacy_keras_files_load(kind, cls, compile):
    model = keras.saving.load_model(LEGACY / f"{kind}_v1.keras", compile=compile)
    assert type(model) is cls
    assert not set(OPTIMIZER_KEYS) & set(model.config.to_dict())
    assert model.get_config()["schema"] == 2
    assert model.config == load_config(LEGACY / f"{kind}_v1.config.json")
    x = np.load(LEGACY / f"{kind}_v1.input.npy")
    np.testing.assert_allclose(model.infer(x), np.load(LEGACY / f"{kind}_v1.output.npy"), rtol=1e-5, atol=1e-6)
    if kind == "autoencoder":
        np.testing.assert_allclose(np.asarray(model.encoder(x, training=False)), np.load(LEGACY / f"{kind}_v1.code.npy"),
                                   rtol=1e-5, atol=1e-6)
    if compile:
        assert isinstance(model.loss, CorrelationMSELoss)
        lr = {"autoencoder": 3e-3, "lipnet": 2e-3}[kind]  # the rates these files were compiled with
        assert float(ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(lr)
        assert int(ops.convert_to_numpy(model.optimizer.iterations)) > 0  # optimiser state came back too
    else:
        assert not model.compiled


def test_config_in_and_out():
    c = AutoencoderConfig(n_channels=16, encoder_units=(8,), bottleneck=4, decoder_units=(8,))
    m = Autoencoder(c.to_dict(), name="ae")
    assert m.config == c and m.name == "ae" and build_autoencoder(c).name == "autoencoder"
    assert m.get_config() == {"name": "ae", "config": c.to_dict(), "schema": 2}
    assert Autoencoder.from_config(m.get_config()).config == c
    old = {"name": "ae", "config": {**c.to_dict(), "learning_rate": 1e-3, "batch_size": 8}}  # no "schema": 1
    assert Autoencoder.from_config(old).config == c
    with pytest.raises(ParameterError, match="AutoencoderConfig"):
        Autoencoder(42)
    with pytest.raises(ParameterError, match="learning_rate"):
        m.compile_for_training(learning_rate=0.0)
    assert keras.saving.get_registered_name(Autoencoder) == "lip2audspec>Autoencoder"


# ---------------------------------------------------------------------------------------------------------------
# (a) teacher-forced seq2seq with autoregressive inference
@dataclass(frozen=True)
class Seq2SeqConfig(Config):
    KIND = "test_seq2seq"
    features: int = 3
    units: int = 16
    out_steps: int = 5

    def __post_init__(self):
        for name in ("features", "units", "out_steps"):
            check_int(self, name)


class Seq2Seq(ConfiguredModel, package="lip2audspec_tests"):
    """``(source (B, Ts, F), previous targets (B, Tt, F)) -> (B, Tt, F)``; ``infer(source)`` decodes."""

    config_class = Seq2SeqConfig
    default_name = "seq2seq"

    def build_layers(self, c):
        src = keras.Input((None, c.features), name="source")
        state = keras.layers.GRU(c.units, name="enc_gru")(src)
        self.encoder = keras.Model(src, state, name="encoder")
        prev = keras.Input((None, c.features), name="previous")
        init = keras.Input((c.units,), name="state")
        seq, last = keras.layers.GRU(c.units, return_sequences=True, return_state=True, name="dec_gru")(prev, initial_state=init)
        self.decoder = keras.Model([prev, init], [keras.layers.Dense(c.features, name="out")(seq), last], name="decoder")

    def call(self, inputs, training=None):
        source, previous = inputs
        return self.decoder([previous, self.encoder(source, training=training)], training=training)[0]

    @staticmethod
    def shift(target):
        """Teacher forcing: ``[0, y_1, ..., y_{T-1}]``."""
        return ops.concatenate([ops.zeros_like(target[:, :1]), target[:, :-1]], axis=1)

    def compute_losses(self, data, training):
        source, target = data[0], data[1]
        pred = self((source, self.shift(target)), training=training)
        return {"loss": ops.mean(ops.square(pred - target))}

    def infer(self, source, steps=None):
        source = ops.convert_to_tensor(np.asarray(source, np.float32))
        state = self.encoder(source, training=False)
        prev = ops.zeros((ops.shape(source)[0], 1, self.config.features))
        outs = []
        for _ in range(steps or self.config.out_steps):
            y, state = self.decoder([prev, state], training=False)
            outs.append(y)
            prev = y  # its own output, not a target
        return np.asarray(ops.convert_to_numpy(ops.concatenate(outs, axis=1)))


def test_seq2seq_teacher_forced_training_and_autoregressive_infer(tmp_path):
    rng = np.random.default_rng(0)
    src = rng.uniform(-1, 1, (64, 5, 3)).astype(np.float32)
    tgt = src[:, ::-1].copy()  # reverse the sequence
    m = Seq2Seq(Seq2SeqConfig()).compile_for_training(learning_rate=1e-2)
    assert m.built and not isinstance(m, keras.src.models.functional.Functional)
    before = m.evaluate(src, tgt, verbose=0, return_dict=True)["loss"]
    hist = m.fit(src, tgt, batch_size=16, epochs=8, verbose=0, shuffle=False)
    after = m.evaluate(src, tgt, verbose=0, return_dict=True)["loss"]
    assert set(hist.history) == {"loss"} and after < 0.7 * before
    y = m.infer(src[:4])
    assert y.shape == (4, 5, 3) and np.all(np.isfinite(y))
    assert m.infer(src[:4], steps=7).shape == (4, 7, 3)
    # the loop fed back its own outputs: teacher forcing with them as "targets" gives the same sequence
    np.testing.assert_allclose(np.asarray(m((src[:4], Seq2Seq.shift(y)), training=False)), y, rtol=1e-4, atol=1e-5)
    back = _reload(m, tmp_path)
    assert type(back) is Seq2Seq and back.config == m.config
    np.testing.assert_allclose(back.infer(src[:4]), y, rtol=1e-5, atol=1e-6)
    assert Seq2Seq.from_config(m.get_config()).get_config() == m.get_config()


# ---------------------------------------------------------------------------------------------------------------
# (b) contrastive audio/video pair model (functional graph + compute_losses with named parts)
@dataclass(frozen=True)
class PairConfig(Config):
    KIND = "test_pair"
    audio_dim: int = 6
    video_dim: int = 10
    embed_dim: int = 4
    margin: float = 1.0

    def __post_init__(self):
        for name in ("audio_dim", "video_dim", "embed_dim"):
            check_int(self, name)
        check_real(self, "margin", lo_open=True)


class PairModel(ConfiguredModel, package="lip2audspec_tests"):
    """``(audio (B, A), video (B, V)) -> two unit-norm embeddings (B, E)``."""

    config_class = PairConfig
    default_name = "pair"
    loss_keys = ("loss", "same", "different")

    @staticmethod
    def build_graph(c):
        a = keras.Input((c.audio_dim,), name="audio")
        v = keras.Input((c.video_dim,), name="video")
        ea = keras.layers.UnitNormalization(name="audio_embedding")(keras.layers.Dense(c.embed_dim, name="audio_tower")(a))
        ev = keras.layers.UnitNormalization(name="video_embedding")(keras.layers.Dense(c.embed_dim, name="video_tower")(v))
        return [a, v], [ea, ev]

    def compute_losses(self, data, training):
        (audio, video), label = data[0], ops.cast(data[1], "float32")
        ea, ev = self([audio, video], training=training)
        d = ops.sqrt(ops.sum(ops.square(ea - ev), axis=-1) + 1e-9)
        same = ops.sum(label * ops.square(d)) / ops.maximum(ops.sum(label), 1.0)
        diff = ops.sum((1 - label) * ops.square(ops.relu(self.config.margin - d))) / ops.maximum(ops.sum(1 - label), 1.0)
        return {"loss": same + diff, "same": same, "different": diff}


def _pairs(rng, n=256):
    A, V = rng.normal(size=(4, 6)), rng.normal(size=(4, 10))
    ka, kv = rng.integers(0, 4, n), rng.integers(0, 4, n)
    kv = np.where(rng.random(n) < 0.5, ka, kv)
    audio = (A[ka] + 0.1 * rng.normal(size=(n, 6))).astype(np.float32)
    video = (V[kv] + 0.1 * rng.normal(size=(n, 10))).astype(np.float32)
    return audio, video, (ka == kv).astype(np.float32)


def test_contrastive_pair_model(tmp_path):
    audio, video, label = _pairs(np.random.default_rng(1))
    m = PairModel({"embed_dim": 4}).compile_for_training(learning_rate=2e-2)
    assert isinstance(m, keras.src.models.functional.Functional) and m.get_layer("audio_tower").units == 4
    first = m.evaluate((audio, video), label, batch_size=64, verbose=0, return_dict=True)
    assert set(first) == {"loss", "same", "different"}
    m.fit((audio, video), label, batch_size=64, epochs=15, verbose=0, shuffle=False)
    last = m.evaluate((audio, video), label, batch_size=64, verbose=0, return_dict=True)
    assert last["loss"] < 0.5 * first["loss"]
    ea, ev = m.infer([audio, video])
    d = np.linalg.norm(ea - ev, axis=-1)
    assert d[label == 1].mean() + 0.3 < d[label == 0].mean()
    back = _reload(m, tmp_path)
    for a, b in zip(back.infer([audio, video]), (ea, ev)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert PairModel.from_config(m.get_config()).get_config() == m.get_config()


def test_compute_losses_must_return_declared_keys():
    class Bad(PairModel, register=False):
        def compute_losses(self, data, training):
            return {"total": ops.zeros(())}

    audio, video, label = _pairs(np.random.default_rng(2), 8)
    m = Bad(PairConfig()).compile_for_training(learning_rate=1e-3, run_eagerly=True)
    with pytest.raises(ModelError, match="'loss'"):
        m.train_on_batch((audio, video), label)


def test_compute_losses_steps_refuse_another_backend(monkeypatch):
    # Keras' own step serves every backend (the FrameSync family trained under JAX on a GPU); the
    # compute_losses step is TensorFlow's (GradientTape) and says so instead of failing inside.
    audio, video, label = _pairs(np.random.default_rng(3), 8)
    m = PairModel(PairConfig()).compile_for_training(learning_rate=1e-3)
    data = ((ops.convert_to_tensor(audio), ops.convert_to_tensor(video)), ops.convert_to_tensor(label))
    assert set(m.test_step(data)) == {"loss", "same", "different"}
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    for step in (m.train_step, m.test_step):
        with pytest.raises(ModelError, match="TensorFlow backend only; KERAS_BACKEND is 'jax'"):
            step(data)
        with pytest.raises(ModelError, match="TensorFlow backend only"):
            step(None, data)  # JAX's (state, data) call


# ---------------------------------------------------------------------------------------------------------------
# (c) GAN: generator against a frozen expert and a discriminator with its own optimiser
@dataclass(frozen=True)
class GanConfig(Config):
    KIND = "test_gan"
    noise_dim: int = 4
    data_dim: int = 6
    units: int = 16
    expert_dim: int = 3
    expert_weight: float = 1.0

    def __post_init__(self):
        for name in ("noise_dim", "data_dim", "units", "expert_dim"):
            check_int(self, name)
        check_real(self, "expert_weight")


class Gan(ConfiguredModel, package="lip2audspec_tests"):
    """``noise (B, Z) -> samples (B, D)``; trained with ``model.optimizer`` (generator) and
    ``model.optimizers["discriminator"]``; the expert's features of fake and real batches are matched."""

    config_class = GanConfig
    default_name = "gan"

    def build_layers(self, c):
        def mlp(name, n_in, n_out, activation=None):
            x = keras.Input((n_in,))
            h = keras.layers.Dense(c.units, activation="relu")(x)
            return keras.Model(x, keras.layers.Dense(n_out, activation=activation)(h), name=name)

        self.generator = mlp("generator", c.noise_dim, c.data_dim)
        self.discriminator = mlp("discriminator", c.data_dim, 1)
        self.expert = mlp("expert", c.data_dim, c.expert_dim, "tanh")
        self.expert.trainable = False
        self.noise = keras.random.SeedGenerator(7, name="noise")

    def call(self, z, training=None):
        return self.generator(z, training=training)

    def default_loss(self):
        return None

    def default_metrics(self):
        return []

    def train_step(self, data):
        import tensorflow as tf

        real = data[0] if isinstance(data, tuple) else data
        n = ops.shape(real)[0]
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        z = keras.random.normal((n, self.config.noise_dim), seed=self.noise)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            d_loss = (bce(ops.ones((n, 1)), self.discriminator(real, training=True))
                      + bce(ops.zeros((n, 1)), self.discriminator(fake, training=True)))
        dv = self.discriminator.trainable_variables
        self.optimizers["discriminator"].apply_gradients(zip(tape.gradient(d_loss, dv), dv))
        z = keras.random.normal((n, self.config.noise_dim), seed=self.noise)
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            adv = bce(ops.ones((n, 1)), self.discriminator(fake, training=False))
            match = ops.mean(ops.square(ops.mean(self.expert(fake), 0) - ops.mean(self.expert(real), 0)))
            g_loss = adv + self.config.expert_weight * match
        gv = self.generator.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(g_loss, gv), gv))
        return {"d_loss": d_loss, "g_loss": g_loss, "expert_match": match}


@pytest.mark.filterwarnings("error:Skipping variable loading:UserWarning")
def test_gan_two_optimisers_and_frozen_expert(tmp_path):
    rng = np.random.default_rng(3)
    real = (rng.normal(size=(128, 6)) * 0.5 + 2.0).astype(np.float32)
    m = Gan(GanConfig())
    m.expert.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in m.expert.get_weights()])  # "pre-trained"
    assert not m.expert.trainable_variables and len(m.trainable_variables) == 8
    m.compile_for_training(learning_rate=2e-3, optimizers={"discriminator": 1e-3})
    assert m.optimizers["discriminator"] is not m.optimizer and m.optimizers["discriminator"].built
    expert0, gen0, disc0 = _weights(m.expert), _weights(m.generator), _weights(m.discriminator)
    hist = m.fit(real, batch_size=32, epochs=3, verbose=0)
    assert set(hist.history) >= {"d_loss", "g_loss", "expert_match"}
    assert all(np.isfinite(v).all() for v in hist.history.values())
    assert _changed(gen0, _weights(m.generator)) and _changed(disc0, _weights(m.discriminator))
    for a, b in zip(expert0, _weights(m.expert)):
        np.testing.assert_array_equal(a, b)
    assert int(ops.convert_to_numpy(m.optimizer.iterations)) == 12
    assert int(ops.convert_to_numpy(m.optimizers["discriminator"].iterations)) == 12
    z = rng.normal(size=(5, 4)).astype(np.float32)
    back = _reload(m, tmp_path)
    np.testing.assert_allclose(back.infer(z), m.infer(z), rtol=1e-5, atol=1e-6)
    for a, b in zip(expert0, _weights(back.expert)):
        np.testing.assert_array_equal(a, b)
    assert not back.expert.trainable_variables
    assert float(ops.convert_to_numpy(back.optimizers["discriminator"].learning_rate)) == pytest.approx(1e-3)
    for opt in (back.optimizer, back.optimizers["discriminator"]):  # optimiser states came back
        assert int(ops.convert_to_numpy(opt.iterations)) == 12
    assert Gan.from_config(m.get_config()).get_config() == m.get_config()

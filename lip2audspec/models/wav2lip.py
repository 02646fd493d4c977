"""Wav2Lip: speech-driven lip generation trained against a frozen lip-sync expert.

K R Prajwal, R Mukhopadhyay, V P Namboodiri, C V Jawahar, "A lip sync expert is all you need for speech to
lip generation in the wild", ACM Multimedia 2020.

**Generator** (one face at a time; ``window`` consecutive frames per training example):

* *face encoder* over 6 channels: the target frame with its **lower half masked** (zeros) and a
  *reference* frame of the same person (another moment of the clip: the pose and identity prior);
  a stride-1 conv, then stride-2 convs down to 3 x 3 (or 2 x 2), then a "valid" conv to 1 x 1, each
  followed by ``residual`` residual conv blocks; every level's output is kept as a skip connection;
* *audio encoder* over the frame's 0.2 s of speech features ``(audio_frames, audio_dim, 1)`` (the
  compressed auditory spectrogram of the prepared datasets: 20 frames of 10 ms x 128 channels, centred
  on the video frame; Wav2Lip used a 16 x 80 mel window) down to a 1 x 1 embedding;
* *decoder* from the concatenated face and audio embeddings, transposed convs back up, concatenating
  the face encoder's feature map of the same size at every level (U-Net skips), then a conv head with a
  sigmoid: the RGB face in [0, 1].

**Losses** (:meth:`Wav2Lip.compute_losses`), weighted as published:
``(1 - sync_weight - disc_weight) * L1 + sync_weight * E_sync + disc_weight * L_gen`` with
``sync_weight = 0.03`` and ``disc_weight = 0.07``, where ``E_sync`` is the frozen expert's cosine-BCE
of the generated window's mouth region (the lower half's centre square, grey, resized to the
expert's crop size: :func:`lip2audspec.data.faces.mouth_region`) against the window's audio features with
label 1 (:func:`lip2audspec.models.syncnet.sync_bce_loss`), and ``L_gen`` the generator's loss
against the optional visual-quality discriminator (``disc_weight > 0``: Wav2Lip+GAN; a conv net on the
lower half of single frames, trained with BCE on real vs generated faces by its own optimiser
``model.optimizers["discriminator"]``).

**Schedule** (Wav2Lip trains on L1 alone first and adds the expert late: its reference code starts with
sync weight 0 and switches it on once the expert's loss on generated frames is below 0.75): the sync term
enters the training objective from optimiser step ``sync_start_step`` and, if ``sync_start_below > 0``,
only after the validation ``sync`` has fallen below it (:meth:`Wav2Lip.switch_sync_on`, called by the
training run, which records the switch). ``lower_weight`` optionally weighs the L1 towards the lower
half, the region that is actually generated. The expert is attached for training with
:meth:`Wav2Lip.attach_expert`; it is not saved with the generator (its run folder is recorded in the
training run's ``config.json``).

Presets (:data:`WAV2LIP_PRESETS`): ``paper`` (96 px faces, the published channel widths, GAN on) and
``small`` (64 px faces, narrow, no GAN: trains on 2 CPU cores).

Examples
--------
>>> m = Wav2Lip(wav2lip_preset("small"))                                                # doctest: +SKIP
>>> faces = np.zeros((1, 5, 64, 64, 6), "float32"); audio = np.zeros((1, 5, 20, 128), "float32")
>>> m.infer((faces, audio)).shape                                                       # doctest: +SKIP
(1, 5, 64, 64, 3)
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass

import keras
import numpy as np

from ..config import Config, check_int, check_int_tuple, check_real
from ..errors import ModelError, ParameterError
from .base import ConfiguredModel

__all__ = ["Wav2LipConfig", "WAV2LIP_PRESETS", "wav2lip_preset", "Wav2Lip", "build_wav2lip", "face_levels",
           "mask_lower_half", "expert_mouths"]


def face_levels(size: int) -> list:
    """Spatial sizes of the face encoder's levels: halved (rounded up) while > 3, then 1.

    >>> face_levels(96), face_levels(64)
    ([96, 48, 24, 12, 6, 3, 1], [64, 32, 16, 8, 4, 2, 1])
    """
    out = [int(size)]
    while out[-1] > 3:
        out.append(math.ceil(out[-1] / 2))
    return out + [1]


@dataclass(frozen=True)
class Wav2LipConfig(Config):
    """Wav2Lip generator (and optional discriminator).

    Parameters
    ----------
    face_size : int
        Face crop side S (paper: 96). Must halve cleanly to 3 or 2 (96, 64, 48, 32, ...).
    window : int
        Consecutive frames per training example (paper: 5 = 0.2 s at 25 fps, the expert's window).
    audio_frames, audio_dim : int
        Speech features per frame: ``audio_frames`` 10 ms frames (20 = 0.2 s) of ``audio_dim`` channels
        (128: the compressed auditory spectrogram).
    face_filters : tuple of int
        Widths of the face encoder levels, one per entry of :func:`face_levels` (7 for 96 or 64 px).
    audio_filters : tuple of int
        Audio encoder widths: a stride-1 conv, stride-2 convs, and a last "valid" conv to 1 x 1 (the
        audio embedding width). At least 2.
    decoder_filters : tuple of int
        Widths of the decoder's up-sampling steps (``len(face_filters) - 1``).
    head_filters : int
        Width of the conv before the RGB output.
    residual : int
        Residual conv blocks after each encoder/decoder level (paper: 1-2; 0: none).
    sync_weight : float
        Weight of the expert's sync loss (paper: 0.03).
    disc_weight : float
        Weight of the visual-quality discriminator's generator loss (paper Wav2Lip+GAN: 0.07; 0: no
        discriminator). The L1 weight is ``1 - sync_weight - disc_weight``.
    disc_filters : tuple of int
        Discriminator widths (stride-2 convs on the lower half).
    lower_weight : float
        Weight of the lower half's pixels (the masked, generated mouth region) in the L1, relative to the
        upper half's (1: a plain mean over the face, as published; 3: the lower half counts three times).
        The L1 is the weighted mean, so its scale does not change.
    sync_start_step : int
        Training schedule: the sync loss enters the training objective only from this optimiser step
        (L1 alone before it). Wav2Lip trains the generator on L1 first and adds the expert late.
    sync_start_below : float
        Training schedule: besides ``sync_start_step``, wait until the expert's validation BCE on the
        generated windows (``val_sync``) has fallen below this value (Wav2Lip's reference code: 0.75,
        i.e. the expert already sees some sync in the generated mouths); 0: no such condition. The step at
        which the loss was switched on is recorded in the run's ``config.json`` (``sync_switch``).

    Examples
    --------
    >>> Wav2LipConfig().recon_weight
    0.9
    """

    KIND = "wav2lip"

    face_size: int = 96
    window: int = 5
    audio_frames: int = 20
    audio_dim: int = 128
    face_filters: tuple = (16, 32, 64, 128, 256, 512, 512)
    audio_filters: tuple = (32, 64, 128, 256, 512)
    decoder_filters: tuple = (512, 512, 384, 256, 128, 64)
    head_filters: int = 32
    residual: int = 2
    sync_weight: float = 0.03
    disc_weight: float = 0.07
    disc_filters: tuple = (32, 64, 128, 256, 512, 512)
    lower_weight: float = 1.0
    sync_start_step: int = 0
    sync_start_below: float = 0.0

    def __post_init__(self):
        for name in ("face_size", "window", "audio_frames", "audio_dim", "head_filters"):
            check_int(self, name)
        check_int(self, "residual", lo=0)
        for name in ("face_filters", "audio_filters", "decoder_filters", "disc_filters"):
            check_int_tuple(self, name)
        if self.face_size < 8:
            raise ParameterError(f"Wav2LipConfig.face_size must be >= 8, got {self.face_size}")
        levels = face_levels(self.face_size)
        if any(a != 2 * b for a, b in zip(levels[:-2], levels[1:-1])):
            raise ParameterError(f"Wav2LipConfig.face_size={self.face_size} does not halve cleanly down to 3 or 2 "
                                 f"({levels[:-1]}); use e.g. 96, 64 or 48")
        if len(self.face_filters) != len(levels):
            raise ParameterError(f"Wav2LipConfig.face_filters needs {len(levels)} widths for {self.face_size} px faces "
                                 f"(levels {levels}), got {len(self.face_filters)}")
        if len(self.decoder_filters) != len(levels) - 1:
            raise ParameterError(f"Wav2LipConfig.decoder_filters needs {len(levels) - 1} widths, got {len(self.decoder_filters)}")
        if len(self.audio_filters) < 2:
            raise ParameterError("Wav2LipConfig.audio_filters needs at least 2 widths")
        check_real(self, "sync_weight", hi=1.0)
        check_real(self, "disc_weight", hi=1.0)
        check_real(self, "lower_weight", hi=100.0, lo_open=True)
        check_int(self, "sync_start_step", lo=0)
        check_real(self, "sync_start_below", hi=100.0)
        if self.sync_weight + self.disc_weight >= 1.0:
            raise ParameterError(f"Wav2LipConfig: sync_weight + disc_weight must be < 1 (the L1 weight is the rest), got "
                                 f"{self.sync_weight} + {self.disc_weight}")

    @property
    def recon_weight(self) -> float:
        """Weight of the L1 reconstruction loss: ``1 - sync_weight - disc_weight``."""
        return round(1.0 - self.sync_weight - self.disc_weight, 10)

    @property
    def face_shape(self) -> tuple:
        """``(window, S, S, 6)``: masked target + reference frames."""
        return (self.window, self.face_size, self.face_size, 6)

    @property
    def audio_shape(self) -> tuple:
        """``(window, audio_frames, audio_dim)``: one speech window per frame."""
        return (self.window, self.audio_frames, self.audio_dim)


def _optimizer_defaults(learning_rate: float, batch_size: int) -> dict:
    return {"learning_rate": learning_rate, "batch_size": batch_size, "lr_factor": 0.5, "lr_patience": 3}


#: ``{name: {"model": Wav2LipConfig, "training": optimiser defaults}}`` (read-only)
WAV2LIP_PRESETS = types.MappingProxyType({
    # As published: 96 x 96 faces, the reference code's channel widths, sync 0.03 and GAN 0.07, Adam 1e-4,
    # batch 16 windows of 5 frames (Wav2Lip's hparams.py; discriminator Adam 1e-4 as well).
    "paper": types.MappingProxyType({"model": Wav2LipConfig(),
                                     "training": types.MappingProxyType(_optimizer_defaults(1e-4, 16))}),
    # CPU preset: 64 x 64 faces, narrow widths, no residual blocks (1.7x faster per step here), no discriminator (sync weight
    # as published); Adam 1e-3, 8 windows per batch.
    "small": types.MappingProxyType({
        "model": Wav2LipConfig(face_size=64, face_filters=(8, 16, 32, 64, 96, 128, 128), audio_filters=(16, 32, 64, 96, 128),
                               decoder_filters=(128, 128, 96, 64, 32, 16), head_filters=16, residual=0, disc_weight=0.0,
                               disc_filters=(16, 32, 64, 128)),
        "training": types.MappingProxyType(_optimizer_defaults(1e-3, 8)),
    }),
})


def wav2lip_preset(name: str) -> Wav2LipConfig:
    """The :class:`Wav2LipConfig` of preset ``name`` (``"paper"`` or ``"small"``)."""
    try:
        return WAV2LIP_PRESETS[name]["model"]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown Wav2Lip preset {name!r}; expected one of {sorted(WAV2LIP_PRESETS)}") from None


# ---------------------------------------------------------------------------------------------------------------
def _conv(x, filters, kernel, strides, name, *, padding="same", residual=False, transpose=False):
    layer = keras.layers.Conv2DTranspose if transpose else keras.layers.Conv2D
    y = layer(filters, kernel, strides=strides, padding=padding, use_bias=False, kernel_initializer="he_normal",
              name=f"{name}_conv")(x)
    y = keras.layers.BatchNormalization(name=f"{name}_bn")(y)
    if residual:
        y = keras.layers.Add(name=f"{name}_add")([x, y])
    return keras.layers.ReLU(name=f"{name}_act")(y)


def _residuals(x, n, name):
    for i in range(n):
        x = _conv(x, x.shape[-1], 3, 1, f"{name}_res{i + 1}", residual=True)
    return x


def _generator(c: Wav2LipConfig) -> keras.Model:
    S = c.face_size
    levels = face_levels(S)
    face = keras.Input((S, S, 6), name="face")
    audio = keras.Input((c.audio_frames, c.audio_dim), name="audio")
    # face encoder
    skips, x = [], face
    for i, (size, f) in enumerate(zip(levels, c.face_filters)):
        if i == 0:
            x = _conv(x, f, 7, 1, "face_enc0")
        elif size == 1:
            x = _conv(x, f, levels[i - 1], 1, f"face_enc{i}", padding="valid")
        else:
            x = _conv(x, f, 3, 2, f"face_enc{i}")
        if size > 1:
            x = _residuals(x, c.residual, f"face_enc{i}")
        skips.append(x)
    # audio encoder
    a = keras.layers.Reshape((c.audio_frames, c.audio_dim, 1), name="audio_as_image")(audio)
    for i, f in enumerate(c.audio_filters[:-1]):
        a = _conv(a, f, 3, 1 if i == 0 else 2, f"audio_enc{i}")
        a = _residuals(a, c.residual, f"audio_enc{i}")
    a = _conv(a, c.audio_filters[-1], tuple(int(d) for d in a.shape[1:3]), 1, "audio_embed", padding="valid")
    # decoder
    x = keras.layers.Concatenate(name="embeddings")([a, skips[-1]])
    for j, f in enumerate(c.decoder_filters):
        target = levels[-2 - j]
        if j == 0:
            x = _conv(x, f, target, 1, "dec0", padding="valid", transpose=True)
        else:
            x = _conv(x, f, 3, 2, f"dec{j}", transpose=True)
        x = _residuals(x, c.residual, f"dec{j}")
        x = keras.layers.Concatenate(name=f"dec{j}_skip")([x, skips[-2 - j]])
    x = _conv(x, c.head_filters, 3, 1, "head")
    out = keras.layers.Conv2D(3, 1, activation="sigmoid", name="rgb")(x)
    return keras.Model([face, audio], out, name="generator")


def _discriminator(c: Wav2LipConfig) -> keras.Model:
    S = c.face_size
    inp = keras.Input((S // 2, S, 3), name="lower_half")
    x = inp
    for i, f in enumerate(c.disc_filters):
        x = keras.layers.Conv2D(f, 3, strides=2 if min(x.shape[1:3]) >= 2 else 1, padding="same", name=f"disc{i}_conv")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"disc{i}_act")(x)
    x = keras.layers.GlobalAveragePooling2D(name="disc_pool")(x)
    out = keras.layers.Dense(1, activation="sigmoid", name="disc_real")(x)
    return keras.Model(inp, out, name="discriminator")


def mask_lower_half(faces):
    """Zero the lower half of face crops ``(..., S, S, C)`` (NumPy), as the generator's target input."""
    out = np.array(faces, copy=True)
    out[..., out.shape[-3] // 2:, :, :] = 0
    return out


def expert_mouths(faces, crop_size: int):
    """The expert's view of face windows: mouth region, grey, resized. ``(B, T, S, S, 3)`` in [0, 1] ->
    ``(B, T, crop_size, crop_size)`` (tensors, differentiable)."""
    from ..data.faces import mouth_region

    m = mouth_region(faces)
    grey = keras.ops.sum(m * keras.ops.convert_to_tensor(np.array([0.299, 0.587, 0.114], "float32")), axis=-1)
    shape = keras.ops.shape(grey)
    b, t, h = shape[0], shape[1], grey.shape[-1]
    flat = keras.ops.reshape(grey, (-1, h, h, 1))
    if h != crop_size:
        flat = keras.ops.image.resize(flat, (crop_size, crop_size), interpolation="bilinear", antialias=h > crop_size)
    return keras.ops.reshape(flat, (b, t, crop_size, crop_size))


class _Ref:
    """Holds the expert outside Keras' attribute tracking (its weights stay out of the generator's)."""

    __slots__ = ("model",)

    def __init__(self, model):
        self.model = model


class Wav2Lip(ConfiguredModel):
    """Wav2Lip generator (+ optional discriminator) on the shared model base.

    Call: ``(faces (B, T, S, S, 6), audio (B, T, audio_frames, audio_dim))`` -> ``(B, T, S, S, 3)``
    (frames are generated independently; ``T`` is free at inference).

    Training batches: ``((faces, audio, expert_audio), target)`` with ``expert_audio`` the window's
    features for the expert ``(B, 20, F)`` and ``target`` the true faces ``(B, window, S, S, 3)`` in
    [0, 1]. Reported: ``loss``, ``l1`` (weighted by ``lower_weight``), ``sync`` (the expert's BCE; 0 without
    an expert; computed and reported also before the schedule switches it into the objective), ``gan`` and
    ``disc`` (0 without a discriminator), ``l1_lower`` (plain L1 of the lower half, the generated region).
    """

    config_class = Wav2LipConfig
    default_name = "wav2lip"
    loss_keys = ("loss", "l1", "sync", "gan", "disc", "l1_lower")
    #: ``sync_from_step`` while the sync loss waits for ``sync_start_below``
    NEVER = 2 ** 62

    def build_layers(self, config: Wav2LipConfig) -> None:
        import tensorflow as tf

        self.generator = _generator(config)
        self.discriminator = _discriminator(config) if config.disc_weight > 0 else None
        self._expert = _Ref(None)
        start = config.sync_start_step if config.sync_start_below <= 0 else self.NEVER
        # the schedule's switch: not a weight (not saved in .keras); the training run records it in config.json
        self._sync_from = _Ref(tf.Variable(start, dtype=tf.int64, trainable=False, name="sync_from_step"))

    # ------------------------------------------------------------------------------------------ schedule
    @property
    def sync_from_step(self) -> int:
        """Optimiser step from which the sync loss is part of the training objective (:attr:`NEVER`: not yet)."""
        return int(self._sync_from.model.numpy())

    def switch_sync_on(self, step: int) -> None:
        """Make the sync loss part of the training objective from optimiser step ``step`` on."""
        self._sync_from.model.assign(int(step))

    def apply_sync_schedule(self, sync_start_step: int, sync_start_below: float) -> None:
        """Reset the switch to a schedule's start (a resumed run whose schedule was changed): from
        ``sync_start_step`` if there is no BCE condition, else not until :meth:`switch_sync_on`."""
        self._sync_from.model.assign(int(sync_start_step) if sync_start_below <= 0 else self.NEVER)

    def _sync_gate(self, training: bool):
        """1.0 where the sync loss counts, else 0.0. Validation always weighs it as configured, so
        ``val_loss`` (checkpoint selection) measures the same objective before and after the switch."""
        if not training or self.optimizer is None:
            return 1.0
        return keras.ops.cast(keras.ops.greater_equal(self.optimizer.iterations, self._sync_from.model), "float32")

    # ------------------------------------------------------------------------------------------ expert
    def attach_expert(self, expert) -> "Wav2Lip":
        """Use ``expert`` (a trained :class:`~lip2audspec.models.syncnet.SyncNet`, frozen) for the sync loss.

        Raises
        ------
        ModelError
            Its window or audio features do not match this generator's.
        """
        if expert is not None:
            ec = expert.config
            if ec.window != self.config.window:
                raise ModelError(f"the expert's window is {ec.window} frames; the generator's is {self.config.window}")
            if ec.audio_frames != self.config.audio_frames or ec.audio_dim != self.config.audio_dim:
                raise ModelError(f"the expert reads audio {ec.audio_shape} ({ec.audio_features}); the generator's training "
                                 f"data give ({self.config.audio_frames}, {self.config.audio_dim}): train the expert on the "
                                 "auditory spectrogram (audspec)")
            expert.trainable = False
        self._expert.model = expert
        return self

    @property
    def expert(self):
        """The attached lip-sync expert, or None."""
        return self._expert.model

    # ------------------------------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        faces, audio = inputs[0], inputs[1]
        c = self.config
        shape = keras.ops.shape(faces)
        b, t = shape[0], shape[1]
        f = keras.ops.reshape(faces, (-1, c.face_size, c.face_size, 6))
        a = keras.ops.reshape(audio, (-1, c.audio_frames, c.audio_dim))
        out = self.generator([f, a], training=training)
        return keras.ops.reshape(out, (b, t, c.face_size, c.face_size, 3))

    def _sync_loss(self, generated, expert_audio, training):
        from .syncnet import sync_bce_loss

        expert = self.expert
        mouths = expert_mouths(generated, expert.config.crop_size)
        v = expert.video_encoder(mouths, training=False)
        a = expert.audio_encoder(expert_audio, training=False)
        return sync_bce_loss(v, a, keras.ops.ones((keras.ops.shape(v)[0],)))

    def _lower(self, frames):
        s = self.config.face_size
        return keras.ops.reshape(frames[:, :, s // 2:], (-1, s // 2, s, 3))

    def compute_losses(self, data, training: bool) -> dict:
        (faces, audio, expert_audio), target = data
        c = self.config
        gen = self((faces, audio), training=training)
        zero = keras.ops.zeros(())
        err = keras.ops.abs(gen - target)
        half = c.face_size // 2
        l1_lower = keras.ops.mean(err[:, :, half:])
        if c.lower_weight == 1.0:
            l1 = keras.ops.mean(err)
        else:  # weighted mean over rows: the lower half's pixels count lower_weight times
            rows = np.where(np.arange(c.face_size) >= half, c.lower_weight, 1.0).astype("float32")
            w = keras.ops.convert_to_tensor(rows.reshape(1, 1, -1, 1, 1))
            l1 = keras.ops.mean(err * w) / float(rows.mean())
        sync = self._sync_loss(gen, expert_audio, training) if self.expert is not None and c.sync_weight > 0 else zero
        gan = disc = zero
        if self.discriminator is not None:
            p_fake = self.discriminator(self._lower(gen), training=False)
            gan = -keras.ops.mean(keras.ops.log(keras.ops.clip(p_fake, 1e-7, 1.0)))
        loss = c.recon_weight * l1 + c.sync_weight * self._sync_gate(training) * sync + c.disc_weight * gan
        return {"loss": loss, "l1": l1, "sync": sync, "gan": gan, "disc": disc, "l1_lower": l1_lower, "_gen": gen}

    def _checked_losses(self, data, training):
        parts = self.compute_losses(data, training=training)
        parts.pop("_gen", None)
        return parts

    def train_step(self, data):
        """Generator step on its own variables; then, with a discriminator, its BCE step on real vs generated."""
        import tensorflow as tf

        with tf.GradientTape() as tape:
            parts = self.compute_losses(data, training=True)
            loss = self.optimizer.scale_loss(parts["loss"])
        gvars = self.generator.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, gvars), gvars))
        gen = parts.pop("_gen")
        if self.discriminator is not None:
            target = data[1]
            with tf.GradientTape() as dtape:
                p_real = self.discriminator(self._lower(target), training=True)
                p_fake = self.discriminator(self._lower(keras.ops.stop_gradient(gen)), training=True)
                eps = 1e-7
                d = -keras.ops.mean(keras.ops.log(keras.ops.clip(p_real, eps, 1.0))) \
                    - keras.ops.mean(keras.ops.log(keras.ops.clip(1.0 - p_fake, eps, 1.0)))
            dvars = self.discriminator.trainable_variables
            self.optimizers["discriminator"].apply_gradients(zip(dtape.gradient(d, dvars), dvars))
            parts["disc"] = d
        return self._report(parts, data)

    def compile_for_training(self, *, learning_rate: float, optimizers=None, **compile_kwargs):
        """As the base; with a discriminator, its Adam at the same rate unless ``optimizers`` names one."""
        if self.discriminator is not None:
            optimizers = {"discriminator": learning_rate, **(optimizers or {})}
        return super().compile_for_training(learning_rate=learning_rate, optimizers=optimizers, **compile_kwargs)

    def generate(self, faces, audio, *, batch_size: int = 64) -> np.ndarray:
        """Faces for every frame (NumPy, batched): ``(T, S, S, 6)``, ``(T, audio_frames, audio_dim)`` ->
        ``(T, S, S, 3)`` float32 in [0, 1]."""
        faces = np.asarray(faces, np.float32)
        audio = np.asarray(audio, np.float32)
        if faces.ndim != 4 or faces.shape[1:] != self.config.face_shape[1:]:
            raise ParameterError(f"faces must have shape (T, {', '.join(map(str, self.config.face_shape[1:]))}), got {faces.shape}")
        if audio.shape != (len(faces),) + self.config.audio_shape[1:]:
            raise ParameterError(f"audio must have shape ({len(faces)}, {self.config.audio_frames}, {self.config.audio_dim}), "
                                 f"got {audio.shape}")
        out = [np.asarray(self.generator([faces[i:i + batch_size], audio[i:i + batch_size]], training=False))
               for i in range(0, len(faces), batch_size)]
        return np.concatenate(out) if out else np.zeros((0,) + self.config.face_shape[1:3] + (3,), np.float32)


def build_wav2lip(config: Wav2LipConfig | None = None) -> Wav2Lip:
    """Build (not compile) a Wav2Lip generator; ``config`` defaults to the ``paper`` configuration."""
    return Wav2Lip(config if config is not None else Wav2LipConfig())

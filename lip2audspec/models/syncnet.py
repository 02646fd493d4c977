"""SyncNet lip-sync expert (Chung & Zisserman, "Out of time: automated lip sync in the wild", ACCV
workshops 2016), in the form Wav2Lip uses it (Prajwal et al., ACM MM 2020).

Two streams map 0.2 s of a talking face to embeddings in one space:

* **video**: 5 consecutive mouth crops ``(5, S, S)`` (grey levels in [0, 1]), stacked as the channels of
  one image ``(S, S, 5)`` (the paper's "early fusion"), -> Conv2D blocks -> Dense -> embedding;
* **audio**: the matching 0.2 s of audio features, ``(20, F)`` frames at 100 frames/s: MFCC
  (``F = 13``, as the original) or the compressed auditory spectrogram of the prepared datasets
  (``F = 128``); a config choice (:attr:`SyncNetConfig.audio_features`), treated as a one-channel image
  ``(20, F, 1)`` -> Conv2D blocks -> Dense -> embedding.

Both embeddings go through a ReLU and are L2-normalised; the probability that a (video, audio) pair is
in sync is their cosine similarity (in [0, 1] for non-negative vectors). Training minimises the binary
cross-entropy of that probability against the pair's label, **Wav2Lip's cosine-BCE loss**
(:func:`sync_bce_loss`; not the original's contrastive margin loss on Euclidean distances). The
Euclidean distance between two normalised embeddings, ``sqrt(2 - 2 cos)``, is what LSE-D averages
(:mod:`lip2audspec.sync`), so distances lie in [0, sqrt(2)] -- on another scale than the published
LSE figures, which come from the original SyncNet weights (distances ~6-8, confidences ~0-10).

Presets (:data:`SYNCNET_PRESETS`, data like the Lip2AudSpec presets, with their optimiser defaults):

* ``paper``: the paper's widths (video conv 96-256-256-256-256 on 111 x 111 crops; audio conv
  64-128-256-256-256; fc 512; embedding 256 after fc7 of 256 ...); the pooling pattern is ours (2 x 2
  max-pools after the listed layers where the map is still >= 4 wide), MFCC features.
* ``small``: CPU-sized (48 x 48 crops, the ``small`` preparation's, first conv at stride 2; widths
  16-32-64-64; the auditory spectrogram averaged to 32 bands; embedding 128): about 8 M multiply-adds
  per pair.

Examples
--------
>>> m = SyncNet(syncnet_preset("small"))                                   # doctest: +SKIP
>>> v, a = m.infer((np.zeros((2, 5, 48, 48)), np.zeros((2, 20, 13))))      # doctest: +SKIP
>>> v.shape, a.shape                                                       # doctest: +SKIP
((2, 128), (2, 128))
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import keras
import numpy as np

from ..config import Config, check_choice, check_int, check_int_tuple, check_real
from ..errors import ParameterError
from .base import ConfiguredModel

__all__ = [
    "AUDIO_FEATURES",
    "SyncNetConfig",
    "SYNCNET_PRESETS",
    "syncnet_preset",
    "SyncNet",
    "build_syncnet",
    "sync_probability",
    "sync_bce_loss",
    "embedding_distance",
]

#: audio feature kinds and their width F per 10 ms frame
AUDIO_FEATURES = {"mfcc": 13, "audspec": 128}
#: audio frames per video frame (10 ms features, 25 fps video)
AUDIO_FRAMES_PER_VIDEO_FRAME = 4


@dataclass(frozen=True)
class SyncNetConfig(Config):
    """SyncNet lip-sync expert.

    Parameters
    ----------
    window : int
        Video frames per window (5 = 0.2 s at 25 fps, as the paper).
    crop_size : int
        Mouth-crop side S in pixels (paper: 111; small: 48, the ``small`` preparation's crops).
    audio_features : {"mfcc", "audspec"}
        MFCC (13 coefficients, as the original) or the compressed 128-channel auditory spectrogram.
    frames_per_video_frame : int
        Audio feature frames per video frame (4: 10 ms frames at 25 fps); the audio window is
        ``window * frames_per_video_frame`` frames.
    video_filters, audio_filters : tuple of int
        Conv2D widths of the streams (3 x 3 kernels, BatchNorm, ReLU).
    video_stride : int
        Stride of the first video conv layer (1; the ``small`` preset 2, to stay cheap on a CPU).
    audspec_pool : int
        With ``audio_features="audspec"``: adjacent channels averaged before the audio stream
        (128 / ``audspec_pool`` bands; the ``small`` preset 4, i.e. 32 bands). Unused for MFCC.
    video_pool_after, audio_pool_after : tuple of int
        1-based conv layers followed by a 2 x 2 max-pool (an axis already < 4 is not pooled).
    fc_units : int
        Hidden Dense width of each stream (paper fc6: 512).
    embed_dim : int
        Embedding width (paper fc7: 256).
    dropout : float
        Dropout before the embedding Dense, in training.

    Examples
    --------
    >>> SyncNetConfig(crop_size=48).audio_shape
    (20, 13)
    """

    KIND = "syncnet"

    window: int = 5
    crop_size: int = 111
    audio_features: str = "mfcc"
    frames_per_video_frame: int = AUDIO_FRAMES_PER_VIDEO_FRAME
    video_filters: tuple = (96, 256, 256, 256, 256)
    video_pool_after: tuple = (1, 2, 5)
    video_stride: int = 1
    audspec_pool: int = 1
    audio_filters: tuple = (64, 128, 256, 256, 256)
    audio_pool_after: tuple = (2, 5)
    fc_units: int = 512
    embed_dim: int = 256
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("window", "crop_size", "frames_per_video_frame", "fc_units", "embed_dim", "video_stride",
                     "audspec_pool"):
            check_int(self, name)
        check_choice(self, "audio_features", tuple(AUDIO_FEATURES))
        for stream in ("video", "audio"):
            check_int_tuple(self, f"{stream}_filters")
            check_int_tuple(self, f"{stream}_pool_after", allow_empty=True)
            n = len(getattr(self, f"{stream}_filters"))
            bad = [i for i in getattr(self, f"{stream}_pool_after") if i > n]
            if bad:
                raise ParameterError(f"SyncNetConfig.{stream}_pool_after holds {bad}, beyond the {n} conv layers")
        check_real(self, "dropout", hi=1.0, hi_open=True, what=" (a dropout rate)")
        if AUDIO_FEATURES["audspec"] % self.audspec_pool:
            raise ParameterError(f"SyncNetConfig.audspec_pool must divide {AUDIO_FEATURES['audspec']}, got {self.audspec_pool}")

    @property
    def audio_dim(self) -> int:
        """Feature width F (13 for MFCC, 128 for the auditory spectrogram)."""
        return AUDIO_FEATURES[self.audio_features]

    @property
    def audio_frames(self) -> int:
        """Audio frames per window (``window * frames_per_video_frame``, 20)."""
        return self.window * self.frames_per_video_frame

    @property
    def video_shape(self) -> tuple:
        """``(window, crop_size, crop_size)``."""
        return (self.window, self.crop_size, self.crop_size)

    @property
    def audio_shape(self) -> tuple:
        """``(audio_frames, audio_dim)``."""
        return (self.audio_frames, self.audio_dim)


def _optimizer_defaults(learning_rate: float, batch_size: int) -> dict:
    return {"learning_rate": learning_rate, "batch_size": batch_size, "lr_factor": 0.5, "lr_patience": 3}


#: ``{name: {"model": SyncNetConfig, "training": optimiser defaults}}`` (read-only)
SYNCNET_PRESETS = types.MappingProxyType({
    # The paper's layer widths and input sizes (111 x 111 grey mouth crops, 5 frames; 13 x 20 MFCC);
    # Wav2Lip trained its expert with Adam 1e-4.
    "paper": types.MappingProxyType({"model": SyncNetConfig(),
                                     "training": types.MappingProxyType(_optimizer_defaults(1e-4, 64))}),
    # CPU preset for the 48 x 48 crops of the small preparation.
    "small": types.MappingProxyType({
        "model": SyncNetConfig(crop_size=48, video_filters=(16, 32, 64, 64), video_pool_after=(2, 3, 4),
                               video_stride=2, audio_filters=(16, 32, 64, 64), audio_pool_after=(2, 3, 4),
                               audspec_pool=4, fc_units=256, embed_dim=128, dropout=0.2),
        "training": types.MappingProxyType(_optimizer_defaults(1e-3, 64)),
    }),
})


def syncnet_preset(name: str, *, audio_features: str | None = None) -> SyncNetConfig:
    """The :class:`SyncNetConfig` of preset ``name`` (``"paper"`` or ``"small"``), optionally with another
    ``audio_features`` kind."""
    try:
        c = SYNCNET_PRESETS[name]["model"]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown SyncNet preset {name!r}; expected one of {sorted(SYNCNET_PRESETS)}") from None
    return c if audio_features is None else c.replace(audio_features=audio_features)


# ---------------------------------------------------------------------------------------------------------------
def _stream(x, filters, pool_after, fc_units, embed_dim, dropout, name, stride=1):
    for i, f in enumerate(filters, 1):
        x = keras.layers.Conv2D(f, 3, strides=stride if i == 1 else 1, padding="same", use_bias=False,
                                kernel_initializer="he_normal", name=f"{name}_conv{i}")(x)
        x = keras.layers.BatchNormalization(name=f"{name}_conv{i}_bn")(x)
        x = keras.layers.ReLU(name=f"{name}_conv{i}_act")(x)
        if i in pool_after:
            h, w = x.shape[1], x.shape[2]
            pool = (2 if h >= 4 else 1, 2 if w >= 4 else 1)
            if pool != (1, 1):
                x = keras.layers.MaxPooling2D(pool, name=f"{name}_conv{i}_pool")(x)
    x = keras.layers.Flatten(name=f"{name}_flat")(x)
    x = keras.layers.Dense(fc_units, kernel_initializer="he_normal", name=f"{name}_fc")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_fc_bn")(x)
    x = keras.layers.ReLU(name=f"{name}_fc_act")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_drop")(x)
    x = keras.layers.Dense(embed_dim, kernel_initializer="he_normal", name=f"{name}_embed_dense")(x)
    x = keras.layers.ReLU(name=f"{name}_embed_relu")(x)
    return keras.layers.UnitNormalization(axis=-1, name=f"{name}_embedding")(x)


def _video_encoder(c: SyncNetConfig) -> keras.Model:
    inp = keras.Input(c.video_shape, name="mouth_window")
    x = keras.layers.Permute((2, 3, 1), name="frames_as_channels")(inp)  # (S, S, window)
    x = keras.layers.BatchNormalization(name="video_in_bn")(x)
    out = _stream(x, c.video_filters, c.video_pool_after, c.fc_units, c.embed_dim, c.dropout, "video",
                  stride=c.video_stride)
    return keras.Model(inp, out, name="video_encoder")


def _audio_encoder(c: SyncNetConfig) -> keras.Model:
    inp = keras.Input(c.audio_shape, name="audio_window")
    x = keras.layers.Reshape(c.audio_shape + (1,), name="audio_as_image")(inp)  # (frames, F, 1)
    if c.audio_features == "audspec" and c.audspec_pool > 1:
        x = keras.layers.AveragePooling2D((1, c.audspec_pool), name="audio_bands")(x)
    x = keras.layers.BatchNormalization(axis=2, name="audio_in_bn")(x)  # per feature: MFCC scales differ a lot
    out = _stream(x, c.audio_filters, c.audio_pool_after, c.fc_units, c.embed_dim, c.dropout, "audio")
    return keras.Model(inp, out, name="audio_encoder")


# ---------------------------------------------------------------------------------------------------------------
def sync_probability(video_emb, audio_emb, *, eps: float = 1e-7):
    """Cosine similarity of (normalised, non-negative) embeddings, clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    video_emb, audio_emb : tensor, shape (B, D)

    Returns
    -------
    tensor, shape (B,)
        The probability that each pair is in sync (Wav2Lip's ``d``).
    """
    v = keras.ops.convert_to_tensor(video_emb)
    a = keras.ops.convert_to_tensor(audio_emb)
    v = v / keras.ops.maximum(keras.ops.norm(v, axis=-1, keepdims=True), eps)
    a = a / keras.ops.maximum(keras.ops.norm(a, axis=-1, keepdims=True), eps)
    return keras.ops.clip(keras.ops.sum(v * a, axis=-1), eps, 1.0 - eps)


def sync_bce_loss(video_emb, audio_emb, labels):
    """Wav2Lip's sync loss: binary cross-entropy of :func:`sync_probability` against ``labels``.

    Parameters
    ----------
    video_emb, audio_emb : tensor, shape (B, D)
    labels : tensor, shape (B,)
        1 for an in-sync pair, 0 for an off-sync one. A lip generator trained against the expert uses
        labels of 1 (its frames should be in sync with the audio).

    Returns
    -------
    scalar tensor
        Mean over the batch.

    Examples
    --------
    >>> float(sync_bce_loss(np.eye(2, dtype="float32"), np.eye(2, dtype="float32"), np.ones(2)))  # doctest: +SKIP
    1.1920929e-07
    """
    p = sync_probability(video_emb, audio_emb)
    y = keras.ops.cast(keras.ops.reshape(labels, (-1,)), p.dtype)
    return -keras.ops.mean(y * keras.ops.log(p) + (1.0 - y) * keras.ops.log(1.0 - p))


def embedding_distance(video_emb, audio_emb) -> np.ndarray:
    """Euclidean distance between paired embeddings (NumPy), ``(B, D), (B, D) -> (B,)``."""
    return np.linalg.norm(np.asarray(video_emb, np.float64) - np.asarray(audio_emb, np.float64), axis=-1)


class SyncNet(ConfiguredModel):
    """Functional SyncNet: ``(video (B, 5, S, S), audio (B, 20, F))`` -> ``(video_emb, audio_emb)``, each
    ``(B, embed_dim)``, non-negative and unit-norm.

    Attributes
    ----------
    video_encoder, audio_encoder : keras.Model
        The two streams, usable alone (a lip generator embeds only its frames).

    Notes
    -----
    Training (:meth:`compute_losses`) takes batches ``((video, audio), labels)`` and minimises
    :func:`sync_bce_loss`; it reports ``loss`` and ``accuracy`` (probability > 0.5 vs label).
    """

    config_class = SyncNetConfig
    default_name = "syncnet"
    loss_keys = ("loss", "accuracy")

    @staticmethod
    def build_graph(config: SyncNetConfig):
        venc, aenc = _video_encoder(config), _audio_encoder(config)
        video = keras.Input(config.video_shape, name="video")
        audio = keras.Input(config.audio_shape, name="audio")
        return [video, audio], [venc(video), aenc(audio)]

    @property
    def video_encoder(self) -> keras.Model:
        return self.get_layer("video_encoder")

    @property
    def audio_encoder(self) -> keras.Model:
        return self.get_layer("audio_encoder")

    def compute_losses(self, data, training: bool) -> dict:
        (video, audio), labels = data
        v, a = self([video, audio], training=training)
        loss = sync_bce_loss(v, a, labels)
        p = sync_probability(v, a)
        y = keras.ops.cast(keras.ops.reshape(labels, (-1,)), p.dtype)
        acc = keras.ops.mean(keras.ops.cast(keras.ops.equal(keras.ops.cast(p > 0.5, p.dtype), y), p.dtype))
        return {"loss": loss + sum(self.losses) if self.losses else loss, "accuracy": acc}


def build_syncnet(config: SyncNetConfig | None = None) -> SyncNet:
    """Build (not compile) a SyncNet; ``config`` defaults to the ``paper`` configuration."""
    return SyncNet(config if config is not None else SyncNetConfig())

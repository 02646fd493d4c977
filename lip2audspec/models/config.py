"""Model configurations (frozen, validated dataclasses) and the ``paper`` / ``small`` presets.

A preset is *data*: the same builders (:func:`~lip2audspec.models.build_autoencoder`,
:func:`~lip2audspec.models.build_lipnet`) turn either preset into a model. Every checkpoint folder
holds the configuration that built it as ``config.json`` (:meth:`AutoencoderConfig.save_json`,
:func:`load_config`).

The model configs describe the network only. Optimiser settings (learning rate, batch size, the
learning-rate schedule) belong to the training configuration; each preset carries its per-family
defaults as plain data in :attr:`ModelPreset.training`. Schema 1 of the model configs (files and
``.keras`` models written before this split) held ``learning_rate``, ``batch_size``, ``lr_factor`` and
``lr_patience``; reading such a dict drops them (:func:`split_optimizer_settings` keeps them for the
training layer).

The ``paper`` values follow Lip2AudSpec (H. Akbari, H. Arora, L. Cao, N. Mesgarani, ICASSP 2018) and
the authors' published Keras code; where the two differ the choice is noted on the field.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ..config import Config, check_bool, check_choice, check_int, check_int_tuple, check_real, is_int
from ..errors import ParameterError

__all__ = [
    "AutoencoderConfig",
    "LipNetConfig",
    "ModelPreset",
    "PRESETS",
    "OPTIMIZER_KEYS",
    "config_class",
    "split_optimizer_settings",
    "preset",
    "load_config",
]

#: optimiser settings that schema 1 of the model configs held (now the training configuration's)
OPTIMIZER_KEYS = ("learning_rate", "batch_size", "lr_factor", "lr_patience")


def split_optimizer_settings(d: Mapping) -> tuple:
    """Split a model-config dict into the model part and its optimiser settings (schema 1 -> 2).

    Parameters
    ----------
    d : mapping
        A model config dict, e.g. the ``"model"`` entry of an old run folder's ``config.json``;
        header keys (``"kind"``, ``"schema"``) stay in the model part.

    Returns
    -------
    model : dict
        ``d`` without :data:`OPTIMIZER_KEYS`.
    optimizer : dict
        The optimiser settings ``d`` held (possibly empty).

    Examples
    --------
    >>> split_optimizer_settings({"bottleneck": 32, "learning_rate": 1e-4})
    ({'bottleneck': 32}, {'learning_rate': 0.0001})
    """
    if not isinstance(d, Mapping):
        raise ParameterError(f"split_optimizer_settings expects a dict, got {type(d).__name__}")
    model = {k: v for k, v in d.items() if k not in OPTIMIZER_KEYS}
    optimizer = {k: d[k] for k in OPTIMIZER_KEYS if k in d}
    return model, optimizer


class _ModelConfig(Config):
    """Shared by the Lip2AudSpec model configs: schema 2 (no optimiser settings) and the loss weights."""

    SCHEMA_VERSION: ClassVar[int] = 2

    @classmethod
    def migrate(cls, d: dict, version: int) -> dict:
        """Schema 1 -> 2: drop :data:`OPTIMIZER_KEYS` (now the training configuration's)."""
        return split_optimizer_settings(d)[0] if version < 2 else d

    def _check_loss_weights(self) -> None:
        check_real(self, "corr_weight")
        check_real(self, "mse_weight")
        if self.corr_weight == 0 and self.mse_weight == 0:
            raise ParameterError(f"{type(self).__name__}: corr_weight and mse_weight are both 0 (the loss would be 0)")


# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AutoencoderConfig(_ModelConfig):
    """Frame-wise auditory-spectrogram autoencoder (Lip2AudSpec, Fig. 1 top).

    Encoder ``n_channels -> encoder_units... -> bottleneck`` (each hidden Dense followed by BatchNorm and
    LeakyReLU; the bottleneck Dense by BatchNorm and a sigmoid, so codes lie in (0, 1)); in training
    Gaussian noise is added to the code; decoder ``bottleneck -> decoder_units... -> n_channels``
    (hidden Dense + BatchNorm + LeakyReLU, linear output).

    Parameters
    ----------
    n_channels : int
        Spectrogram channels per frame (128 for the NSL auditory spectrogram).
    encoder_units, decoder_units : tuple of int
        Hidden widths (paper: (512, 128, 64) and (64, 128)).
    bottleneck : int
        Code width D; also the lip network's ``out_dim`` (paper: 32).
    kernel_l1, kernel_l2 : float
        L1/L2 weight regularisation of the bottleneck Dense (issue: 1e-3 each; the authors' code used
        ``l1_l2(.001)``, i.e. Keras 2 defaults l1 = 1e-3, l2 = 1e-2, and no activity term).
    activity_l1, activity_l2 : float
        L1/L2 activity regularisation of the bottleneck Dense output (before BatchNorm; issue: 1e-3).
    noise_std : float
        Std of the Gaussian noise added to the (sigmoid) code in training only (paper: 0.05).
    leaky_alpha : float
        Negative slope of the LeakyReLUs (0.3, the Keras default the authors used).
    corr_weight, mse_weight : float
        Loss ``mse_weight * MSE - corr_weight * r`` (paper: 1 and 1; see
        :class:`~lip2audspec.models.layers.CorrelationMSELoss`).

    Notes
    -----
    Schema 2. A schema-1 dict (``config.json`` or ``.keras`` file written before optimiser settings
    moved to the training configuration) is read with its ``learning_rate`` and ``batch_size`` dropped;
    the ``paper`` values (Adam 1e-4, 128 frames per batch) are in ``PRESETS["paper"].training``.

    Examples
    --------
    >>> AutoencoderConfig(encoder_units=(256, 64), decoder_units=(64, 256)).bottleneck
    32
    """

    KIND = "autoencoder"

    n_channels: int = 128
    encoder_units: tuple = (512, 128, 64)
    bottleneck: int = 32
    decoder_units: tuple = (64, 128)
    kernel_l1: float = 1e-3
    kernel_l2: float = 1e-3
    activity_l1: float = 1e-3
    activity_l2: float = 1e-3
    noise_std: float = 0.05
    leaky_alpha: float = 0.3
    corr_weight: float = 1.0
    mse_weight: float = 1.0

    def __post_init__(self):
        check_int(self, "n_channels")
        check_int(self, "bottleneck")
        check_int_tuple(self, "encoder_units", allow_empty=True)
        check_int_tuple(self, "decoder_units", allow_empty=True)
        for name in ("kernel_l1", "kernel_l2", "activity_l1", "activity_l2", "noise_std", "leaky_alpha"):
            check_real(self, name)
        self._check_loss_weights()


# ---------------------------------------------------------------------------------------------------------------
LAST_CONV_ACTIVATIONS = ("elu", "leaky_relu")


@dataclass(frozen=True)
class LipNetConfig(_ModelConfig):
    """Lip-reading network: window of mouth crops -> the window's bottleneck codes (Lip2AudSpec, Fig. 1).

    ``(window, crop_size, crop_size, channels)`` -> augmentation (training only) -> ``len(conv_filters)``
    Conv3D blocks (3x3x3, ``same`` padding, he_normal, L2 ``l2``, BatchNorm, LeakyReLU; the last one
    ``last_conv_activation``), spatial-only MaxPool3D (1, 2, 2) after the 1-based layers in
    ``pool_after`` and Dropout ``conv_dropout`` after those in ``dropout_after`` -> per-frame flatten to
    ``(window, features)`` -> LSTM(``lstm_units``) -> BatchNorm, ELU, Dropout ``lstm_dropout`` ->
    (flatten) -> Dense(``dense_units``), BatchNorm, ELU, Dropout ``dense_dropout`` ->
    Dense(``out_frames * out_dim``, sigmoid) -> reshape ``(out_frames, out_dim)``.

    Parameters
    ----------
    window : int
        Video frames per window (paper: 5 = 200 ms at 25 fps): the span of the predicted targets.
    context : int
        Extra input frames on each side of the window (paper: 0). With ``context = c`` the network sees
        ``window + 2 c`` frames and still predicts the codes of the central ``window`` frames, so every
        predicted frame has look-ahead and look-back (coarticulation; the mouth often moves before the
        sound). Not in the paper; the ``small`` preset uses 2.
    crop_size : int
        Mouth-crop side S in pixels (paper: 128). Must survive the pools: ``crop_size >> len(pool_after) >= 1``.
    channels : int
        Input channels (3: frame, 1st and 2nd temporal difference).
    conv_filters : tuple of int
        Filters of each Conv3D layer (paper: 32-32-32-64-64-128-128).
    conv_kernel : int
        Cubic kernel size (3).
    pool_after, dropout_after : tuple of int
        1-based conv layers followed by a spatial max-pool (paper: 1, 2, 3, 5, 7) or by dropout (3, 5, 7).
    conv_dropout : float
        Dropout rate after the layers in ``dropout_after`` (0.25).
    l2 : float
        L2 weight regularisation of the Conv3D kernels (5e-4).
    leaky_alpha : float
        LeakyReLU negative slope (0.3, the Keras default the authors used).
    last_conv_activation : {"elu", "leaky_relu"}
        Activation of the last conv layer (paper: ELU).
    lstm_units : int
        LSTM width (512).
    lstm_return_sequences : bool
        True (the authors' code): the LSTM returns all ``window`` steps, which are flattened before the
        Dense layer, so each output frame can draw on every time step's state. False: only the last
        state feeds the Dense head.
    lstm_dropout : float
        Dropout after the LSTM's BatchNorm + ELU (0.25 in the authors' code).
    dense_units : int
        Hidden Dense width (2048).
    dense_dropout : float
        Dropout after the hidden Dense (0.4).
    out_frames : int
        Target frames per window (``4 * window`` = 20: 10 ms spectrogram frames per 40 ms video frame).
    out_dim : int
        Width of each target frame: the autoencoder's bottleneck D (32).
    corr_weight, mse_weight : float
        Loss weights, as for the autoencoder.
    flip_prob, noise_prob : float
        Per window, probability of a horizontal flip of all frames, or of additive Gaussian noise; the
        rest (``1 - flip_prob - noise_prob``) stays unchanged. The authors' code drew flip / noise /
        nothing with equal probability (1/3 each).
    noise_std : float
        Std of the augmentation noise (0.01).
    augment_seed : int or None
        Seed of the augmentation layer's random stream (None: nondeterministic).

    Notes
    -----
    Schema 2. A schema-1 dict is read with its ``learning_rate``, ``batch_size``, ``lr_factor`` and
    ``lr_patience`` dropped; the ``paper`` values (Adam 1e-4, 32 windows per batch, learning rate
    divided by 5 after 4 epochs without validation improvement) are in ``PRESETS["paper"].training``.

    Examples
    --------
    >>> LipNetConfig(context=2, crop_size=48).input_shape
    (9, 48, 48, 3)
    """

    KIND = "lipnet"

    window: int = 5
    context: int = 0
    crop_size: int = 128
    channels: int = 3
    conv_filters: tuple = (32, 32, 32, 64, 64, 128, 128)
    conv_kernel: int = 3
    pool_after: tuple = (1, 2, 3, 5, 7)
    dropout_after: tuple = (3, 5, 7)
    conv_dropout: float = 0.25
    l2: float = 5e-4
    leaky_alpha: float = 0.3
    last_conv_activation: str = "elu"
    lstm_units: int = 512
    lstm_return_sequences: bool = True
    lstm_dropout: float = 0.25
    dense_units: int = 2048
    dense_dropout: float = 0.4
    out_frames: int = 20
    out_dim: int = 32
    corr_weight: float = 1.0
    mse_weight: float = 1.0
    flip_prob: float = 1.0 / 3.0
    noise_prob: float = 1.0 / 3.0
    noise_std: float = 0.01
    augment_seed: int | None = None

    def __post_init__(self):
        for name in ("window", "crop_size", "channels", "conv_kernel", "lstm_units", "dense_units", "out_frames",
                     "out_dim"):
            check_int(self, name)
        check_int(self, "context", lo=0)
        check_int_tuple(self, "conv_filters")
        n = len(self.conv_filters)
        for name in ("pool_after", "dropout_after"):
            check_int_tuple(self, name, allow_empty=True)
            t = getattr(self, name)
            if any(i > n for i in t) or len(set(t)) != len(t):
                raise ParameterError(
                    f"LipNetConfig.{name} must hold distinct 1-based conv layer indices in [1, {n}], got {t}"
                )
            object.__setattr__(self, name, tuple(sorted(t)))
        if self.crop_size >> len(self.pool_after) < 1:
            raise ParameterError(
                f"LipNetConfig.crop_size={self.crop_size} is too small for {len(self.pool_after)} spatial "
                f"2x2 max-pools; need crop_size >= {2 ** len(self.pool_after)}"
            )
        for name in ("conv_dropout", "lstm_dropout", "dense_dropout"):
            check_real(self, name, hi=1.0, hi_open=True, what=" (a dropout rate)")
        for name in ("l2", "leaky_alpha", "noise_std"):
            check_real(self, name)
        self._check_loss_weights()
        check_choice(self, "last_conv_activation", LAST_CONV_ACTIVATIONS)
        check_bool(self, "lstm_return_sequences")
        check_real(self, "flip_prob", hi=1.0)
        check_real(self, "noise_prob", hi=1.0)
        if self.flip_prob + self.noise_prob > 1.0 + 1e-9:
            raise ParameterError(
                f"LipNetConfig: flip_prob + noise_prob must be <= 1, got {self.flip_prob} + {self.noise_prob}"
            )
        if self.augment_seed is not None and not is_int(self.augment_seed):
            raise ParameterError(f"LipNetConfig.augment_seed must be an integer or None, got {self.augment_seed!r}")

    @property
    def input_shape(self) -> tuple:
        """``(window + 2 * context, crop_size, crop_size, channels)``."""
        return (self.window + 2 * self.context, self.crop_size, self.crop_size, self.channels)

    @property
    def output_shape(self) -> tuple:
        """``(out_frames, out_dim)``."""
        return (self.out_frames, self.out_dim)


# ---------------------------------------------------------------------------------------------------------------
def _frozen_training(training) -> types.MappingProxyType:
    """``{family: {setting: value}}`` as read-only mappings (copies), validated for shape."""
    if not isinstance(training, Mapping):
        raise ParameterError(f"ModelPreset.training must be a mapping of family -> settings, got {type(training).__name__}")
    out = {}
    for family, settings in training.items():
        if not isinstance(family, str) or not isinstance(settings, Mapping) or not all(isinstance(k, str) for k in settings):
            raise ParameterError(f"ModelPreset.training[{family!r}] must map setting names to values, got {settings!r}")
        out[family] = types.MappingProxyType(dict(settings))
    return types.MappingProxyType(out)


@dataclass(frozen=True)
class ModelPreset:
    """A matching pair of configurations: the lip network predicts the autoencoder's bottleneck codes.

    Parameters
    ----------
    name : str
    autoencoder : AutoencoderConfig
    lipnet : LipNetConfig
    training : mapping of str to mapping
        Per-family optimiser defaults as plain data, ``{"autoencoder": {...}, "lipnet": {...}}`` with
        the keys of :data:`OPTIMIZER_KEYS` (``learning_rate``, ``batch_size``, ``lr_factor``,
        ``lr_patience``); the training configuration reads its defaults from here. Stored read-only.

    Examples
    --------
    >>> PRESETS["paper"].training["lipnet"]["batch_size"]
    32
    """

    name: str
    autoencoder: AutoencoderConfig
    lipnet: LipNetConfig
    training: Mapping = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if not isinstance(self.autoencoder, AutoencoderConfig) or not isinstance(self.lipnet, LipNetConfig):
            raise ParameterError("ModelPreset needs an AutoencoderConfig and a LipNetConfig")
        if self.lipnet.out_dim != self.autoencoder.bottleneck:
            raise ParameterError(
                f"preset {self.name!r}: lipnet.out_dim={self.lipnet.out_dim} differs from the autoencoder "
                f"bottleneck {self.autoencoder.bottleneck}"
            )
        object.__setattr__(self, "training", _frozen_training(self.training))


def _optimizer_defaults(learning_rate: float) -> dict:
    schedule = {"learning_rate": learning_rate, "lr_factor": 0.2, "lr_patience": 4}
    return {"autoencoder": {**schedule, "batch_size": 128}, "lipnet": {**schedule, "batch_size": 32}}


PRESETS = types.MappingProxyType({
    # As published (paper + authors' code): Adam 1e-4; 128 frames / 32 windows per batch; learning rate
    # divided by 5 after 4 epochs without validation improvement.
    "paper": ModelPreset("paper", AutoencoderConfig(), LipNetConfig(), training=_optimizer_defaults(1e-4)),
    # CPU preset: 48x48 crops (5 pools: 48 -> 24 -> 12 -> 6 -> 3 -> 1), conv filters 8-8-16-16-32-32-64,
    # LSTM 128, Dense 256, same bottleneck width 32, learning rate 1e-3 (fewer, faster epochs), and 2 frames
    # of input context on each side of the 5-frame window (9 frames in, the central 5 frames' codes out):
    # on the demo corpus this raised held-out Corr2D from 0.848 to 0.891 and word accuracy from 24 % to
    # 36 % at the same 30 epochs. One training step of 32 windows takes about 0.16 s on 2 CPU cores
    # (Keras 3.15 / TF 2.21, no XLA). Same builders.
    "small": ModelPreset(
        "small",
        AutoencoderConfig(encoder_units=(256, 64), decoder_units=(64, 256)),
        LipNetConfig(
            context=2,
            crop_size=48,
            conv_filters=(8, 8, 16, 16, 32, 32, 64),
            lstm_units=128,
            dense_units=256,
        ),
        training=_optimizer_defaults(1e-3),
    ),
})


def preset(name: str) -> ModelPreset:
    """The :class:`ModelPreset` called ``name`` (``"paper"`` or ``"small"``)."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise ParameterError(f"unknown model preset {name!r}; expected one of {sorted(PRESETS)}") from None


def config_class(kind: str) -> type:
    """The model config class of ``kind`` (``"autoencoder"``, ``"lipnet"``, ``"syncnet"``, or a sequence family
    such as ``"framesync"``), as run folders record it."""
    from .families import FAMILIES  # sequence families (imported late: they build on this module)
    from .syncnet import SyncNetConfig  # the lip-sync expert's config lives beside its graph code

    kinds = {c.KIND: c for c in (AutoencoderConfig, LipNetConfig, SyncNetConfig)}
    kinds.update({f.config_class.KIND: f.config_class for f in FAMILIES.values()})
    if kind not in kinds:
        raise ParameterError(f"unknown model kind {kind!r}; expected one of {sorted(kinds)}")
    return kinds[kind]


def config_from_dict(d, *, source="model config", cls: type | None = None):
    """The config of the kind ``d["kind"]`` names, built from the dict as :func:`load_config` reads a file.

    A dict without a ``"schema"`` key is schema 1 and is migrated (its optimiser settings dropped). Errors
    are prefixed with ``source`` (e.g. the file the dict came from). ``cls``: build this config class
    instead of looking the kind up (for kinds :func:`config_class` does not list, such as ``"wav2lip"``;
    a dict of another kind is refused by ``cls.from_dict``).
    """
    try:
        if cls is None:
            cls = config_class(d.get("kind") if isinstance(d, dict) else None)
        return cls.from_dict(d, schema=1 if "schema" not in d else None)
    except ParameterError as exc:
        raise ParameterError(f"{source}: {exc}") from None


def load_config(path):
    """Read a ``config.json`` written by ``save_json`` and return the config of the kind it names.

    A file without a ``"schema"`` key is schema 1 and is migrated (its optimiser settings dropped).
    """
    path = Path(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ParameterError(f"invalid model config JSON in {path}: {exc}") from None
    return config_from_dict(d, source=path)

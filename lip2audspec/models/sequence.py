"""Shared parts of the whole-clip (sequence) model families: config base, 3D-CNN front end, BiLSTM encoder.

Sequence families (:mod:`.framesync`, :mod:`.lip2wav`, :mod:`.lipsound2`) see a whole clip of mouth
crops ``(B, T, S, S, 3)`` (frame, 1st and 2nd temporal difference, as the window network) at the video
rate (25 fps) and predict all ``k T`` target frames of the clip (k = 4 spectrogram frames of 10 ms per
40 ms video frame): the compressed 128-channel auditory spectrogram (``target="spec"``, default) or the
autoencoder's bottleneck codes (``target="bottleneck"``, decoded to the spectrogram by the autoencoder).

The visual front end follows Lip2Wav (K R Prajwal, R Mukhopadhyay, V Namboodiri, C V Jawahar, CVPR 2020):
stages of a strided Conv3D (spatial stride 2) + BatchNorm + ReLU followed by residual blocks
(two convolutions + BatchNorm, identity skip), then a per-frame projection to ``front_units``. The time
axis is never strided (the encoder runs at 25 fps) and may have any length (``None``), so a model
trained on 3 s clips runs on clips of any length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import keras

from ..config import check_choice, check_int, check_int_tuple, check_real, is_int
from ..errors import ParameterError
from .config import _ModelConfig
from .layers import RandomFlipOrNoise, RandomShift

__all__ = ["SequenceConfig", "TARGETS", "visual_front_end", "bilstm_stack"]

#: what a sequence family can predict
TARGETS = ("spec", "bottleneck")


@dataclass(frozen=True)
class SequenceConfig(_ModelConfig):
    """Fields every sequence family shares (front end, target, augmentation, loss weights).

    Parameters
    ----------
    crop_size : int
        Mouth-crop side S in pixels (must survive the front end's spatial strides).
    channels : int
        Input channels (3: frame, 1st and 2nd difference).
    frames_per_video_frame : int
        k target frames per video frame (4).
    target : {"spec", "bottleneck"}
        Predict the compressed auditory spectrogram (``out_dim`` = 128) or the autoencoder's codes
        (``out_dim`` = its bottleneck, 32). Both reach audio through the same path (codes are decoded).
    out_dim : int
        Width D of a target frame.
    front_filters : tuple of int
        Filters of each front-end stage; each stage halves the crop side (strided Conv3D).
    front_kernel : tuple of int
        (time, height, width) kernel of each stage's strided convolution.
    res_blocks : tuple of int
        Residual blocks of each stage (same length as ``front_filters``).
    res_kernel : tuple of int
        (time, height, width) kernel of the residual blocks' convolutions ((3, 3, 3) in Lip2Wav;
        (1, 3, 3) is 3x cheaper and leaves the time context to the recurrent encoder).
    front_units : int
        Per-frame feature width after the front end.
    front_dropout : float
        Dropout on the per-frame features.
    flip_prob, noise_prob, noise_std, augment_seed
        Training augmentation of the whole clip (:class:`~lip2audspec.models.layers.RandomFlipOrNoise`).
    shift_px : int
        Training augmentation: each clip moved by up to this many pixels in x and y
        (:class:`~lip2audspec.models.layers.RandomShift`; 0: off).
    corr_weight, mse_weight : float
        Loss weights (``mse_weight * MSE - corr_weight * r`` per frame, as Lip2AudSpec).
    tcorr_weight, tcorr_frames
        Weight (0: off, as published) and segment length in target frames of the temporal-correlation
        loss term (each channel's r across time within segments, STOI's measure; see
        :class:`~lip2audspec.models.layers.CorrelationMSELoss`).
    bn_momentum : float
        Momentum of every BatchNorm's moving statistics (0.9; Keras' 0.99 needs ~500 updates to forget its
        initial statistics, more than a few CPU epochs of whole clips give, and left inference-mode
        outputs biased: measured test Corr2D 0.36 vs 0.85 after re-estimating the statistics).
    """

    target: str = "spec"
    crop_size: int = 48
    channels: int = 3
    frames_per_video_frame: int = 4
    out_dim: int = 128
    front_filters: tuple = (16, 32, 64, 64)
    front_kernel: tuple = (3, 5, 5)
    res_blocks: tuple = (1, 1, 1, 1)
    res_kernel: tuple = (1, 3, 3)
    front_units: int = 256
    front_dropout: float = 0.2
    flip_prob: float = 1.0 / 3.0
    noise_prob: float = 1.0 / 3.0
    noise_std: float = 0.01
    augment_seed: int | None = None
    corr_weight: float = 1.0
    mse_weight: float = 1.0
    bn_momentum: float = 0.9
    tcorr_weight: float = 0.0
    tcorr_frames: int = 40
    shift_px: int = 0

    #: spatial stride of each front-end stage
    STRIDE: ClassVar[int] = 2

    def _check_sequence(self) -> None:
        check_choice(self, "target", TARGETS)
        for name in ("crop_size", "channels", "frames_per_video_frame", "out_dim", "front_units"):
            check_int(self, name)
        check_int_tuple(self, "front_filters")
        check_int_tuple(self, "res_blocks", lo=0)
        if len(self.res_blocks) != len(self.front_filters):
            raise ParameterError(f"{type(self).__name__}.res_blocks needs one count per front-end stage "
                                 f"({len(self.front_filters)}), got {self.res_blocks}")
        for name in ("front_kernel", "res_kernel"):
            check_int_tuple(self, name)
            if len(getattr(self, name)) != 3:
                raise ParameterError(f"{type(self).__name__}.{name} must be a (time, height, width) kernel, got "
                                     f"{getattr(self, name)}")
        if self.crop_size // self.STRIDE ** len(self.front_filters) < 1:
            raise ParameterError(f"{type(self).__name__}.crop_size={self.crop_size} is too small for "
                                 f"{len(self.front_filters)} stages of stride {self.STRIDE}; need crop_size >= "
                                 f"{self.STRIDE ** len(self.front_filters)}")
        check_real(self, "front_dropout", hi=1.0, hi_open=True, what=" (a dropout rate)")
        check_real(self, "flip_prob", hi=1.0)
        check_real(self, "noise_prob", hi=1.0)
        check_real(self, "noise_std")
        check_real(self, "bn_momentum", hi=1.0, hi_open=True, what=" (a moving-average momentum in [0, 1))")
        if self.flip_prob + self.noise_prob > 1.0 + 1e-9:
            raise ParameterError(f"{type(self).__name__}: flip_prob + noise_prob must be <= 1, got "
                                 f"{self.flip_prob} + {self.noise_prob}")
        if self.augment_seed is not None and not is_int(self.augment_seed):
            raise ParameterError(f"{type(self).__name__}.augment_seed must be an integer or None, got {self.augment_seed!r}")
        self._check_loss_weights()
        check_real(self, "tcorr_weight")
        check_int(self, "tcorr_frames", lo=2)
        check_int(self, "shift_px", lo=0)

    def __post_init__(self):
        self._check_sequence()

    @property
    def input_shape(self) -> tuple:
        """``(None, crop_size, crop_size, channels)``: any number of frames."""
        return (None, self.crop_size, self.crop_size, self.channels)


def _conv_bn(x, filters, kernel, strides, name, *, act=True, momentum=0.9):
    x = keras.layers.Conv3D(filters, kernel, strides=strides, padding="same", use_bias=False,
                            kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = keras.layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x) if act else x


def visual_front_end(inp, c: SequenceConfig, *, name: str = "front"):
    """The 3D-CNN front end: ``(B, T, S, S, C)`` -> ``(B, T, front_units)`` (functional Keras graph).

    Augmentation (training only: :class:`RandomShift` when ``shift_px`` > 0, then
    :class:`RandomFlipOrNoise`) -> per stage: strided Conv3D (``front_kernel``, spatial stride 2) + BN +
    ReLU, then its ``res_blocks`` residual blocks (Conv3D-BN-ReLU-Conv3D-BN + skip, ReLU) -> per-frame
    flatten -> Dense(``front_units``) + ReLU -> Dropout.
    """
    x = inp
    if c.shift_px:  # only then: graphs of configs without the field stay as they were
        x = RandomShift(c.shift_px, seed=c.augment_seed, name=f"{name}_shift")(x)
    x = RandomFlipOrNoise(c.flip_prob, c.noise_prob, c.noise_std, seed=c.augment_seed, name=f"{name}_augment")(x)
    side = c.crop_size
    for i, (f, n_res) in enumerate(zip(c.front_filters, c.res_blocks), 1):
        x = _conv_bn(x, f, c.front_kernel, (1, c.STRIDE, c.STRIDE), f"{name}{i}", momentum=c.bn_momentum)
        side = -(-side // c.STRIDE)
        for j in range(1, n_res + 1):
            y = _conv_bn(x, f, c.res_kernel, 1, f"{name}{i}_res{j}a", momentum=c.bn_momentum)
            y = _conv_bn(y, f, c.res_kernel, 1, f"{name}{i}_res{j}b", act=False, momentum=c.bn_momentum)
            x = keras.layers.Add(name=f"{name}{i}_res{j}_add")([x, y])
            x = keras.layers.ReLU(name=f"{name}{i}_res{j}_relu")(x)
    x = keras.layers.Reshape((-1, side * side * c.front_filters[-1]), name=f"{name}_flat")(x)
    x = keras.layers.Dense(c.front_units, kernel_initializer="he_normal", name=f"{name}_proj")(x)
    x = keras.layers.ReLU(name=f"{name}_proj_relu")(x)
    return keras.layers.Dropout(c.front_dropout, name=f"{name}_drop")(x)


def bilstm_stack(x, units, *, dropout: float = 0.0, name: str = "encoder"):
    """Bidirectional LSTMs (``units``: one width per layer, outputs concatenated): ``(B, T, F)`` -> ``(B, T, 2 units[-1])``."""
    for i, u in enumerate(units, 1):
        x = keras.layers.Bidirectional(keras.layers.LSTM(u, return_sequences=True), name=f"{name}_bilstm{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"{name}_bilstm{i}_drop")(x)
    return x


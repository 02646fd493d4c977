"""Custom Keras pieces of Lip2AudSpec: correlation, the correlation + MSE loss, a metric, augmentation.

All are registered with ``keras.saving.register_keras_serializable(package="lip2audspec")`` so that a
``.keras`` file loads after ``import lip2audspec.models``; all use ``keras.ops`` / ``keras.random`` only
(backend-agnostic).

Loss (Lip2AudSpec, Akbari et al., ICASSP 2018): ``mse_weight * MSE - corr_weight * r``, both weights 1
as published. Here the Pearson correlation ``r`` is computed **per frame across the last axis** (the 128
spectrogram channels, or the D bottleneck dimensions) and averaged over frames, which rewards the
right spectral shape in every frame regardless of its loudness. The authors' code instead computed one
``r`` over the whole batch tensor (mean removed globally) and the MSE on those globally centred
tensors; that variant is dominated by loud-vs-quiet frame differences.
"""

from __future__ import annotations

import keras
from keras import ops

from ..errors import ParameterError

__all__ = [
    "pearson_correlation",
    "frame_correlation",
    "CorrelationMSELoss",
    "PearsonCorrelation",
    "RandomFlipOrNoise",
]

_register = keras.saving.register_keras_serializable(package="lip2audspec")

#: added under the square roots of the correlation's denominator: keeps r and its gradient finite for
#: constant frames (r -> 0 there), negligible for real frames (sums of squares of order 0.1 .. 100)
DEFAULT_EPS = 1e-6


@_register
def frame_correlation(y_true, y_pred, eps: float = DEFAULT_EPS):
    """Pearson correlation of each frame, across the last axis.

    Parameters
    ----------
    y_true, y_pred : tensor, shape (..., F)
        Targets and predictions (e.g. (batch, 128) spectrogram frames or (batch, 20, D) codes).
    eps : float
        Stabiliser: ``r = sum(a b) / (sqrt(sum a^2 + eps) sqrt(sum b^2 + eps))`` with ``a``, ``b`` the
        frames minus their own means. A constant frame gives r = 0 with a finite gradient.

    Returns
    -------
    tensor, shape (...)
        One r in [-1, 1] per frame.
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    a = y_true - ops.mean(y_true, axis=-1, keepdims=True)
    b = y_pred - ops.mean(y_pred, axis=-1, keepdims=True)
    num = ops.sum(a * b, axis=-1)
    den = ops.sqrt(ops.sum(a * a, axis=-1) + eps) * ops.sqrt(ops.sum(b * b, axis=-1) + eps)
    return num / den


@_register
def pearson_correlation(y_true, y_pred, eps: float = DEFAULT_EPS):
    """Mean over all frames of the per-frame Pearson correlation (:func:`frame_correlation`).

    Parameters
    ----------
    y_true, y_pred : tensor, shape (..., F)
    eps : float

    Returns
    -------
    scalar tensor
    """
    return ops.mean(frame_correlation(y_true, y_pred, eps=eps))


@_register
class CorrelationMSELoss(keras.losses.Loss):
    """``mse_weight * MSE - corr_weight * r`` per frame (Lip2AudSpec's correlation + MSE loss).

    For each frame (the last axis: 128 channels or D code dimensions) the loss is
    ``mse_weight * mean((y_pred - y_true)^2) - corr_weight * r(y_true, y_pred)`` (see
    :func:`frame_correlation`); Keras' reduction then averages over frames and batch. A perfect
    prediction scores ``-corr_weight``; the weights are 1 and 1 as published. The MSE term anchors the
    scale and offset that correlation ignores; the correlation term keeps the spectral shape of quiet
    frames from being swamped by loud ones.

    Parameters
    ----------
    corr_weight, mse_weight : float
        Non-negative weights, not both 0.
    eps : float
        Correlation stabiliser.
    reduction, name, dtype
        As for :class:`keras.losses.Loss`.
    """

    def __init__(self, corr_weight: float = 1.0, mse_weight: float = 1.0, eps: float = DEFAULT_EPS,
                 reduction="sum_over_batch_size", name: str = "corr_mse_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        for k, v in (("corr_weight", corr_weight), ("mse_weight", mse_weight), ("eps", eps)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ParameterError(f"CorrelationMSELoss: {k} must be a number >= 0, got {v!r}")
        if corr_weight == 0 and mse_weight == 0:
            raise ParameterError("CorrelationMSELoss: corr_weight and mse_weight are both 0")
        self.corr_weight = float(corr_weight)
        self.mse_weight = float(mse_weight)
        self.eps = float(eps)

    def call(self, y_true, y_pred):
        """Per-frame loss, shape ``y_pred.shape[:-1]``."""
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        mse = ops.mean(ops.square(y_pred - y_true), axis=-1)
        r = frame_correlation(y_true, y_pred, eps=self.eps)
        return self.mse_weight * mse - self.corr_weight * r

    def get_config(self):
        return {**super().get_config(), "corr_weight": self.corr_weight, "mse_weight": self.mse_weight,
                "eps": self.eps}


@_register
class PearsonCorrelation(keras.metrics.MeanMetricWrapper):
    """Streaming mean of the per-frame Pearson correlation (:func:`frame_correlation`); higher is better."""

    def __init__(self, name: str = "pearson_r", dtype=None, eps: float = DEFAULT_EPS):
        super().__init__(fn=frame_correlation, name=name, dtype=dtype, eps=float(eps))
        self.eps = float(eps)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "eps": self.eps}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@_register
class RandomFlipOrNoise(keras.layers.Layer):
    """Lip2AudSpec's input augmentation: per window, a horizontal flip or Gaussian noise (training only).

    For every sample of the batch one uniform draw ``u`` decides: ``u < flip_prob`` flips all frames of
    the window left-right; ``flip_prob <= u < flip_prob + noise_prob`` adds ``N(0, noise_std^2)`` noise to
    every value; otherwise the sample is unchanged. At inference (``training`` falsy) the layer is the
    identity. Flipping the temporal-difference channels together with the frames is consistent:
    a spatial flip commutes with temporal differences.

    Parameters
    ----------
    flip_prob, noise_prob : float
        Probabilities in [0, 1] with ``flip_prob + noise_prob <= 1``.
    noise_std : float
        Noise standard deviation (paper: 0.01).
    seed : int or None
        Seed of the layer's :class:`keras.random.SeedGenerator`.

    Input / output shape: ``(batch, time, height, width, channels)`` (channels-last; any rank >= 3
    works, the width axis is the second last).
    """

    def __init__(self, flip_prob: float = 1.0 / 3.0, noise_prob: float = 1.0 / 3.0, noise_std: float = 0.01,
                 seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        for k, v in (("flip_prob", flip_prob), ("noise_prob", noise_prob), ("noise_std", noise_std)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ParameterError(f"RandomFlipOrNoise: {k} must be a number >= 0, got {v!r}")
        if flip_prob + noise_prob > 1.0 + 1e-9:
            raise ParameterError(f"RandomFlipOrNoise: flip_prob + noise_prob must be <= 1, got {flip_prob} + {noise_prob}")
        self.flip_prob = float(flip_prob)
        self.noise_prob = float(noise_prob)
        self.noise_std = float(noise_std)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = ops.convert_to_tensor(inputs)
        if len(x.shape) < 3:
            raise ParameterError(f"RandomFlipOrNoise expects (batch, ..., width, channels) inputs, got shape {x.shape}")
        shape = ops.shape(x)
        u = keras.random.uniform((shape[0],), seed=self.seed_generator, dtype="float32")
        bshape = (-1,) + (1,) * (len(x.shape) - 1)
        do_flip = ops.reshape(u < self.flip_prob, bshape)
        do_noise = ops.reshape(ops.logical_and(u >= self.flip_prob, u < self.flip_prob + self.noise_prob), bshape)
        y = ops.where(do_flip, ops.flip(x, axis=-2), x)
        noise = keras.random.normal(shape, stddev=self.noise_std, seed=self.seed_generator, dtype=x.dtype)
        return y + ops.where(do_noise, noise, ops.zeros_like(noise))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "flip_prob": self.flip_prob, "noise_prob": self.noise_prob,
                "noise_std": self.noise_std, "seed": self.seed}

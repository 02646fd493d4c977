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

Optional third term (``tcorr_weight``, 0 by default and in every published preset): the Pearson
correlation of each channel **across time** within segments of ``tcorr_frames`` frames
(:func:`segment_temporal_correlation`), i.e. the intermediate measure of STOI (Taal et al., IEEE TASLP
2011: band envelopes correlated over 384 ms segments). The per-frame term rewards the spectral shape;
this one rewards the rise and fall of each channel that STOI and ESTOI score.
"""

from __future__ import annotations

import keras
from keras import ops

from ..errors import ParameterError

__all__ = [
    "pearson_correlation",
    "frame_correlation",
    "segment_temporal_correlation",
    "CorrelationMSELoss",
    "PearsonCorrelation",
    "RandomFlipOrNoise",
    "RandomShift",
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
    return _correlation_along(ops.cast(y_true, y_pred.dtype), y_pred, axis=-1, eps=eps)


def _correlation_along(a, b, *, axis: int, eps: float):
    """Pearson r of ``a`` and ``b`` along ``axis`` (means removed along it; ``eps`` as in :func:`frame_correlation`)."""
    a = a - ops.mean(a, axis=axis, keepdims=True)
    b = b - ops.mean(b, axis=axis, keepdims=True)
    num = ops.sum(a * b, axis=axis)
    den = ops.sqrt(ops.sum(a * a, axis=axis) + eps) * ops.sqrt(ops.sum(b * b, axis=axis) + eps)
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


def segment_temporal_correlation(y_true, y_pred, *, frames: int, eps: float = DEFAULT_EPS):
    """Pearson correlation of every channel across time within segments, averaged per example.

    The ``N`` frames of each example are cut into ``N // L`` consecutive segments of ``L = min(frames, N)``
    frames (a remainder of fewer than ``L`` frames at the end is left out); in each segment every channel's
    trajectory is correlated with its target's (means removed within the segment, as STOI does for its
    band envelopes over 384 ms), and the ``r`` of all segments and channels are averaged.

    Parameters
    ----------
    y_true, y_pred : tensor, shape (B, N, C)
        Target and predicted frames (e.g. the k T spectrogram frames of whole clips, 100 frames/s).
    frames : int
        Segment length L in frames (40 = 400 ms at 100 frames/s; STOI uses 384 ms).
    eps : float
        Stabiliser as in :func:`frame_correlation`: a channel constant over a segment gives r = 0.

    Returns
    -------
    tensor, shape (B,)
        Mean temporal r of each example, in [-1, 1].

    Examples
    --------
    >>> import numpy as np
    >>> y = np.random.default_rng(0).random((2, 100, 8)).astype("float32")
    >>> np.round(np.asarray(segment_temporal_correlation(y, 3 * y + 1, frames=40)), 4)
    array([1., 1.], dtype=float32)
    """
    y_pred = ops.convert_to_tensor(y_pred)
    y_true = ops.cast(y_true, y_pred.dtype)
    if len(y_pred.shape) != 3:
        raise ParameterError(f"segment_temporal_correlation needs (batch, frames, channels) tensors, got shape "
                             f"{tuple(y_pred.shape)}")
    shape = ops.shape(y_pred)
    n, c = shape[1], y_pred.shape[-1]
    seg = ops.minimum(frames, n) if not isinstance(n, int) else min(int(frames), n)
    n_seg = n // seg
    a = ops.reshape(y_true[:, : n_seg * seg], (shape[0], n_seg, seg, c))
    b = ops.reshape(y_pred[:, : n_seg * seg], (shape[0], n_seg, seg, c))
    return ops.mean(_correlation_along(a, b, axis=2, eps=eps), axis=(1, 2))


@_register
class CorrelationMSELoss(keras.losses.Loss):
    """``mse_weight * MSE - corr_weight * r`` per frame (Lip2AudSpec's correlation + MSE loss).

    For each frame (the last axis: 128 channels or D code dimensions) the loss is
    ``mse_weight * mean((y_pred - y_true)^2) - corr_weight * r(y_true, y_pred)`` (see
    :func:`frame_correlation`); Keras' reduction then averages over frames and batch. A perfect
    prediction scores ``-corr_weight``; the weights are 1 and 1 as published. The MSE term anchors the
    scale and offset that correlation ignores; the correlation term keeps the spectral shape of quiet
    frames from being swamped by loud ones. With ``tcorr_weight > 0`` every frame of an example also
    gets ``- tcorr_weight * t``, ``t`` the example's :func:`segment_temporal_correlation` (so a perfect
    prediction scores ``-(corr_weight + tcorr_weight)``); inputs must then be (batch, frames, channels).

    Parameters
    ----------
    corr_weight, mse_weight : float
        Non-negative weights, not both 0.
    tcorr_weight : float
        Non-negative weight of the temporal term (0: off, the published loss).
    tcorr_frames : int
        Its segment length in frames (>= 2).
    eps : float
        Correlation stabiliser.
    reduction, name, dtype
        As for :class:`keras.losses.Loss`.
    """

    def __init__(self, corr_weight: float = 1.0, mse_weight: float = 1.0, eps: float = DEFAULT_EPS,
                 reduction="sum_over_batch_size", name: str = "corr_mse_loss", dtype=None, *,
                 tcorr_weight: float = 0.0, tcorr_frames: int = 40):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        for k, v in (("corr_weight", corr_weight), ("mse_weight", mse_weight), ("eps", eps),
                     ("tcorr_weight", tcorr_weight)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ParameterError(f"CorrelationMSELoss: {k} must be a number >= 0, got {v!r}")
        if corr_weight == 0 and mse_weight == 0:
            raise ParameterError("CorrelationMSELoss: corr_weight and mse_weight are both 0")
        if isinstance(tcorr_frames, bool) or not isinstance(tcorr_frames, int) or tcorr_frames < 2:
            raise ParameterError(f"CorrelationMSELoss: tcorr_frames must be an integer >= 2, got {tcorr_frames!r}")
        self.corr_weight = float(corr_weight)
        self.mse_weight = float(mse_weight)
        self.tcorr_weight = float(tcorr_weight)
        self.tcorr_frames = int(tcorr_frames)
        self.eps = float(eps)

    def call(self, y_true, y_pred):
        """Per-frame loss, shape ``y_pred.shape[:-1]``."""
        y_pred = ops.convert_to_tensor(y_pred)
        y_true = ops.cast(y_true, y_pred.dtype)
        mse = ops.mean(ops.square(y_pred - y_true), axis=-1)
        r = frame_correlation(y_true, y_pred, eps=self.eps)
        loss = self.mse_weight * mse - self.corr_weight * r
        if self.tcorr_weight:
            t = segment_temporal_correlation(y_true, y_pred, frames=self.tcorr_frames, eps=self.eps)
            loss = loss - self.tcorr_weight * t[:, None]
        return loss

    def get_config(self):
        return {**super().get_config(), "corr_weight": self.corr_weight, "mse_weight": self.mse_weight,
                "eps": self.eps, "tcorr_weight": self.tcorr_weight, "tcorr_frames": self.tcorr_frames}


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


@_register
class RandomShift(keras.layers.Layer):
    """Random translation of whole clips by up to ``max_shift`` pixels (training only).

    For every sample of the batch, one horizontal and one vertical shift are drawn uniformly from the
    integers ``-max_shift .. max_shift`` and applied to all frames and channels of the clip (the frame and
    its temporal differences move together; a shift commutes with temporal differences); the pixels
    that enter at an edge repeat the edge's pixels. It mimics the jitter of a mouth cropper on unseen
    video, the lip-reading counterpart of random cropping. At inference (``training`` falsy) the layer is
    the identity.

    Parameters
    ----------
    max_shift : int
        Largest shift in pixels (>= 1).
    seed : int or None
        Seed of the layer's :class:`keras.random.SeedGenerator`.

    Input / output shape: ``(batch, time, height, width, channels)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(2 * 3 * 8 * 8 * 1, dtype="float32").reshape(2, 3, 8, 8, 1)
    >>> layer = RandomShift(2, seed=0)
    >>> bool(np.array_equal(np.asarray(layer(x, training=False)), x))
    True
    >>> np.asarray(layer(x, training=True)).shape
    (2, 3, 8, 8, 1)
    """

    def __init__(self, max_shift: int = 2, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 1:
            raise ParameterError(f"RandomShift: max_shift must be an integer >= 1, got {max_shift!r}")
        self.max_shift = int(max_shift)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        x = ops.convert_to_tensor(inputs)
        if len(x.shape) != 5:
            raise ParameterError(f"RandomShift expects (batch, time, height, width, channels) clips, got shape {x.shape}")
        b, t, h, w, c = ops.shape(x)
        m = self.max_shift
        d = ops.cast(keras.random.randint((b, 2), -m, m + 1, seed=self.seed_generator), "float32")
        one, zero = ops.ones((b, 1)), ops.zeros((b, 1))
        # output pixel (x, y) reads input pixel (x + dx, y + dy): rows [1, 0, dx, 0, 1, dy, 0, 0]
        transform = ops.concatenate([one, zero, d[:, :1], zero, one, d[:, 1:], zero, zero], axis=1)
        images = ops.reshape(ops.transpose(x, (0, 2, 3, 1, 4)), (b, h, w, t * c))
        moved = ops.image.affine_transform(images, transform, interpolation="nearest", fill_mode="nearest",
                                           data_format="channels_last")
        return ops.transpose(ops.reshape(moved, (b, h, w, t, c)), (0, 3, 1, 2, 4))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "seed": self.seed}

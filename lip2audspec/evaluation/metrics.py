"""Spectrogram similarity metrics.

* :func:`corr2d`: MATLAB's ``corr2`` — the Pearson correlation of two spectrograms taken as one vector
  each (the measure Lip2AudSpec reports between predicted and true auditory spectrograms);
* :func:`frame_correlation_np`: Pearson r across channels of each frame, averaged (the autoencoder's
  reconstruction measure).
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["corr2d", "frame_correlation_np"]


def _pair(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.size == 0:
        raise ParameterError(f"arrays must have the same non-empty shape, got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ParameterError("arrays contain NaN or infinite values")
    return a, b


def corr2d(a, b) -> float:
    """2-D correlation coefficient (MATLAB ``corr2``) of two equally shaped arrays.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(12.0).reshape(3, 4)
    >>> round(corr2d(x, 2 * x + 1), 6), round(corr2d(x, -x), 6)
    (1.0, -1.0)
    """
    a, b = _pair(a, b)
    a = a - a.mean()
    b = b - b.mean()
    den = np.sqrt(np.sum(a * a) * np.sum(b * b))
    return float(np.sum(a * b) / den) if den > 0 else 0.0


def frame_correlation_np(a, b) -> float:
    """Mean over frames of the Pearson r across the last axis (frames with no variance count as 0)."""
    a, b = _pair(a, b)
    a = a.reshape(-1, a.shape[-1])
    b = b.reshape(-1, b.shape[-1])
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt(np.sum(a * a, axis=1) * np.sum(b * b, axis=1))
    r = np.where(den > 0, np.sum(a * b, axis=1) / np.where(den > 0, den, 1), 0.0)
    return float(r.mean())

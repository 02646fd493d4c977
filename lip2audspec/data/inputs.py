"""Lip-network inputs: per-frame min-max normalisation, temporal differences, windows.

As in Lip2AudSpec: every mouth crop is scaled to [0, 1] by its own min and max; the network sees three
channels per frame, the frame itself and its first and second temporal differences; training examples
are windows of ``window`` consecutive frames (5 = 200 ms at 25 fps) taken every ``hop`` frames (the
paper's code used both hop 5 and hop 1...5; ``WindowConfig``). A window of video frames
``[s, s + window)`` is paired with the target frames ``[k s, k (s + window))`` (k = 4 spectrogram frames
per video frame).

A lip network may also see ``context`` extra frames on each side of its window (``LipNetConfig.context``;
0 in the paper): its input is then frames ``[s - context, s + window + context)`` while its targets stay
those of ``[s, s + window)``. :func:`context_windows` cuts such inputs, repeating the clip's first and
last frames where the context runs past the clip's ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..errors import ParameterError

__all__ = ["WindowConfig", "normalize_frames", "lip_inputs", "resize_crops", "window_starts", "window_slices", "context_windows"]


@dataclass(frozen=True)
class WindowConfig(Config):
    """Windows of video frames.

    Parameters
    ----------
    window : int
        Frames per window (paper: 5, i.e. 200 ms).
    hop : int
        Frames between window starts (5: non-overlapping; smaller values overlap).
    """

    window: int = 5
    hop: int = 5

    def __post_init__(self):
        for name in ("window", "hop"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ParameterError(f"{name} must be a positive integer number of frames, got {v!r}")
            object.__setattr__(self, name, int(v))


def normalize_frames(frames) -> np.ndarray:
    """Scale each frame to [0, 1] by its own min and max (constant frames become 0).

    Parameters
    ----------
    frames : array_like, shape (T, H, W)

    Returns
    -------
    ndarray, float32, shape (T, H, W)
    """
    f = np.asarray(frames, dtype=np.float32)
    if f.ndim != 3:
        raise ParameterError(f"frames must have shape (T, H, W), got {f.shape}")
    lo = f.min(axis=(1, 2), keepdims=True)
    rng = f.max(axis=(1, 2), keepdims=True) - lo
    return np.where(rng > 0, (f - lo) / np.where(rng > 0, rng, 1), 0).astype(np.float32)


def resize_crops(crops, size: int) -> np.ndarray:
    """Resize square mouth crops to ``size`` x ``size`` (``cv2.INTER_AREA``, as the croppers do).

    Used when a model expects another crop size than the dataset was prepared with (a ``paper`` dataset
    of 128 px crops feeding a ``small`` model of 48 px): the crops are resized on load.

    Parameters
    ----------
    crops : array_like, shape (T, S, S)
    size : int
        Output side in pixels.

    Returns
    -------
    ndarray, shape (T, size, size), same dtype (the input itself when it already has that size)

    Examples
    --------
    >>> import numpy as np
    >>> resize_crops(np.zeros((75, 128, 128), np.uint8), 48).shape
    (75, 48, 48)
    """
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1] != crops.shape[2]:
        raise ParameterError(f"crops must have shape (T, S, S), got {crops.shape}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ParameterError(f"size must be a positive number of pixels, got {size!r}")
    if crops.shape[1] == size:
        return crops
    import cv2

    interp = cv2.INTER_AREA if size < crops.shape[1] else cv2.INTER_LINEAR
    return np.stack([cv2.resize(c, (int(size), int(size)), interpolation=interp) for c in crops]) if len(crops) \
        else np.zeros((0, size, size), crops.dtype)


def lip_inputs(crops) -> np.ndarray:
    """Network input channels for a clip: normalised frame, 1st and 2nd temporal difference.

    ``d1[t] = f[t] - f[t-1]`` and ``d2[t] = d1[t] - d1[t-1]``, with the undefined first values 0.

    Parameters
    ----------
    crops : array_like, shape (T, H, W)
        Mouth crops (uint8 or float).

    Returns
    -------
    ndarray, float32, shape (T, H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> lip_inputs(np.zeros((75, 32, 32), np.uint8)).shape
    (75, 32, 32, 3)
    """
    f = normalize_frames(crops)
    d1 = np.zeros_like(f)
    d1[1:] = f[1:] - f[:-1]
    d2 = np.zeros_like(f)
    d2[1:] = d1[1:] - d1[:-1]
    return np.stack([f, d1, d2], axis=-1)


def window_starts(n_frames: int, config: WindowConfig) -> np.ndarray:
    """Start frames of the windows that fit in ``n_frames`` frames."""
    if n_frames < config.window:
        return np.zeros(0, np.int64)
    return np.arange(0, n_frames - config.window + 1, config.hop, dtype=np.int64)


def window_slices(start: int, *, config: WindowConfig, frames_per_video_frame: int = 4) -> tuple:
    """(video slice, target slice) of the window starting at video frame ``start``."""
    k = frames_per_video_frame
    return slice(start, start + config.window), slice(k * start, k * (start + config.window))


def context_windows(crops, starts, *, window: int, context: int = 0) -> np.ndarray:
    """Network inputs of the windows starting at ``starts``, with ``context`` extra frames on each side.

    The clip is padded at both ends by repeating its first / last crop ``context`` times *before* the
    temporal differences are taken, so padded frames have zero differences and the clip's own frames get
    exactly the inputs :func:`lip_inputs` gives them.

    Parameters
    ----------
    crops : array_like, shape (T, H, W)
        Mouth crops of one clip.
    starts : array_like of int
        Window start frames (0 <= s <= T - window).
    window : int
        Frames per window (the targets' span).
    context : int
        Extra input frames on each side (0: the paper's input).

    Returns
    -------
    ndarray, float32, shape (len(starts), window + 2 * context, H, W, 3)

    Examples
    --------
    >>> import numpy as np
    >>> context_windows(np.zeros((75, 8, 8), np.uint8), [0, 5], window=5, context=2).shape
    (2, 9, 8, 8, 3)
    """
    crops = np.asarray(crops)
    if crops.ndim != 3:
        raise ParameterError(f"crops must have shape (T, H, W), got {crops.shape}")
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 0:
        raise ParameterError(f"context must be a non-negative integer number of frames, got {context!r}")
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    T = crops.shape[0]
    if len(starts) and (starts.min() < 0 or starts.max() + window > T):
        raise ParameterError(f"window starts must lie in [0, {T - window}] for {T} frames and window {window}")
    c = int(context)
    x = lip_inputs(np.pad(crops, ((c, c), (0, 0), (0, 0)), mode="edge") if c else crops)
    n = window + 2 * c  # padded index s covers clip frames [s - c, s + window + c)
    if len(starts) == 0:
        return np.zeros((0, n) + x.shape[1:], np.float32)
    return np.stack([x[s : s + n] for s in starts])

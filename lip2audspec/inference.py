"""Inference helpers: spectrogram <-> bottleneck codes, and whole-clip prediction from windows.

* :func:`encode` / :func:`decode`: the autoencoder's encoder and decoder on spectrograms of any length;
* :func:`predict_windows`: run the lip network on every window of a clip (hop 1 by default) and stitch
  the window predictions back into one sequence, averaging where windows overlap.
"""

from __future__ import annotations

import numpy as np

from .data.inputs import WindowConfig, context_windows, resize_crops, window_starts
from .errors import ParameterError

__all__ = ["encode", "decode", "predict_windows", "stitch_windows"]


def _frame_model(model, part: str):
    sub = getattr(model, part, None)
    return sub if sub is not None else model


def encode(autoencoder, spec, *, batch_size: int = 4096) -> np.ndarray:
    """Bottleneck codes of a spectrogram: (..., 128) -> (..., D) (the autoencoder or its encoder)."""
    from .models import apply_framewise

    return apply_framewise(_frame_model(autoencoder, "encoder"), spec, batch_size=batch_size)


def decode(autoencoder, codes, *, batch_size: int = 4096) -> np.ndarray:
    """Spectrogram frames from bottleneck codes: (..., D) -> (..., 128) (the autoencoder or its decoder)."""
    from .models import apply_framewise

    return apply_framewise(_frame_model(autoencoder, "decoder"), codes, batch_size=batch_size)


def stitch_windows(preds, starts, *, n_frames: int, frames_per_video_frame: int = 4) -> np.ndarray:
    """Average overlapping window predictions into one sequence.

    Parameters
    ----------
    preds : array_like, shape (n_windows, k * window, D)
    starts : array_like of int, shape (n_windows,)
        Start video frame of each window.
    n_frames : int
        Video frames of the clip.

    Returns
    -------
    ndarray, float32, shape (k * n_frames, D)
        Target frames no window covers (a clip tail shorter than a window) repeat the nearest covered frame.
    """
    preds = np.asarray(preds, dtype=np.float32)
    k = frames_per_video_frame
    out = np.zeros((k * n_frames, preds.shape[-1]), np.float64)
    weight = np.zeros(k * n_frames)
    for p, s in zip(preds, starts):
        out[k * s : k * s + p.shape[0]] += p
        weight[k * s : k * s + p.shape[0]] += 1
    covered = weight > 0
    if not covered.any():
        raise ParameterError("no window predictions to stitch")
    out[covered] /= weight[covered, None]
    idx = np.flatnonzero(covered)
    nearest = idx[np.clip(np.searchsorted(idx, np.arange(len(weight))), 0, len(idx) - 1)]
    out[~covered] = out[nearest[~covered]]
    return out.astype(np.float32)


def predict_windows(lipnet, crops, *, window: int | None = None, hop: int = 1, frames_per_video_frame: int = 4,
                    batch_size: int = 64) -> np.ndarray:
    """Predict a whole clip's codes from its mouth crops with the lip network.

    Parameters
    ----------
    lipnet : keras.Model
        Input (window + 2 context, S, S, 3), output (k * window, D).
    crops : array_like, shape (T, S', S')
        Mouth crops of the clip (T >= window); resized to the model's S x S if S' differs.
    window : int, optional
        Frames per window (the targets' span). Default: the model's output frames / k; the input frames
        beyond it are the model's context (:class:`~lip2audspec.models.LipNetConfig` ``context``).
    hop : int
        Frames between windows (1: every window; predictions are averaged where they overlap).

    Returns
    -------
    ndarray, float32, shape (k * T, D)
    """
    crops = np.asarray(crops)
    if crops.ndim != 3:
        raise ParameterError(f"crops must have shape (T, S, S), got {crops.shape}")
    k = frames_per_video_frame
    n_in, S = int(lipnet.input_shape[1]), int(lipnet.input_shape[2])
    window = window or int(lipnet.output_shape[1]) // k
    context, odd = divmod(n_in - window, 2)
    if context < 0 or odd:
        raise ParameterError(f"the lip network takes {n_in} input frames, which is not window {window} plus "
                             f"the same context on both sides")
    if crops.shape[1] != crops.shape[2]:
        raise ParameterError(f"crops must be square, got {crops.shape[1]}x{crops.shape[2]}")
    crops = resize_crops(crops, S)  # crops of another size are resized as in training
    T = crops.shape[0]
    starts = window_starts(T, WindowConfig(window=window, hop=hop))
    if len(starts) == 0:
        raise ParameterError(f"clip has {T} frames, fewer than one window ({window})")
    if starts[-1] + window < T:  # make sure the end of the clip is covered
        starts = np.append(starts, T - window)
    windows = context_windows(crops, starts, window=window, context=context)
    preds = lipnet.predict(windows, batch_size=batch_size, verbose=0)
    return stitch_windows(preds, starts, n_frames=T, frames_per_video_frame=k)

"""Inference helpers: spectrogram <-> bottleneck codes, and whole-clip prediction from windows.

* :func:`encode` / :func:`decode`: the autoencoder's encoder and decoder on spectrograms of any length;
* :func:`predict_windows`: run the lip network on every window of a clip (hop 1 by default) and stitch
  the window predictions back into one sequence, averaging where windows overlap;
* :func:`predict_stream` / :func:`predict_long`: any length in bounded memory: a per-chunk predictor
  (``fn(crops (T, S, S)) -> (k T, D)``, e.g. :func:`window_predictor`) run on overlapping chunks of the
  crops, cross-faded at the seams (:mod:`lip2audspec.chunking`, Lip2Wav's approach).
* :func:`predict_clip`: a clip's whole target sequence from any model family (the window network through
  :func:`predict_windows`; a whole-clip family in one forward pass, or its autoregressive decoding).
"""

from __future__ import annotations

import numpy as np

from .data.inputs import WindowConfig, context_windows, lip_inputs, resize_crops, window_starts
from .errors import ParameterError

__all__ = ["encode", "decode", "predict_windows", "predict_clip", "is_sequence_model", "stitch_windows",
           "window_predictor", "predict_stream", "predict_long", "DEFAULT_CHUNK", "DEFAULT_OVERLAP"]

#: Default chunk (video frames; 3 s at 25 fps, GRID's clip length, what the models are trained on) and
#: overlap (frames; the outer thirds, 8 frames, exceed the window network's reach of 7 frames, so its
#: chunked output equals its one-shot output; the middle 8 frames are cross-faded).
DEFAULT_CHUNK = 75
DEFAULT_OVERLAP = 24


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


def window_predictor(lipnet, *, window: int | None = None, hop: int = 1, frames_per_video_frame: int = 4,
                     batch_size: int = 256):
    """The window network as a per-chunk predictor: ``fn(crops (T, S, S)) -> (k T, D)`` (:func:`predict_windows`,
    default hop 1), for :func:`predict_stream` and :func:`predict_long`.

    A chunk shorter than one window is padded by repeating its last crop and the prediction cut back.
    """
    def fn(crops):
        crops = np.asarray(crops)
        n = crops.shape[0]
        w = window or int(lipnet.output_shape[1]) // frames_per_video_frame
        if 0 < n < w:
            crops = np.concatenate([crops, np.repeat(crops[-1:], w - n, axis=0)])
        out = predict_windows(lipnet, crops, window=window, hop=hop, frames_per_video_frame=frames_per_video_frame,
                              batch_size=batch_size)
        return out[: frames_per_video_frame * n]

    return fn


def predict_stream(crop_blocks, fn, *, chunk: int = DEFAULT_CHUNK, overlap: int = DEFAULT_OVERLAP,
                   frames_per_video_frame: int = 4):
    """Predict any number of frames in bounded memory: ``fn`` on overlapping chunks, cross-faded.

    Parameters
    ----------
    crop_blocks : iterable of array_like, shape (n_i, S, S)
        Consecutive blocks of mouth crops (e.g. from :class:`~lip2audspec.data.track.MouthTracker`).
    fn : callable
        ``fn(crops (T, S, S)) -> (k T, D)`` for ``1 <= T <= chunk``: :func:`window_predictor`, or any
        model family's whole-clip predictor.
    chunk : int
        Video frames per chunk (default :data:`DEFAULT_CHUNK`: the 3 s the models are trained on).
    overlap : int
        Video frames shared by consecutive chunks (default :data:`DEFAULT_OVERLAP`); the outer thirds of
        each overlap come from one chunk, the middle third is cross-faded linearly.
    frames_per_video_frame : int
        k, target frames per video frame.

    Yields
    ------
    ndarray, shape (m, D)
        Consecutive target frames (k per video frame in all).

    Examples
    --------
    >>> fn = window_predictor(lipnet)                                          # doctest: +SKIP
    >>> for part in predict_stream(tracker.track(stream), fn):                 # doctest: +SKIP
    ...     write(part)
    """
    from .chunking import stream_chunks

    def blocks():
        for b in crop_blocks:
            b = getattr(b, "crops", b)  # MouthCrops blocks
            b = np.asarray(b)
            if b.ndim != 3 or b.shape[1] != b.shape[2]:
                raise ParameterError(f"crop blocks must have shape (n, S, S), got {b.shape}")
            yield b

    yield from stream_chunks(blocks(), fn, chunk=chunk, overlap=overlap, ratio=frames_per_video_frame, fade="linear")


def predict_long(crops, fn, *, chunk: int = DEFAULT_CHUNK, overlap: int = DEFAULT_OVERLAP,
                 frames_per_video_frame: int = 4) -> np.ndarray:
    """:func:`predict_stream` on one array of crops (T, S, S) -> (k T, D).

    A clip of at most ``chunk`` frames is one call ``fn(crops)``; longer ones are chunked.

    Examples
    --------
    >>> codes = predict_long(crops, window_predictor(lipnet), chunk=75, overlap=24)  # doctest: +SKIP
    """
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[0] == 0:
        raise ParameterError(f"crops must have shape (T, S, S) with T >= 1, got {crops.shape}")
    return np.concatenate(list(predict_stream([crops], fn, chunk=chunk, overlap=overlap,
                                              frames_per_video_frame=frames_per_video_frame)))
def is_sequence_model(model) -> bool:
    """True for a whole-clip family (its config is a :class:`~lip2audspec.models.sequence.SequenceConfig`),
    False for the window network."""
    from .models.sequence import SequenceConfig

    return isinstance(getattr(model, "config", None), SequenceConfig)


def predict_clip(model, crops, *, batch_size: int = 64) -> np.ndarray:
    """A clip's predicted target sequence from its mouth crops, for every model family.

    * the window network (:class:`~lip2audspec.models.LipNet`): every window at hop 1, overlaps averaged
      (:func:`predict_windows`);
    * a whole-clip family: the clip's inputs (:func:`~lip2audspec.data.inputs.lip_inputs`) in one call of
      the model's ``infer`` (one forward pass, or the autoregressive decoding of an attention decoder).
      Memory grows with the clip length: long videos are cut into overlapping chunks by the caller.

    Parameters
    ----------
    model : keras.Model
        A trained lip-to-speech model (``RunDir(run).load_model()``).
    crops : array_like, shape (T, S, S)
        Mouth crops of the clip; resized to the model's crop size if they differ.
    batch_size : int
        Windows per batch (window network only).

    Returns
    -------
    ndarray, float32, shape (k * T, D)
        ``D``: the model's target width (the autoencoder's codes, or the 128 spectrogram channels).

    Examples
    --------
    >>> pred = predict_clip(RunDir("runs/framesync").load_model(), crops)  # doctest: +SKIP
    >>> pred.shape  # doctest: +SKIP
    (300, 128)
    """
    if not is_sequence_model(model):
        return predict_windows(model, crops, hop=1, batch_size=batch_size)
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1] != crops.shape[2]:
        raise ParameterError(f"crops must have shape (T, S, S), got {crops.shape}")
    if crops.shape[0] < 1:
        raise ParameterError("crops hold no frame")
    x = lip_inputs(resize_crops(crops, model.config.crop_size))[None]
    out = np.asarray(model.infer(x), dtype=np.float32)[0]
    k = model.config.frames_per_video_frame
    if out.shape[0] != k * crops.shape[0]:
        raise ParameterError(f"the model returned {out.shape[0]} frames for {crops.shape[0]} video frames "
                             f"(expected {k * crops.shape[0]})")
    return out

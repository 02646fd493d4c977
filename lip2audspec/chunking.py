"""Any-length processing in bounded memory: overlapping chunks joined by cross-fades.

A function that maps ``n`` input frames to ``ratio * n`` output frames (a lip network: crops -> 4 target
frames per video frame; ``aud2wav``: spectrogram frames -> ``frame_len`` samples each) is run on chunks of
``chunk`` input frames that overlap by ``overlap`` frames, as Lip2Wav does for videos longer than its
training window (Prajwal et al., "Learning Individual Speaking Styles for Accurate Lip to Speech
Synthesis", CVPR 2020). In each overlap the outer ``margin`` part on either side belongs to the chunk
whose interior it is (a chunk's edges lack context: a window model's first and last few frames, the
cochlear filters' start-up transient) and the middle part is cross-faded, so the output is continuous at
every seam. A model whose output at a frame depends only on frames within ``margin`` of it (the window
network: 5 + 2 x 2 frames) gives exactly its one-shot output.

:func:`stream_chunks` consumes the input as an iterator of blocks and yields the output in order, so only
about one chunk of input and output is held at a time; :func:`process_chunked` is the same on one array.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from .errors import ParameterError

__all__ = ["FADES", "chunk_starts", "fade_in", "stream_chunks", "process_chunked"]

#: Cross-fade shapes: ``linear`` (weights sum to 1: right for two estimates of the same signal, e.g. two
#: chunks' spectrogram predictions) and ``equal_power`` (squared weights sum to 1: right for two signals
#: with unrelated phase, e.g. two chunks' aud2wav waveforms, which would dip in level with ``linear``).
FADES = ("linear", "equal_power")


def _int(name, v, lo):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ParameterError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _check(chunk, overlap, ratio, fade):
    chunk = _int("chunk", chunk, 2)
    overlap = _int("overlap", overlap, 0)
    if overlap >= chunk:
        raise ParameterError(f"overlap must be smaller than chunk, got overlap {overlap} >= chunk {chunk}")
    ratio = _int("ratio", ratio, 1)
    if fade not in FADES:
        raise ParameterError(f"fade must be one of {FADES}, got {fade!r}")
    return chunk, overlap, ratio


def chunk_starts(n_frames: int, *, chunk: int, overlap: int) -> np.ndarray:
    """Start frame of each chunk :func:`stream_chunks` runs on ``n_frames`` frames.

    Chunks start every ``chunk - overlap`` frames; the last chunk is what remains (shorter than ``chunk``
    but longer than ``overlap``). A clip of at most ``chunk`` frames is one chunk.

    Examples
    --------
    >>> chunk_starts(100, chunk=40, overlap=10).tolist()
    [0, 30, 60]
    """
    n_frames = _int("n_frames", n_frames, 0)
    chunk, overlap, _ = _check(chunk, overlap, 1, "linear")
    if n_frames <= chunk:
        return np.zeros(1 if n_frames else 0, np.int64)
    starts = [0]
    while starts[-1] + chunk < n_frames:
        starts.append(starts[-1] + chunk - overlap)
    return np.asarray(starts, np.int64)


def fade_in(n: int, *, margin: int = 0, fade: str = "linear") -> np.ndarray:
    """Weights of the later chunk across an overlap of ``n`` output frames.

    0 for the first ``margin`` frames, rising over the middle ``n - 2 margin`` frames, 1 for the last
    ``margin``; the earlier chunk gets ``1 - w`` (``linear``) or ``sqrt(1 - w**2)`` (``equal_power``).

    Examples
    --------
    >>> fade_in(6, margin=1).round(3).tolist()
    [0.0, 0.125, 0.375, 0.625, 0.875, 1.0]
    """
    n = _int("n", n, 0)
    margin = _int("margin", margin, 0)
    if 2 * margin > n:
        raise ParameterError(f"margin must be at most half the overlap, got {margin} of {n}")
    ramp = n - 2 * margin
    w = np.clip((np.arange(n) - margin + 0.5) / max(ramp, 1), 0.0, 1.0)
    if fade == "equal_power":
        w = np.sin(0.5 * np.pi * w)
    elif fade != "linear":
        raise ParameterError(f"fade must be one of {FADES}, got {fade!r}")
    return w


def stream_chunks(blocks: Iterable, fn: Callable, *, chunk: int, overlap: int, ratio: int = 1,
                  fade: str = "linear", margin: int | None = None) -> Iterator[np.ndarray]:
    """Run ``fn`` on overlapping chunks of a stream and yield its cross-faded output in order.

    Parameters
    ----------
    blocks : iterable of array_like, shape (n_i, ...)
        The input, in consecutive blocks of any sizes along axis 0 (e.g. the crops of a few frames at a
        time, or one array).
    fn : callable
        ``fn(x)`` with ``x`` of shape (n, ...), ``1 <= n <= chunk``, returns shape (ratio * n, ...).
    chunk : int
        Input frames per chunk (>= 2).
    overlap : int
        Input frames shared by consecutive chunks (0 <= overlap < chunk).
    ratio : int
        Output frames per input frame (4 for a lip network, ``frame_len`` for aud2wav).
    fade : {"linear", "equal_power"}
        Cross-fade shape (:data:`FADES`).
    margin : int, optional
        Input frames at each end of an overlap taken from one chunk only (default ``overlap // 3``).

    Yields
    ------
    ndarray, shape (m, ...)
        Consecutive pieces of the output (``ratio`` x the input frames in all).

    Raises
    ------
    ParameterError
        Bad chunk/overlap/ratio/fade, input blocks of mismatched shapes, or ``fn`` returning the wrong
        number of frames.

    Examples
    --------
    >>> x = np.arange(10.0)
    >>> y = np.concatenate(list(stream_chunks([x[:3], x[3:]], lambda c: 2 * c, chunk=4, overlap=2)))
    >>> bool(np.allclose(y, 2 * x))
    True
    """
    chunk, overlap, ratio = _check(chunk, overlap, ratio, fade)
    margin = overlap // 3 if margin is None else _int("margin", margin, 0)
    if 2 * margin > overlap:
        raise ParameterError(f"margin must be at most overlap / 2, got {margin} with overlap {overlap}")
    w_new = fade_in(ratio * overlap, margin=ratio * margin, fade=fade)
    w_old = 1.0 - w_new if fade == "linear" else np.sqrt(np.clip(1.0 - w_new ** 2, 0.0, 1.0))
    pending = None   # fn's output over the first `overlap` frames of `buf` (from the previous chunk)
    parts, n_buf = [], 0  # input frames not yet run (the first `overlap` of them already run once)

    def run(x):
        y = np.asarray(fn(x))
        if y.shape[0] != ratio * x.shape[0]:
            raise ParameterError(f"fn returned {y.shape[0]} frames for {x.shape[0]} input frames; "
                                 f"expected {ratio} per input frame ({ratio * x.shape[0]})")
        return y

    def blend(y):
        if pending is None:
            return y
        n = pending.shape[0]
        w = w_new[:n].reshape((-1,) + (1,) * (y.ndim - 1))
        v = w_old[:n].reshape(w.shape)
        head = v * pending + w * y[:n]
        return np.concatenate([head.astype(y.dtype, copy=False), y[n:]])

    for b in blocks:
        b = np.asarray(b)
        if parts and b.shape[1:] != parts[0].shape[1:]:
            raise ParameterError(f"input blocks must agree in shape after axis 0: {parts[0].shape[1:]} then {b.shape[1:]}")
        if b.shape[0] == 0:
            continue
        parts.append(b)
        n_buf += b.shape[0]
        while n_buf > chunk:  # more than a chunk buffered: run one and keep its last `overlap` frames
            x = np.concatenate(parts)
            y = blend(run(x[:chunk]))
            cut = ratio * (chunk - overlap)
            pending = y[cut:] if overlap else None
            yield y[:cut]
            rest = x[chunk - overlap:]
            parts, n_buf = [rest], rest.shape[0]
    if n_buf == 0:
        return
    x = np.concatenate(parts)
    if pending is not None and n_buf <= overlap:  # nothing new after the last chunk
        yield pending
        return
    yield blend(run(x))


def process_chunked(x, fn: Callable, *, chunk: int, overlap: int, ratio: int = 1, fade: str = "linear",
                    margin: int | None = None) -> np.ndarray:
    """:func:`stream_chunks` on one array: ``fn`` over overlapping chunks of ``x``, cross-faded.

    Returns
    -------
    ndarray, shape (ratio * len(x), ...)
    """
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ParameterError(f"x must have at least one frame along axis 0, got shape {x.shape}")
    return np.concatenate(list(stream_chunks([x], fn, chunk=chunk, overlap=overlap, ratio=ratio, fade=fade,
                                             margin=margin)))

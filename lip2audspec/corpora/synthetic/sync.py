"""Audio-visual sync check measured from decoded pixels and audio (not from the generator's parameters).

The mouth opening of a frame is the number of dark pixels (the open mouth cavity) in a fixed region
around the mouth; the speech envelope is the RMS of each frame's 40 ms of audio. Their normalised
cross-correlation over lags tells whether lips and speech are in sync.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, ParameterError

__all__ = ["read_video_frames", "mouth_opening", "speech_envelope", "lagged_correlation", "clip_sync", "mouth_interior"]


def read_video_frames(path) -> np.ndarray:
    """Decode all frames of a video with OpenCV.

    Returns
    -------
    ndarray, uint8, shape (n_frames, height, width, 3)
        BGR frames; ``n_frames`` may be 0 for a damaged file.

    Raises
    ------
    FileNotFoundError
    DataError
        OpenCV cannot open the file at all.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no video at {path}")
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise DataError(f"OpenCV cannot open video {path}")
    frames = []
    try:
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(f)
    finally:
        cap.release()
    return np.stack(frames) if frames else np.zeros((0, 288, 360, 3), np.uint8)


def mouth_opening(frames, *, box) -> np.ndarray:
    """Dark-pixel count per frame inside ``box``.

    Parameters
    ----------
    frames : ndarray, shape (n, H, W, 3)
    box : (x0, y0, x1, y1)
        Fixed pixel region (the same for every frame).

    Returns
    -------
    ndarray, float64, shape (n,)
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ParameterError(f"frames must have shape (n, H, W, 3), got {frames.shape}")
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if not (0 <= x0 < x1 and 0 <= y0 < y1):
        raise ParameterError(f"box must be (x0, y0, x1, y1) with x0 < x1, y0 < y1, got {box}")
    roi = frames[:, y0:y1, x0:x1].astype(np.float32)
    gray = roi @ np.array([0.114, 0.587, 0.299], np.float32)
    # the cavity is dark and reddish-purple: darker than both skin and lips of the clip
    thr = min(0.45 * float(np.median(gray)), 40.0)
    return (gray < thr).reshape(len(frames), -1).sum(axis=1).astype(np.float64)


def speech_envelope(audio, *, sr: int, fps: float = 25.0, n_frames: int | None = None) -> np.ndarray:
    """RMS of each video frame's span of audio: frame k covers ``[k/fps, (k+1)/fps)``."""
    audio = np.asarray(audio, dtype=np.float64)
    hop = sr / fps
    n = int(audio.shape[0] // hop) if n_frames is None else int(n_frames)
    edges = np.round(np.arange(n + 1) * hop).astype(int)
    return np.array([np.sqrt(np.mean(audio[a:b] ** 2)) if b > a else 0.0 for a, b in zip(edges[:-1], edges[1:])])


def lagged_correlation(video, audio, *, max_lag: int = 5) -> dict:
    """Pearson correlation of ``video[k + lag]`` with ``audio[k]`` for lag in [-max_lag, max_lag].

    A negative best lag means the mouth moves before the sound.

    Returns
    -------
    dict
        ``lags`` (list), ``corr`` (list), ``best_lag`` (int), ``best_corr`` (float), ``corr_at_0``.
    """
    v = np.asarray(video, dtype=np.float64)
    a = np.asarray(audio, dtype=np.float64)
    n = min(len(v), len(a))
    lags = list(range(-max_lag, max_lag + 1))
    corr = []
    for lag in lags:
        if lag >= 0:
            x, y = v[lag:n], a[: n - lag]
        else:
            x, y = v[: n + lag], a[-lag:n]
        c = np.corrcoef(x, y)[0, 1] if x.std() > 0 and y.std() > 0 else 0.0
        corr.append(float(c))
    i = int(np.argmax(corr))
    return {"lags": lags, "corr": corr, "best_lag": lags[i], "best_corr": corr[i], "corr_at_0": corr[lags.index(0)]}


def clip_sync(video_path, audio_path, *, box, max_lag: int = 5) -> dict:
    """:func:`lagged_correlation` of a clip's decoded mouth opening and its speech envelope."""
    from ...auditory.io import read_wav

    frames = read_video_frames(video_path)
    x, sr = read_wav(audio_path)
    env = speech_envelope(x, sr=sr, n_frames=len(frames))
    return lagged_correlation(mouth_opening(frames, box=box), env, max_lag=max_lag)


def mouth_interior(frames, *, boxes, band: float = 0.3) -> dict:
    """Dark (mouth cavity) and bright (teeth) pixels between the lips, per frame, from decoded pixels.

    Parameters
    ----------
    frames : ndarray, shape (n, H, W, 3)
        Decoded BGR frames.
    boxes : array_like, shape (n, 4)
        Per-frame outer-lip box ``(x0, y0, x1, y1)`` (e.g. ``bbox_*`` of ``mouth_params``; only where to look).
    band : float
        Half width of the central band examined, as a fraction of the box width; rows: the middle half of
        the box height (between the lips' centres).

    Returns
    -------
    dict
        ``dark`` (pixels darker than 0.45 x the clip's median lip-box gray: the open cavity), ``bright``
        (pixels brighter than that median + 55 and above 150: teeth), ``teeth_rows`` (rows of the band,
        over the whole box height, that are at least half bright: the teeth band's height in pixels), ``closed`` (bool: ``dark`` <= 2 and ``bright``
        <= 3: nothing but lips between the lips, they meet across the band); arrays of shape (n,).

    Examples
    --------
    >>> f = np.full((1, 40, 60, 3), 120, np.uint8); f[0, 18:22, 20:40] = 20
    >>> mouth_interior(f, boxes=[(10, 10, 50, 30)])["closed"].tolist()
    [False]
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ParameterError(f"frames must have shape (n, H, W, 3), got {frames.shape}")
    boxes = np.asarray(boxes, np.float64)
    if boxes.shape != (len(frames), 4):
        raise ParameterError(f"boxes must have shape ({len(frames)}, 4), got {boxes.shape}")
    w = np.array([0.114, 0.587, 0.299], np.float32)
    regions, fulls = [], []
    for f, (x0, y0, x1, y1) in zip(frames, boxes):
        cx, bw, bh = (x0 + x1) / 2, x1 - x0, y1 - y0
        xa, xb = max(int(round(cx - band * bw)), 0), int(round(cx + band * bw)) + 1
        ya, yb = int(round(y0 + 0.25 * bh)), int(round(y1 - 0.25 * bh)) + 1
        regions.append(f[max(ya, 0):yb, xa:xb].astype(np.float32) @ w)
        fulls.append(f[max(int(round(y0)), 0):int(round(y1)) + 1, xa:xb].astype(np.float32) @ w)
    ref = float(np.median(np.concatenate([r.ravel() for r in regions]))) if regions else 0.0
    dark = np.array([(r < 0.45 * ref).sum() for r in regions], np.float64)
    hi = max(ref + 55, 150)
    bright = np.array([(r > hi).sum() for r in regions], np.float64)
    rows = np.array([int(((r > hi).mean(axis=1) >= 0.5).sum()) if r.size else 0 for r in fulls], np.float64)
    return {"dark": dark, "bright": bright, "teeth_rows": rows, "closed": (dark <= 2) & (bright <= 3)}

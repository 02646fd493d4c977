"""Video decoding for lip reading: probe, read (grayscale or RGB, optional resampling in time), write, frozen frames.

Everything goes through OpenCV's ``cv2.VideoCapture`` (FFmpeg backend), so any container/codec OpenCV can
read works: GRID's MPEG-1 ``.mpg``, ``.mp4``, ``.avi``, ``.mov`` ...

OpenCV fails silently: ``VideoCapture`` on a missing or garbage file just reports "not opened" or yields no
frames, and the frame count in the header (``CAP_PROP_FRAME_COUNT``) is an estimate that is wrong for
damaged files (and off by one for many intact MPEG-1 files). Here every such case is turned into a
:class:`~lip2audspec.errors.DataError` that says what was wrong, and frames are always *counted by decoding*.

Public API
----------
probe_video(path) -> VideoInfo
    Decodable frame count, declared frame count, fps, size.
read_video(path, *, gray=True, fps=None, max_frames=None, min_frames=1) -> Video
    Frames as uint8 arrays, optionally resampled in time to ``fps`` (nearest frame on timestamps).
FrameStream(path, *, gray=True, fps=None, max_frames=None) / iter_frames(...)
    The same frames decoded one at a time (bounded memory, any length); ``.blocks(n)`` for arrays.
write_video(path, frames, *, fps)
    ``.mp4`` (mp4v), ``.mpg``/``.mpeg`` (MPEG-1) or ``.avi`` (MJPG), written atomically.
frozen_frames(frames, *, tol=0.5)
    Indices of frames that repeat the previous frame.
resample_indices(n_frames, *, fps_in, fps_out)
    The source frame used for each output frame by :func:`read_video`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..fileio import atomic_path, quiet_stderr

__all__ = ["VideoInfo", "Video", "FrameStream", "iter_frames", "probe_video", "read_video", "write_video", "frozen_frames", "resample_indices",
           "MPEG1_FPS"]

log = logging.getLogger(__name__)

#: Frame rates the MPEG-1 video standard allows (``write_video`` to ``.mpg`` accepts only these).
MPEG1_FPS = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 50.0, 60000 / 1001, 60.0)
_MAX_SANE_FPS = 1000.0
_WRITER_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mpg": "PIM1", ".mpeg": "PIM1", ".avi": "MJPG"}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe_video` found.

    Attributes
    ----------
    path : Path
    frames : int
        Frames that actually decode (counted by decoding every frame).
    declared_frames : int
        Frame count in the container header (``CAP_PROP_FRAME_COUNT``); 0 if unknown. Unreliable.
    fps : float
        Declared frame rate; ``nan`` if the container gives none (or an absurd one).
    width, height : int
        Frame size in pixels.
    """

    path: Path
    frames: int
    declared_frames: int
    fps: float
    width: int
    height: int

    @property
    def duration(self) -> float:
        """Seconds of decodable video (``frames / fps``; ``nan`` if the fps is unknown)."""
        return self.frames / self.fps if self.fps > 0 else float("nan")

    @property
    def complete(self) -> bool:
        """True if every declared frame decodes (declared counts can be one short for intact MPEG-1 files,
        so this is ``frames >= declared_frames``)."""
        return self.frames >= self.declared_frames


@dataclass(frozen=True)
class Video:
    """Decoded frames of a video.

    Attributes
    ----------
    frames : ndarray, uint8, shape (T, H, W) or (T, H, W, 3)
        Grayscale or RGB frames.
    fps : float
        Frame rate of ``frames`` (the requested ``fps`` after resampling, else the file's).
    path : Path or None
        Source file.
    source_fps : float
        Frame rate declared by the file (``nan`` if unknown).
    source_frames : int
        Frames decoded from the file (before resampling; fewer if ``max_frames`` stopped decoding early).
    """

    frames: np.ndarray
    fps: float
    path: Path | None = None
    source_fps: float = float("nan")
    source_frames: int = 0

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration(self) -> float:
        """Seconds covered by ``frames``."""
        return self.n_frames / self.fps

    @property
    def gray(self) -> bool:
        return self.frames.ndim == 3

    def __len__(self) -> int:
        return self.n_frames


# ---------------------------------------------------------------------------------------------- helpers
def _check_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterError(f"path must be a str or path-like, got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise DataError(f"no video file at {path}")
    if not path.is_file():
        raise DataError(f"{path} is not a file")
    if path.stat().st_size == 0:
        raise DataError(f"video file {path} is empty (0 bytes)")
    return path


def _open(path: Path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        cap.release()
        raise DataError(f"OpenCV cannot open video {path}: unreadable or unsupported file (not a video, damaged, "
                        "or a codec this OpenCV build lacks)")
    return cap


def _declared(cap) -> tuple:
    import cv2

    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > _MAX_SANE_FPS:
        fps = float("nan")
    n = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    n = int(n) if math.isfinite(n) and n > 0 else 0
    return fps, n, int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))


def _positive_number(name, v, *, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{name} must be a positive finite number{' or None' if allow_none else ''}, got {v!r}")
    return float(v)


def _count(name, v, *, lo=1, allow_none=False):
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ParameterError(f"{name} must be an integer >= {lo}{' or None' if allow_none else ''}, got {v!r}")
    return int(v)


# ---------------------------------------------------------------------------------------------- probe / read
def probe_video(path) -> VideoInfo:
    """Open a video and count its frames by decoding them all.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    VideoInfo
        ``frames`` is the number of frames that decode (a truncated file gives fewer than
        ``declared_frames``); ``fps``, ``width``, ``height`` as declared by the container.

    Raises
    ------
    DataError
        The file is missing or empty, OpenCV cannot open it, or not a single frame decodes.
    """
    path = _check_path(path)
    cap = _open(path)
    try:
        fps, declared, w, h = _declared(cap)
        n = 0
        while cap.grab():  # grab() demuxes and decodes; retrieve() (colour conversion) is not needed to count
            n += 1
    finally:
        cap.release()
    if n == 0:
        raise DataError(f"no frame of video {path} decodes (damaged or unsupported file; header says {declared} frames)")
    return VideoInfo(path=path, frames=n, declared_frames=declared, fps=fps, width=w, height=h)


def resample_indices(n_frames: int, *, fps_in: float, fps_out: float) -> np.ndarray:
    """Source frame index of each output frame when resampling ``n_frames`` frames from ``fps_in`` to ``fps_out``.

    Nearest-frame selection on timestamps: source frame ``i`` is shown at ``i / fps_in`` s, output frame
    ``j`` at ``j / fps_out`` s, and output frame ``j`` takes the source frame whose timestamp is nearest,
    ``i = floor(j * fps_in / fps_out + 1/2)``. Output frames run while that index exists, so the output
    covers the same duration: 90 frames at 30 fps -> 75 frames at 25 fps (indices 0, 1, 2, 4, 5, 6, 7, 8,
    10, ...), 150 at 50 fps -> 75 (every second frame), 45 at 15 fps -> 75 (frames repeated).

    Parameters
    ----------
    n_frames : int
        Number of source frames (>= 0).
    fps_in, fps_out : float
        Source and output frame rates (> 0).

    Returns
    -------
    ndarray, int64, shape (n_out,)
        Nondecreasing source indices in ``[0, n_frames)``.
    """
    n_frames = _count("n_frames", n_frames, lo=0)
    ratio = _positive_number("fps_in", fps_in) / _positive_number("fps_out", fps_out)
    if n_frames == 0:
        return np.zeros(0, np.int64)
    # largest j with floor(j * ratio + 1/2) <= n_frames - 1  <=>  j * ratio + 1/2 < n_frames
    n_out = int(math.ceil((n_frames - 0.5) / ratio - 1e-9))
    idx = np.floor(np.arange(n_out) * ratio + 0.5 + 1e-9).astype(np.int64)
    return idx[idx < n_frames]


class FrameStream:
    """Frames of a video file decoded one at a time (bounded memory), optionally resampled in time.

    Iterating yields uint8 frames, (H, W) gray or (H, W, 3) RGB, at ``fps`` (the requested rate, else the
    file's), decoded lazily: a 30-minute 720p video never holds more than one frame. Each iteration
    decodes the file again from the start. :func:`read_video` is this stream stacked into one array.

    The path is checked and the file opened once on construction, so a missing, empty or unreadable
    file fails here with the same :class:`DataError` as :func:`read_video`; a file whose first frame does
    not decode fails when iterated.

    Parameters
    ----------
    path : str or Path
    gray : bool
        True: (H, W) grayscale frames; False: (H, W, 3) RGB.
    fps : float, optional
        Resample in time to this rate by nearest-frame selection on timestamps (:func:`resample_indices`);
        None keeps every decoded frame. A file without a usable declared rate is taken as 25 fps (warning).
    max_frames : int, optional
        Stop after this many output frames.

    Attributes
    ----------
    path : Path
    fps : float
        Rate of the yielded frames.
    source_fps : float
        Declared rate (``nan`` if unknown).
    declared_frames : int
        Header frame count (0 if unknown; an estimate, see :func:`probe_video`).
    width, height : int
    source_frames, frames_out : int
        Frames decoded and yielded by the last (or current) iteration.

    Examples
    --------
    >>> stream = FrameStream("lecture.mp4", fps=25)                      # doctest: +SKIP
    >>> for block in stream.blocks(250):                                 # doctest: +SKIP
    ...     process(block)                                               # (<= 250, H, W) uint8
    """

    def __init__(self, path, *, gray: bool = True, fps: float | None = None, max_frames: int | None = None):
        self.fps_out = _positive_number("fps", fps, allow_none=True)
        self.max_frames = _count("max_frames", max_frames, allow_none=True)
        self.gray = bool(gray)
        self.path = _check_path(path)
        cap = _open(self.path)
        try:
            self.source_fps, self.declared_frames, self.width, self.height = _declared(cap)
        finally:
            cap.release()
        if math.isnan(self.source_fps):
            log.warning("%s declares no usable frame rate; assuming 25 fps", self.path)
        self.source_frames = 0
        self.frames_out = 0

    @property
    def fps(self) -> float:
        if self.fps_out is not None:
            return self.fps_out
        return 25.0 if math.isnan(self.source_fps) else self.source_fps

    @property
    def expected_frames(self) -> int:
        """Output frames the header promises (an estimate; 0 if the header gives no count)."""
        if not self.declared_frames:
            return 0
        fps_in = 25.0 if math.isnan(self.source_fps) else self.source_fps
        n = self.declared_frames if self.fps_out is None else len(resample_indices(self.declared_frames, fps_in=fps_in,
                                                                                   fps_out=self.fps_out))
        return n if self.max_frames is None else min(n, self.max_frames)

    def __iter__(self):
        import cv2

        cap = _open(self.path)
        fps_in = 25.0 if math.isnan(self.source_fps) else self.source_fps
        ratio = fps_in / self.fps_out if self.fps_out is not None else 1.0
        code = cv2.COLOR_BGR2GRAY if self.gray else cv2.COLOR_BGR2RGB
        limit = self.max_frames
        self.source_frames = self.frames_out = 0
        i = j = 0
        try:
            while limit is None or j < limit:
                ok, frame = cap.read()
                if not ok:
                    break
                if frame.ndim == 2:  # some backends give gray frames for gray streams
                    frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                conv = None
                # emit source frame i for every output frame j whose nearest source frame is i
                while math.floor(j * ratio + 0.5 + 1e-9) == i and (limit is None or j < limit):
                    if conv is None:
                        conv = cv2.cvtColor(frame, code)
                    j += 1
                    self.frames_out = j
                    yield conv
                i += 1
                self.source_frames = i
        finally:
            cap.release()
        if i == 0:
            raise DataError(f"no frame of video {self.path} decodes (damaged or unsupported file; header says "
                            f"{self.declared_frames} frames)")

    def blocks(self, n: int):
        """Yield the frames in arrays of ``n`` (the last one shorter): (n, H, W) or (n, H, W, 3) uint8."""
        n = _count("n", n)
        buf = []
        for f in self:
            buf.append(f)
            if len(buf) == n:
                yield np.stack(buf)
                buf = []
        if buf:
            yield np.stack(buf)

    def __repr__(self):
        return (f"FrameStream({str(self.path)!r}, gray={self.gray}, fps={self.fps_out}, "
                f"{self.width}x{self.height} at {self.source_fps:g} fps)")


def iter_frames(path, *, gray: bool = True, fps: float | None = None, max_frames: int | None = None):
    """Decode a video frame by frame: a :class:`FrameStream` (iterate it; ``.blocks(n)`` for arrays)."""
    return FrameStream(path, gray=gray, fps=fps, max_frames=max_frames)


def read_video(path, *, gray: bool = True, fps: float | None = None, max_frames: int | None = None,
               min_frames: int = 1) -> Video:
    """Decode a video file into a uint8 array (:class:`FrameStream` stacked).

    Parameters
    ----------
    path : str or Path
        Any video OpenCV can read (mpg, mp4, avi, ...).
    gray : bool
        True: grayscale frames, shape (T, H, W). False: RGB frames, shape (T, H, W, 3).
    fps : float, optional
        Resample in time to this frame rate (e.g. 25 for the model) by nearest-frame selection on the
        frame timestamps ``i / source_fps`` (see :func:`resample_indices`): a 30 fps clip drops every sixth
        frame, a 50 fps clip every second one, a 15 fps clip repeats frames. The stream is treated as
        constant frame rate at its declared fps. ``None``: keep every decoded frame. If the file declares no
        usable fps, 25 fps is assumed (with a warning).
    max_frames : int, optional
        Stop after this many *output* frames (decoding stops early too).
    min_frames : int
        Raise :class:`DataError` if fewer output frames than this are obtained ("video too short").

    Returns
    -------
    Video
        ``frames`` (T, H, W) or (T, H, W, 3) uint8, ``fps`` (the requested one if given, else the file's),
        ``path``, ``source_fps``, ``source_frames``.

    Raises
    ------
    DataError
        Missing, empty or unreadable file; no frame decodes; fewer than ``min_frames`` frames.
    ParameterError
        Bad ``fps``, ``max_frames`` or ``min_frames``.

    Notes
    -----
    Memory grows with the video (T x H x W bytes: 40 GB for 30 minutes of 720p gray); iterate a
    :class:`FrameStream` instead for long videos.

    Examples
    --------
    >>> v = read_video("s1/bbaf2n.mpg", fps=25)          # doctest: +SKIP
    >>> v.frames.shape, v.fps                            # doctest: +SKIP
    ((75, 288, 360), 25.0)
    """
    fps_out = _positive_number("fps", fps, allow_none=True)
    max_frames = _count("max_frames", max_frames, allow_none=True)
    min_frames = _count("min_frames", min_frames, lo=0)
    stream = FrameStream(path, gray=gray, fps=fps_out, max_frames=max_frames)
    out = list(stream)
    if len(out) < min_frames:
        raise DataError(f"video {stream.path} is too short: {len(out)} frames{f' at {fps_out:g} fps' if fps_out else ''}, "
                        f"at least {min_frames} needed")
    frames = np.stack(out) if out else np.zeros((0, 0, 0) if gray else (0, 0, 0, 3), np.uint8)
    return Video(frames=frames, fps=stream.fps, path=stream.path, source_fps=stream.source_fps,
                 source_frames=stream.source_frames)


# ---------------------------------------------------------------------------------------------- write
def _check_frames(frames: np.ndarray, what: str) -> None:
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[3] != 3) or frames.shape[0] < 1:
        raise ParameterError(f"{what} must be uint8 of shape (T, H, W) or (T, H, W, 3) with T >= 1, "
                             f"got {frames.dtype} {frames.shape}")



def write_video(path, frames, *, fps: float) -> Path:
    """Write frames to a video file atomically; the codec follows the suffix.

    Parameters
    ----------
    path : str or Path
        ``.mp4``/``.m4v``/``.mov`` (MPEG-4 part 2, fourcc ``mp4v``), ``.mpg``/``.mpeg`` (MPEG-1, like GRID;
        only the frame rates in :data:`MPEG1_FPS`) or ``.avi`` (Motion-JPEG).
    frames : array_like, uint8, shape (T, H, W) or (T, H, W, 3); or an iterator of such frames
        Grayscale or RGB frames, T >= 1. MPEG codecs want even H and W. An iterator (e.g. a generator)
        is written frame by frame, so a long video never has to fit in memory.
    fps : float
        Frame rate.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        Bad frames, fps or suffix.
    DataError
        OpenCV cannot open a writer for this codec.
    """
    import cv2

    path = Path(path)
    fps = _positive_number("fps", fps)
    suffix = path.suffix.lower()
    if suffix not in _WRITER_CODECS:
        raise ParameterError(f"video suffix must be one of {sorted(_WRITER_CODECS)}, got {path.name!r}")
    if _WRITER_CODECS[suffix] == "PIM1" and not any(abs(fps - f) < 1e-3 for f in MPEG1_FPS):
        raise ParameterError(f"MPEG-1 (.mpg) allows only the frame rates {[round(f, 3) for f in MPEG1_FPS]}, got {fps:g}; "
                             "use .mp4 for other rates")
    if isinstance(frames, Iterator):  # a stream: check the first frame, write the rest as they come
        import itertools

        first = next(frames, None)
        if first is None:
            raise ParameterError("frames must hold at least one frame, got an empty iterator")
        first = np.asarray(first)
        shape = first.shape
        _check_frames(first[None], "frames")
        frames = itertools.chain([first], frames)
    else:
        frames = np.asarray(frames)
        _check_frames(frames, "frames")
        shape = frames.shape[1:]
    h, w = shape[:2]
    with atomic_path(path) as tmp:
        with quiet_stderr():
            wr = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*_WRITER_CODECS[suffix]), fps, (int(w), int(h)))
        if not wr.isOpened():
            raise DataError(f"OpenCV cannot open a {_WRITER_CODECS[suffix]} writer for {path} ({w}x{h} at {fps:g} fps)")
        try:
            for f in frames:
                if f.shape != shape or f.dtype != np.uint8:
                    raise ParameterError(f"every frame must be uint8 of shape {shape}, got {f.dtype} {f.shape}")
                wr.write(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) if f.ndim == 2 else cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        finally:
            wr.release()
    return path


# ---------------------------------------------------------------------------------------------- checks
def frozen_frames(frames, *, tol: float = 0.05, gap_tol: float = 1.0, max_gap: int = 2) -> np.ndarray:
    """Indices of frames that repeat the previous frame ("frozen" video, as in some damaged GRID clips).

    Let ``d[t]`` be the mean absolute difference (grey levels) between frames ``t`` and ``t - 1``. Frame
    ``t >= 1`` is frozen if ``d[t] <= tol``. Lossy codecs do not reproduce a repeated frame bit-exactly
    everywhere: inside a run of repeated frames, a key frame (MPEG-1 from OpenCV: every 12th frame) is
    coded afresh and it and the next frame differ by ~0.1-0.6 grey levels from their neighbours. So runs of
    frozen frames separated by at most ``max_gap`` frames whose ``d`` is at most ``gap_tol`` are joined.

    Measured on the synthetic corpus (MPEG-1, 360x288): repeated frames have ``d`` = 0.000-0.003 except at
    key frames (up to 0.56); genuinely consecutive frames have ``d`` >= 0.10 even in silent, nearly still
    stretches (real camera video, with sensor noise, has far larger ``d``).

    Parameters
    ----------
    frames : array_like, uint8, shape (T, H, W) or (T, H, W, C)
    tol : float
        Threshold on ``d`` for a repeated frame (grey levels, >= 0).
    gap_tol : float
        Threshold on ``d`` for frames bridged between two frozen runs (>= tol).
    max_gap : int
        Longest bridged gap in frames (0: no bridging).

    Returns
    -------
    ndarray, int64, shape (n_frozen,)
        Sorted indices in ``[1, T)``.

    Examples
    --------
    >>> f = np.zeros((6, 4, 4), np.uint8); f[3:] = 9
    >>> frozen_frames(f).tolist()
    [1, 2, 4, 5]
    """
    for name, v in (("tol", tol), ("gap_tol", gap_tol)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not v >= 0:
            raise ParameterError(f"{name} must be a number >= 0 (grey levels), got {v!r}")
    max_gap = _count("max_gap", max_gap, lo=0)
    frames = np.asarray(frames)
    if frames.ndim not in (3, 4):
        raise ParameterError(f"frames must have shape (T, H, W) or (T, H, W, C), got {frames.shape}")
    n = frames.shape[0]
    if n < 2:
        return np.zeros(0, np.int64)
    d = np.full(n, np.inf)
    for t in range(1, n):
        d[t] = np.mean(np.abs(frames[t].astype(np.int16) - frames[t - 1].astype(np.int16)))
    frozen = d <= float(tol)
    if max_gap:
        idx = np.flatnonzero(frozen)
        for a, b in zip(idx[:-1], idx[1:]):
            if 1 < b - a <= max_gap + 1 and np.all(d[a + 1: b] <= float(gap_tol)):
                frozen[a + 1: b] = True
    return np.flatnonzero(frozen)

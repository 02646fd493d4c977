"""Mouth tracking through long videos, frame by frame, in bounded memory.

The croppers of :mod:`lip2audspec.data.crop` see a whole clip at once: ``haar`` finds the face on the first
frame and reuses that box for every frame (right for GRID, where the head barely moves in 3 s; wrong for a
lecture where it moves), ``landmarks`` smooths per-frame landmarks over the whole clip. A 30-minute video
cannot be held in memory, so :class:`MouthTracker` works on a stream of frames instead:

1. **detect** the face every ``detect_every`` frames (every frame until the first face is found), first in
   a region around the previous face (scaled so the search is cheap), then, if that fails, in the whole
   frame scaled to ``detect_size`` pixels; the mouth centre and width come from the Haar face box
   (``CropConfig.haar_mouth``) or from dlib's mouth landmarks 48..67, as in the croppers;
2. **smooth** the detections with a running median over ``smooth`` detections (outliers and Haar jitter
   removed), centred (shrunk symmetrically at the ends), so each box waits for ``smooth // 2`` later
   detections;
3. **interpolate** the centre and side linearly between smoothed detections for the frames in between;
4. **lost face**: frames more than ``max_lost`` frames behind the newest frame are emitted with what is
   known then (the last smoothed box held) and flagged ``detected=False``; a face found again later is
   followed from there. No face within the first ``max_search`` frames is a :class:`DataError`.

Memory: at most ``max(max_lost, max_search)`` frames are buffered (``max_lost`` once a face has been seen).
Crops are cut with the same :func:`~lip2audspec.data.crop.extract_crop` (square box, border replication,
``INTER_AREA`` to ``size``). Used by :meth:`lip2audspec.reconstruct.Reconstructor.from_video` for videos
longer than one chunk; the dataset path (``prepare``) keeps the whole-clip croppers.

Public API
----------
TrackConfig(detect_every, smooth, max_lost, max_search, detect_size)
MouthTracker(crop_config, track_config).track(frames) -> iterator of MouthCrops blocks
track_mouths(frames, crop_config, track_config) -> MouthCrops   (all frames at once)
"""

from __future__ import annotations

import bisect
import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..errors import DataError, ParameterError
from .crop import ROI_MARGIN, CropConfig, LandmarkCropper, MouthCrops, _haar_cascade, extract_crop

__all__ = ["TrackConfig", "MouthTracker", "track_mouths"]

log = logging.getLogger(__name__)


def _int_in(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
        raise ParameterError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
    return int(v)


@dataclass(frozen=True)
class TrackConfig(Config):
    """How :class:`MouthTracker` follows the mouth.

    Parameters
    ----------
    detect_every : int
        Frames between face detections (1..50; default 5 = 5 per second at 25 fps); frames in between
        are interpolated. Until a face is found every frame is searched.
    smooth : int
        Detections in the centred running median of the mouth centre and box side (odd, 1..15).
    max_lost : int
        Frames a box may wait for later detections (>= detect_every * (smooth // 2 + 1)); when the face
        is lost for longer, frames are emitted with the last box held and ``detected=False``.
    max_search : int
        Frames searched for the first face before giving up with :class:`DataError` (also the most frames
        buffered meanwhile).
    detect_size : int
        Longest side (pixels) of a frame searched whole (160..4096); searches around the previous face
        run at the scale where the face is about 100 px (Haar) or ``CropConfig.detect_width`` (dlib).
    """

    detect_every: int = 5
    smooth: int = 5
    max_lost: int = 50
    max_search: int = 250
    detect_size: int = 480

    def __post_init__(self):
        _int_in("detect_every", self.detect_every, 1, 50)
        _int_in("smooth", self.smooth, 1, 15)
        if self.smooth % 2 == 0:
            raise ParameterError(f"smooth must be odd (a centred median), got {self.smooth}")
        lag = self.detect_every * (self.smooth // 2 + 1)
        _int_in("max_lost", self.max_lost, lag, 100_000)
        _int_in("max_search", self.max_search, 1, 100_000)
        _int_in("detect_size", self.detect_size, 160, 4096)


# ---------------------------------------------------------------------------------------------- detectors
class _HaarMouth:
    """Mouth (centre x, centre y, width) from OpenCV's Haar face box (as :class:`~.crop.HaarCropper`)."""

    FACE_PX = 100.0  # face width the region search is scaled to

    def __init__(self, crop: CropConfig, track: TrackConfig):
        self.crop, self.track = crop, track

    def _faces(self, img, scale):
        import cv2

        if abs(scale - 1.0) > 1e-3:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        m = max(24, min(img.shape) // 6)
        faces = _haar_cascade().detectMultiScale(img, scaleFactor=1.1, minNeighbors=5, minSize=(m, m))
        if len(faces) == 0:
            return None
        x, y, w, h = (float(v) for v in max(faces, key=lambda f: f[2] * f[3]))
        return np.array([x, y, x + w, y + h]) / scale

    def __call__(self, gray, prev):
        H, W = gray.shape
        face = None
        if prev is not None:
            face = _search_roi(gray, prev, lambda img, s: self._faces(img, s), self.FACE_PX, margin=0.5)
        if face is None:
            face = self._faces(gray, min(1.0, self.track.detect_size / max(H, W)))
        if face is None:
            return None
        x0, y0, x1, y1 = face
        fx, fy, fw = self.crop.haar_mouth
        return face, (x0 + fx * (x1 - x0), y0 + fy * (y1 - y0), fw * (x1 - x0))


class _LandmarkMouth:
    """Mouth (centre, width) from dlib's 68 landmarks (as :class:`~.crop.LandmarkCropper`)."""

    def __init__(self, crop: CropConfig, track: TrackConfig):
        self.crop, self.track = crop, track
        self.cropper = LandmarkCropper(crop)

    def __call__(self, gray, prev):
        import dlib

        det, pred = self.cropper._models()
        H, W = gray.shape
        face = None
        if prev is not None:
            face = _search_roi(gray, prev, lambda img, s: self.cropper._detect(det, img, s), float(self.crop.detect_width),
                               margin=ROI_MARGIN)
        if face is None:
            face = self.cropper._detect(det, gray, min(1.0, self.track.detect_size / max(H, W)))
        if face is None:
            return None
        shape = pred(gray, dlib.rectangle(*(int(round(v)) for v in face)))
        pts = np.array([(shape.part(i).x, shape.part(i).y) for i in range(48, 68)], np.float64)
        cx, cy = pts.mean(axis=0)
        return face, (cx, cy, float(np.hypot(*(pts[6] - pts[0]))))


def _search_roi(gray, prev, detect, face_px, *, margin):
    """Detect in the previous face box enlarged by ``margin`` of its size per side, scaled so the face is
    about ``face_px`` wide; the face (x0, y0, x1, y1) in frame pixels, or None."""
    H, W = gray.shape
    fw, fh = prev[2] - prev[0], prev[3] - prev[1]
    x0, y0 = int(max(0, prev[0] - margin * fw)), int(max(0, prev[1] - margin * fh))
    x1, y1 = int(min(W, prev[2] + margin * fw)), int(min(H, prev[3] + margin * fh))
    if x1 - x0 <= 8 or y1 - y0 <= 8:
        return None
    s = float(np.clip(face_px / max(fw, 1.0), 0.05, 4.0))
    f = detect(np.ascontiguousarray(gray[y0:y1, x0:x1]), s)
    return None if f is None else f + np.array([x0, y0, x0, y0])


_DETECTORS = {"haar": _HaarMouth, "landmarks": _LandmarkMouth}


# ---------------------------------------------------------------------------------------------- tracker
class MouthTracker:
    """Follow the mouth through a stream of frames and cut crops (see the module docstring).

    Parameters
    ----------
    crop : CropConfig
        ``method`` ``haar`` or ``landmarks`` (``mask`` boxes are fixed: nothing to track), ``size``,
        ``scale`` (box side / mouth width), ``haar_mouth``, ``detect_width``, ``landmark_model``.
    track : TrackConfig, optional

    Examples
    --------
    >>> from lip2audspec.data.video import FrameStream
    >>> tracker = MouthTracker(CropConfig(method="haar", size=48))                  # doctest: +SKIP
    >>> for block in tracker.track(FrameStream("lecture.mp4", fps=25)):            # doctest: +SKIP
    ...     use(block.crops)                                                        # (n, 48, 48) uint8
    """

    def __init__(self, crop: CropConfig | None = None, track: TrackConfig | None = None):
        crop = CropConfig(method="haar") if crop is None else crop
        if not isinstance(crop, CropConfig):
            raise ParameterError(f"crop must be a CropConfig, got {type(crop).__name__}")
        if crop.method not in _DETECTORS:
            raise ParameterError(f"tracking needs the 'haar' or 'landmarks' cropper, got {crop.method!r} "
                                 "(a 'mask' box is fixed for the whole video)")
        track = TrackConfig() if track is None else track
        if not isinstance(track, TrackConfig):
            raise ParameterError(f"track must be a TrackConfig, got {type(track).__name__}")
        self.crop_config, self.config = crop, track
        self._detect = _DETECTORS[crop.method](crop, track)

    def track(self, frames, *, source: str | None = None):
        """Crop the mouth of every frame of a stream.

        Parameters
        ----------
        frames : iterable of ndarray, uint8, shape (H, W) or (H, W, 3) RGB
            E.g. a :class:`~lip2audspec.data.video.FrameStream` (or an array (T, H, W)).
        source : str, optional
            Named in errors (default: the stream's path if it has one).

        Yields
        ------
        MouthCrops
            Consecutive blocks of the frames, in order: ``crops`` (n, size, size) uint8, ``boxes`` (n, 4),
            ``detected`` (n,) (False: frame followed a held or extrapolated box, the face not being seen
            within ``detect_every`` frames of it).

        Raises
        ------
        DataError
            No face in the first ``max_search`` frames; an empty stream.
        ParameterError
            Frames of the wrong type or shape.
        """
        import cv2

        cfg = self.config
        source = source if source is not None else (str(getattr(frames, "path", "")) or None)
        half = cfg.smooth // 2
        buf = deque()           # (t, gray frame, detected) not yet emitted
        meas_t, meas_v = [], []  # successful detections: frame index, (cx, cy, side); trimmed as frames go out
        prev_face, last_ok_t, n_seen, shape = None, None, 0, None
        held = None              # last emitted (cx, cy, side)

        def smoothed():
            v = np.asarray(meas_v)
            if half == 0 or len(v) < 2:
                return v
            out = np.empty_like(v)
            for i in range(len(v)):  # centred window, shrunk symmetrically at the ends (no lag on a ramp)
                h = min(half, i, len(v) - 1 - i)
                out[i] = np.median(v[i - h: i + h + 1], axis=0)
            return out

        def emit(upto: int):
            """Emit buffered frames with t <= upto."""
            nonlocal held
            ts = [b[0] for b in buf if b[0] <= upto]
            if not ts:
                return None
            sm = smoothed()
            if len(sm):
                mt = np.asarray(meas_t, np.float64)
                vals = np.stack([np.interp(np.asarray(ts, np.float64), mt, sm[:, k]) for k in range(3)], axis=1)
            else:
                vals = np.tile(held, (len(ts), 1))
            n = len(ts)
            crops = np.empty((n, self.crop_config.size, self.crop_config.size), np.uint8)
            boxes = np.empty((n, 4))
            det = np.empty(n, bool)
            for i in range(n):
                _, g, d = buf.popleft()
                cx, cy, side = vals[i]
                box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
                crops[i], boxes[i] = extract_crop(g, box, size=self.crop_config.size)
                det[i] = d
            held = vals[-1]
            # keep the detections the frames still buffered need: from half before the last one <= ts[-1]
            drop = max(0, bisect.bisect_right(meas_t, ts[-1]) - 1 - half)
            del meas_t[:drop], meas_v[:drop]
            return MouthCrops(crops=crops, boxes=boxes, detected=det, method=self.crop_config.method, source=source)

        for t, frame in enumerate(frames):
            frame = np.asarray(frame)
            if frame.dtype != np.uint8 or frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] != 3):
                raise ParameterError(f"frames must be uint8 (H, W) gray or (H, W, 3) RGB, got {frame.dtype} {frame.shape}")
            gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
            if shape is None:
                shape = gray.shape
                if min(shape) < 8:
                    raise ParameterError(f"frames must be at least 8x8 pixels, got {shape[0]}x{shape[1]}")
            elif gray.shape != shape:
                raise ParameterError(f"frame {t} is {gray.shape[0]}x{gray.shape[1]}, the stream's first was {shape[0]}x{shape[1]}")
            n_seen = t + 1
            found = None
            if last_ok_t is None or t % cfg.detect_every == 0:
                found = self._detect(gray, prev_face)
            if found is not None:
                prev_face, (cx, cy, width) = found
                meas_t.append(t)
                meas_v.append((cx, cy, self.crop_config.scale * width))
                last_ok_t = t
            seen = last_ok_t is not None and t - last_ok_t < cfg.detect_every
            buf.append((t, gray, seen))
            if last_ok_t is None:
                if n_seen >= cfg.max_search:
                    raise DataError(f"no face found in the first {n_seen} frames of {source or 'the input'} "
                                    f"({self.crop_config.method} detector; TrackConfig.max_search)")
                continue
            # frames whose box is final: followed by half + 1 detections (interpolation + median window)
            ready = meas_t[-(half + 1)] if len(meas_t) > half else -1
            if ready >= 0 and found is not None:
                out = emit(ready)
                if out is not None:
                    yield out
            if buf and t - buf[0][0] >= cfg.max_lost:  # face lost: do not wait longer for detections
                out = emit(t - cfg.max_lost)
                if out is not None:
                    yield out
        if n_seen == 0:
            raise DataError(f"no frames in {source or 'the input'}")
        if last_ok_t is None:
            raise DataError(f"no face found in {source or 'the input'} ({n_seen} frames, {self.crop_config.method} detector)")
        out = emit(n_seen)
        if out is not None:
            yield out

    def __repr__(self):
        return f"MouthTracker({self.crop_config!r}, {self.config!r})"


def track_mouths(frames, crop: CropConfig | None = None, track: TrackConfig | None = None, *,
                 source: str | None = None) -> MouthCrops:
    """:meth:`MouthTracker.track` collected into one :class:`~lip2audspec.data.crop.MouthCrops`.

    Parameters
    ----------
    frames : ndarray (T, H, W) / (T, H, W, 3) uint8, or an iterable of frames
    crop : CropConfig, optional
        Default ``CropConfig(method="haar")``.
    track : TrackConfig, optional

    Returns
    -------
    MouthCrops
    """
    blocks = list(MouthTracker(crop, track).track(frames, source=source))
    return MouthCrops(crops=np.concatenate([b.crops for b in blocks]), boxes=np.concatenate([b.boxes for b in blocks]),
                      detected=np.concatenate([b.detected for b in blocks]), method=blocks[0].method,
                      source=blocks[0].source)

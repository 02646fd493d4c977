"""Mouth-region crops of a video: three croppers behind one interface.

Lip2AudSpec (Akbari et al., ICASSP 2018) feeds the network 128x128 grayscale crops of the mouth region at
25 fps. Three ways to find the region are provided:

``mask``
    A fixed box per speaker for every frame of every clip, the stand-in for the original work's hand-drawn
    per-speaker "manual mask". The box comes from ``CropConfig.mask_boxes[speaker]`` or is estimated once
    per speaker with :func:`estimate_mask_box` (robust median of landmark mouth boxes over a few clips,
    enlarged by the spread of the mouth position so the head moving a little keeps the mouth inside).
``haar``
    OpenCV's frontal-face Haar cascade on the first frame (the next frames if the first has no face), the
    mouth box placed in the lower middle of the face box (``CropConfig.haar_mouth``) and reused for all
    frames, as the original code did.
``landmarks``
    dlib's HOG frontal-face detector and 68-point shape predictor (``dlib-bin`` +
    ``face-recognition-models``) on every frame (or the detector every ``detect_every`` frames and the face
    box tracked by the landmarks in between); the mouth box is centred on landmarks 48..67 with side
    ``scale`` x the mouth-corner distance (48-54), temporally smoothed, and frames where no face is found
    are filled by interpolating the neighbouring frames (``MouthCrops.detected`` says which).

All crops are square boxes in source pixels, clamped so they overlap the image, padded by border
replication where they stick out, and resized to ``size`` x ``size`` with ``cv2.INTER_AREA``.

Public API
----------
CropConfig(method, size, scale, smooth_frames, mask_boxes, haar_mouth, detect_width, min_frames, landmark_model,
           detect_every, landmark_step)
crop_mouths(frames, config=None, *, speaker=None, source=None) -> MouthCrops
make_cropper(config) -> MaskCropper | HaarCropper | LandmarkCropper   (reusable across clips)
estimate_mask_box(video_paths, *, config=None, max_clips=5, frame_step=5) -> (x0, y0, x1, y1)
save_crop_preview(crops_by_speaker, path, *, n=8) -> Path
"""

from __future__ import annotations

import functools
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config
from ..errors import DataError, ParameterError
from ..fileio import atomic_path
from .video import Video, read_video

__all__ = ["METHODS", "CropConfig", "MouthCrops", "MouthCropper", "MaskCropper", "HaarCropper", "LandmarkCropper",
           "make_cropper", "crop_mouths", "estimate_mask_box", "save_crop_preview", "extract_crop", "MOUTH_POINTS"]

log = logging.getLogger(__name__)

METHODS = ("mask", "haar", "landmarks")
#: Indices of the mouth among dlib's 68 face landmarks (48..59 outer lip, 60..67 inner lip).
MOUTH_POINTS = tuple(range(48, 68))
#: Window (frames) of the running median of the mouth width that sets the landmark box side.
SIZE_WINDOW = 51
HAAR_CASCADE = "haarcascade_frontalface_default.xml"
#: The landmark cropper first searches the face in the previous face box enlarged by this fraction of its
#: size on each side (head motion between frames is small); the whole frame only if that fails.
ROI_MARGIN = 0.25


# ---------------------------------------------------------------------------------------------- config
def _is_number(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v)


def _is_int(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, np.integer))


def _box4(v, what: str) -> tuple:
    try:
        b = tuple(float(x) for x in v)
    except (TypeError, ValueError):
        b = ()
    if len(b) != 4 or not all(math.isfinite(x) for x in b) or not (b[2] > b[0] and b[3] > b[1]):
        raise ParameterError(f"{what} must be 4 finite numbers (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {v!r}")
    return b


@dataclass(frozen=True)
class CropConfig(Config):
    """How mouth crops are made.

    Parameters
    ----------
    method : {"mask", "haar", "landmarks"}
        Cropper (see the module docstring).
    size : int
        Side of the output crops in pixels (8..1024; paper: 128).
    scale : float
        Side of the square crop box relative to the mouth width (0.5..6). The mouth width is the landmark
        mouth-corner distance (``landmarks``, and ``mask`` boxes from :func:`estimate_mask_box`) or
        ``haar_mouth[2]`` x the Haar face-box width (``haar``). Default 1.8: the lips, some cheek and the
        chin top, and the mouth fully open still fits (height up to ~0.7 x width).
    smooth_frames : int
        Window (frames, odd, >= 1) of the running median + running mean applied to the landmark mouth
        centre; 1 = no smoothing. The box side follows a running median over :data:`SIZE_WINDOW` frames.
    mask_boxes : dict, optional
        speaker -> (x0, y0, x1, y1) fixed box in source pixels for ``mask`` (squared about its centre).
    haar_mouth : tuple of 3 floats
        Mouth centre x, centre y and mouth width as fractions of the Haar face box (x, y, w, h): centre at
        ``(x + fx w, y + fy h)``, width ``fw w``. Default (0.51, 0.81, 0.32): between the synthetic corpus
        (median centre 0.496/0.788, width 0.29; range of the y fraction 0.72..0.83) and real GRID s1 (43
        clips, landmark mouth centre on the first frame: median 0.519/0.821, ranges 0.504..0.531 and
        0.806..0.833, width 0.288); with (0.5, 0.79) the real Haar box centre was up to 0.116 x the crop
        side from the landmark mouth centre. The 1.8 x 0.32 = 0.58 face-width box holds the open mouth.
    detect_width : int
        Face width in pixels at which dlib's face detector runs (20..400): frames are scaled so the face is
        about this wide (dlib's HOG window is 80 px). Smaller is faster (70: ~30% faster, less margin).
    min_frames : int
        Raise ``DataError("video too short")`` for clips with fewer frames (>= 1).
    landmark_model : str, optional
        Path of dlib's ``shape_predictor_68_face_landmarks.dat``; default: the one in ``face-recognition-models``.
    detect_every : int
        ``landmarks`` only (1..50): run dlib's face detector on every ``detect_every``-th frame from the
        first face; on the frames in between the shape predictor starts from the last detected face box
        moved by the landmarks' motion since (detect once, track). 1 (default): detect on every frame, the
        behaviour of datasets prepared before this option. Detection is about 40 % of the cropper's time.
    landmark_step : int
        ``landmarks`` only (1..10): run the detector / shape predictor on every ``landmark_step``-th frame
        (and the last) and interpolate the mouth centre and width in between, as for missed detections,
        before the smoothing; the crops are still cut from every frame. 1 (default): every frame. The
        shape predictor is about half of the cropper's time.
    """

    method: str = "landmarks"
    size: int = 128
    scale: float = 1.8
    smooth_frames: int = 5
    mask_boxes: dict | None = None
    haar_mouth: tuple = (0.51, 0.81, 0.32)
    detect_width: int = 80
    min_frames: int = 1
    landmark_model: str | None = None
    detect_every: int = 1
    landmark_step: int = 1

    def __post_init__(self):
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, got {self.method!r}")
        if not _is_int(self.size) or not 8 <= self.size <= 1024:
            raise ParameterError(f"size must be an integer in [8, 1024] (output crop side in pixels), got {self.size!r}")
        if not _is_number(self.scale) or not 0.5 <= self.scale <= 6:
            raise ParameterError(f"scale must be a number in [0.5, 6] (crop side / mouth width), got {self.scale!r}")
        if not _is_int(self.smooth_frames) or self.smooth_frames < 1 or self.smooth_frames % 2 == 0 or self.smooth_frames > 101:
            raise ParameterError(f"smooth_frames must be an odd integer in [1, 101], got {self.smooth_frames!r}")
        if not _is_int(self.detect_width) or not 20 <= self.detect_width <= 400:
            raise ParameterError(f"detect_width must be an integer in [20, 400] (pixels), got {self.detect_width!r}")
        if not _is_int(self.detect_every) or not 1 <= self.detect_every <= 50:
            raise ParameterError(f"detect_every must be an integer in [1, 50] (frames), got {self.detect_every!r}")
        if not _is_int(self.landmark_step) or not 1 <= self.landmark_step <= 10:
            raise ParameterError(f"landmark_step must be an integer in [1, 10] (frames), got {self.landmark_step!r}")
        for name in ("detect_every", "landmark_step"):
            if getattr(self, name) != 1 and self.method != "landmarks":
                raise ParameterError(f"{name} applies to the 'landmarks' cropper only, got {getattr(self, name)} with "
                                     f"{self.method!r} (the 'haar' cropper detects once per clip already)")
        if not _is_int(self.min_frames) or self.min_frames < 1:
            raise ParameterError(f"min_frames must be an integer >= 1, got {self.min_frames!r}")
        try:
            hm = tuple(float(x) for x in self.haar_mouth)
        except (TypeError, ValueError):
            hm = ()
        if len(hm) != 3 or not (0 <= hm[0] <= 1 and 0 <= hm[1] <= 1.5 and 0 < hm[2] <= 1):
            raise ParameterError("haar_mouth must be 3 numbers (centre x in [0, 1], centre y in [0, 1.5], width in (0, 1]) "
                                 f"as fractions of the face box, got {self.haar_mouth!r}")
        object.__setattr__(self, "haar_mouth", hm)
        if self.mask_boxes is not None:
            if not isinstance(self.mask_boxes, dict):
                raise ParameterError(f"mask_boxes must be a dict speaker -> (x0, y0, x1, y1), got {type(self.mask_boxes).__name__}")
            object.__setattr__(self, "mask_boxes", {str(k): _box4(v, f"mask_boxes[{k!r}]") for k, v in self.mask_boxes.items()})
        if self.landmark_model is not None:
            if not isinstance(self.landmark_model, (str, os.PathLike)):
                raise ParameterError(f"landmark_model must be a path or None, got {self.landmark_model!r}")
            object.__setattr__(self, "landmark_model", str(self.landmark_model))
        object.__setattr__(self, "size", int(self.size))
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "detect_every", int(self.detect_every))
        object.__setattr__(self, "landmark_step", int(self.landmark_step))



@dataclass
class MouthCrops:
    """Mouth crops of one clip.

    Attributes
    ----------
    crops : ndarray, uint8, shape (T, size, size)
        Grayscale crops.
    boxes : ndarray, float64, shape (T, 4)
        Square crop box (x0, y0, x1, y1) of each frame in source pixels (what was cropped; it may stick
        out of the image, where border pixels were replicated).
    detected : ndarray, bool, shape (T,)
        ``landmarks``: frames where the face and landmarks were found (the others interpolated);
        ``haar``: frames from the one where the face was found on (the box is reused); ``mask``: all True.
    method : str
    source : str or None
        Video path, for messages.
    """

    crops: np.ndarray
    boxes: np.ndarray
    detected: np.ndarray
    method: str
    source: str | None = None

    @property
    def n_frames(self) -> int:
        return int(self.crops.shape[0])

    @property
    def detection_rate(self) -> float:
        """Fraction of frames with ``detected``."""
        return float(np.mean(self.detected)) if self.detected.size else 0.0

    def __len__(self) -> int:
        return self.n_frames


# ---------------------------------------------------------------------------------------------- helpers
def _as_gray(frames) -> tuple:
    """(gray frames (T, H, W) uint8, source path or None) from an array or a :class:`Video`."""
    import cv2

    source = None
    if isinstance(frames, Video):
        source = str(frames.path) if frames.path is not None else None
        frames = frames.frames
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[3] != 3):
        raise ParameterError(f"frames must be uint8 of shape (T, H, W) (gray) or (T, H, W, 3) (RGB), got {frames.dtype} {frames.shape}")
    if frames.shape[1] < 8 or frames.shape[2] < 8:
        raise ParameterError(f"frames must be at least 8x8 pixels, got {frames.shape[1]}x{frames.shape[2]}")
    if frames.ndim == 4:
        frames = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]) if len(frames) else frames[..., 0]
    return np.ascontiguousarray(frames), source


def _square(cx, cy, side):
    h = side / 2.0
    return np.stack([cx - h, cy - h, cx + h, cy + h], axis=-1)


def extract_crop(gray: np.ndarray, box, *, size: int) -> tuple:
    """Crop a square box from one frame and resize it.

    Parameters
    ----------
    gray : ndarray, uint8, shape (H, W)
    box : sequence of 4 floats
        (x0, y0, x1, y1); the side is ``max(x1 - x0, y1 - y0)`` about the box centre, snapped to whole
        pixels and shifted, if needed, so that it overlaps the image by at least one pixel.
    size : int
        Output side.

    Returns
    -------
    crop : ndarray, uint8, shape (size, size)
        Resized with ``cv2.INTER_AREA``; parts outside the image are border-replicated.
    box : ndarray, float64, shape (4,)
        The box actually cropped.
    """
    import cv2

    H, W = gray.shape
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(1, int(round(max(x1 - x0, y1 - y0))))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    xa = int(math.floor(cx - side / 2 + 0.5))
    ya = int(math.floor(cy - side / 2 + 0.5))
    xa = min(max(xa, 1 - side), W - 1)
    ya = min(max(ya, 1 - side), H - 1)
    xb, yb = xa + side, ya + side
    patch = gray[max(ya, 0): min(yb, H), max(xa, 0): min(xb, W)]
    pad = (max(0, -ya), max(0, yb - H), max(0, -xa), max(0, xb - W))
    if any(pad):
        patch = cv2.copyMakeBorder(patch, *pad, cv2.BORDER_REPLICATE)
    crop = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA) if side != size else patch.copy()
    return crop, np.array([xa, ya, xb, yb], np.float64)


def _fill_and_smooth(values: np.ndarray, ok: np.ndarray, window: int, *, median_only: bool = False) -> np.ndarray:
    """Interpolate ``values`` at frames where ``ok`` is False (holding the ends), then smooth."""
    from scipy.ndimage import median_filter, uniform_filter1d

    t = np.arange(values.shape[0])
    filled = np.interp(t, t[ok], values[ok])
    w = min(window, values.shape[0] if values.shape[0] % 2 else values.shape[0] - 1)
    if w > 1:
        filled = median_filter(filled, size=w, mode="nearest")
        if not median_only:
            filled = uniform_filter1d(filled, size=w, mode="nearest")
    return filled


# ---------------------------------------------------------------------------------------------- models (cached)
@functools.lru_cache(maxsize=None)
def _haar_cascade():
    import cv2

    path = os.path.join(cv2.data.haarcascades, HAAR_CASCADE)
    casc = cv2.CascadeClassifier(path)
    if casc.empty():
        raise DataError(f"OpenCV's Haar cascade {path} is missing or unreadable")
    return casc


@functools.lru_cache(maxsize=4)
def _dlib_models(model_path: str | None):
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ImportError("the 'landmarks' cropper needs dlib: pip install dlib-bin face-recognition-models") from exc
    if model_path is None:
        try:
            import face_recognition_models
        except ImportError as exc:  # pragma: no cover
            raise ImportError("the 'landmarks' cropper needs the 68-point model: pip install face-recognition-models") from exc
        model_path = face_recognition_models.pose_predictor_model_location()
    if not Path(model_path).is_file():
        raise DataError(f"dlib 68-point landmark model not found at {model_path}")
    log.debug("loading dlib shape predictor %s", model_path)
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(model_path))


# ---------------------------------------------------------------------------------------------- croppers
class MouthCropper:
    """Base class: turns frames into :class:`MouthCrops`; subclasses implement :meth:`locate`.

    A cropper holds only its config (models are loaded lazily and cached per process), so one instance can
    crop any number of clips and can be pickled to worker processes.
    """

    method: str = ""

    def __init__(self, config: CropConfig | None = None):
        if config is None:
            config = CropConfig(method=self.method)
        if not isinstance(config, CropConfig):
            raise ParameterError(f"config must be a CropConfig, got {type(config).__name__}")
        if config.method != self.method:
            raise ParameterError(f"{type(self).__name__} needs a CropConfig with method={self.method!r}, got {config.method!r}")
        self.config = config

    def locate(self, gray: np.ndarray, *, speaker: str | None = None, source: str | None = None) -> tuple:
        """Mouth boxes of every frame.

        Parameters
        ----------
        gray : ndarray, uint8, shape (T, H, W)
        speaker : str, optional
        source : str, optional
            Video path for error messages.

        Returns
        -------
        boxes : ndarray, float64, shape (T, 4)
            (x0, y0, x1, y1), square.
        detected : ndarray, bool, shape (T,)
        """
        raise NotImplementedError

    def crop(self, frames, *, speaker: str | None = None, source: str | None = None) -> MouthCrops:
        """Crop the mouth of every frame.

        Parameters
        ----------
        frames : ndarray, uint8, shape (T, H, W) or (T, H, W, 3) RGB; or a :class:`~lip2audspec.data.video.Video`
        speaker : str, optional
            Speaker name (``mask`` needs it unless the config has exactly one box).
        source : str, optional
            Video path for error messages (default: the Video's path).

        Returns
        -------
        MouthCrops

        Raises
        ------
        DataError
            Fewer than ``config.min_frames`` frames ("video too short"); no face found (haar, landmarks).
        ParameterError
            Bad frames; ``mask`` without a box for ``speaker``.
        """
        gray, src = _as_gray(frames)
        source = source if source is not None else src
        T = gray.shape[0]
        if T < self.config.min_frames:
            raise DataError(f"video too short: {T} frames in {source or 'the input'}, at least {self.config.min_frames} needed")
        boxes, detected = self.locate(gray, speaker=None if speaker is None else str(speaker), source=source)
        size = self.config.size
        crops = np.empty((T, size, size), np.uint8)
        used = np.empty((T, 4), np.float64)
        for t in range(T):
            crops[t], used[t] = extract_crop(gray[t], boxes[t], size=size)
        return MouthCrops(crops=crops, boxes=used, detected=np.asarray(detected, bool), method=self.method, source=source)

    __call__ = crop

    def __repr__(self):
        return f"{type(self).__name__}({self.config!r})"


class MaskCropper(MouthCropper):
    """Fixed box per speaker (the original work's hand-drawn "manual mask").

    Boxes come from ``config.mask_boxes`` and from :meth:`set_box` (e.g. with :func:`estimate_mask_box`).
    A non-square box is squared about its centre (side = the longer edge).
    """

    method = "mask"

    def __init__(self, config: CropConfig | None = None):
        super().__init__(config)
        self.boxes = dict(self.config.mask_boxes or {})

    def set_box(self, speaker: str, box) -> None:
        """Use ``box`` (x0, y0, x1, y1) for ``speaker`` from now on."""
        self.boxes[str(speaker)] = _box4(box, "box")

    def box_for(self, speaker: str | None) -> tuple:
        if speaker is None:
            if len(self.boxes) == 1:
                return next(iter(self.boxes.values()))
            raise ParameterError("mask cropping needs speaker=... (the config has "
                                 f"{'no' if not self.boxes else len(self.boxes)} mask boxes)")
        if speaker not in self.boxes:
            raise ParameterError(f"no mask box for speaker {speaker!r} (have {sorted(self.boxes)}); put one in "
                                 "CropConfig.mask_boxes or estimate it with estimate_mask_box(video_paths)")
        return self.boxes[speaker]

    def locate(self, gray, *, speaker=None, source=None):
        x0, y0, x1, y1 = self.box_for(speaker)
        side = max(x1 - x0, y1 - y0)
        box = _square(np.float64((x0 + x1) / 2), np.float64((y0 + y1) / 2), side)
        T = gray.shape[0]
        return np.tile(box, (T, 1)), np.ones(T, bool)


class HaarCropper(MouthCropper):
    """OpenCV Haar face detection on the first frame with a face; the mouth box is reused for every frame."""

    method = "haar"

    def face(self, gray: np.ndarray) -> tuple | None:
        """Largest frontal face (x, y, w, h) in one frame (uint8 (H, W)), or None."""
        H, W = gray.shape
        m = max(24, min(H, W) // 6)
        faces = _haar_cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(m, m))
        if len(faces) == 0:
            return None
        return tuple(float(v) for v in max(faces, key=lambda f: f[2] * f[3]))

    def locate(self, gray, *, speaker=None, source=None):
        T = gray.shape[0]
        for t in range(T):
            face = self.face(gray[t])
            if face is not None:
                break
        else:
            raise DataError(f"no face found in {source or 'the input'} (OpenCV Haar cascade, {T} frames tried)")
        x, y, w, h = face
        fx, fy, fw = self.config.haar_mouth
        box = _square(np.float64(x + fx * w), np.float64(y + fy * h), self.config.scale * fw * w)
        if t:
            log.debug("%s: Haar face first found in frame %d", source, t)
        return np.tile(box, (T, 1)), np.arange(T) >= t


class LandmarkCropper(MouthCropper):
    """dlib face detection + 68-point landmarks on every frame; smoothed mouth box; gaps interpolated.

    Per frame, the face is searched first in a region around the previous face (1.5x its size), scaled so
    the face is ``config.detect_width`` px wide, then, if not found, in the whole scaled frame; the shape
    predictor runs on the full-resolution frame. With ``config.detect_every`` = k > 1 the detector runs
    on every k-th frame counted from the first face (forward and backward); on the others the predictor
    starts from the last detected box shifted by the mean motion of the 68 landmarks since that detection,
    a detection frame without a face is a gap (interpolated, ``detected`` False) and the frames after it
    keep following the last detected box. With ``config.landmark_step`` = k > 1 all of this runs on every
    k-th frame (and the last) only; the mouth centre and width of the frames between are interpolated
    before smoothing. Until the first face is found, whole frames are searched at up to 480 px (and, if
    no frame has a face, 8 frames again at twice that scale for small faces); frames before the first
    face are then searched again, backwards, at the face-based scale.
    """

    method = "landmarks"

    def _models(self):
        return _dlib_models(self.config.landmark_model)

    @staticmethod
    def _detect(det, img: np.ndarray, scale: float, upsample: int = 0):
        """Largest face in ``img`` scaled by ``scale``: (left, top, right, bottom) in ``img`` pixels, or None."""
        import cv2

        if abs(scale - 1.0) > 1e-3:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rects = det(np.ascontiguousarray(img), upsample)
        if len(rects) == 0:
            return None
        r = max(rects, key=lambda r: r.area())
        return np.array([r.left(), r.top(), r.right(), r.bottom()], np.float64) / scale

    def _first_face(self, det, gray) -> tuple:
        T, H, W = gray.shape
        s0 = min(1.0, 480.0 / max(H, W))
        for t in range(T):
            f = self._detect(det, gray[t], s0)
            if f is not None:
                return t, f
        for t in np.unique(np.linspace(0, T - 1, min(T, 8)).round().astype(int)):
            f = self._detect(det, gray[t], s0, upsample=1)
            if f is not None:
                return int(t), f
        return None, None

    def landmarks(self, gray: np.ndarray) -> tuple:
        """Raw per-frame mouth landmarks.

        Parameters
        ----------
        gray : ndarray, uint8, shape (T, H, W)

        Returns
        -------
        points : ndarray, float64, shape (T, 20, 2)
            Landmarks 48..67 (x, y); NaN where no face was found (and on the frames between
            ``landmark_step`` samples).
        faces : ndarray, float64, shape (T, 4)
            Face rectangle (left, top, right, bottom); NaN where none.
        """
        return self._landmarks(gray)[:2]

    def _landmarks(self, gray: np.ndarray) -> tuple:
        """:meth:`landmarks` and the frames it looked at, ``sampled`` (T,) bool."""
        import dlib

        det, pred = self._models()
        T, H, W = gray.shape
        pts = np.full((T, len(MOUTH_POINTS), 2), np.nan)
        faces = np.full((T, 4), np.nan)
        sampled = np.zeros(T, bool)
        t0, face = self._first_face(det, gray)
        if t0 is None:
            sampled[:] = True
            return pts, faces, sampled
        s = float(np.clip(self.config.detect_width / max(face[2] - face[0], 1.0), 0.05, 4.0))
        # forward from the first face, then backward over the frames before it (searched there only at the
        # first-search scale, which may have been too small); every `step`-th frame and the clip's ends
        every, step = self.config.detect_every, self.config.landmark_step
        forward = list(range(t0, T, step)) + ([T - 1] if (T - 1 - t0) % step else [])
        backward = list(range(t0 - step, -1, -step)) + ([0] if t0 % step else [])
        for order in (forward, backward):
            prev = face
            anchor = None  # (detected box, landmark centroid on its frame, latest centroid): the tracked box
            for n, t in enumerate(order):
                sampled[t] = True
                g = gray[t]
                f = face if t == t0 else None
                tracked = None
                if anchor is not None:
                    tracked = anchor[0] + np.tile(anchor[2] - anchor[1], 2)
                    if n % every:
                        f = tracked  # between detections: follow the landmarks
                if f is None:  # region around the previous face
                    fw, fh = prev[2] - prev[0], prev[3] - prev[1]
                    x0, y0 = int(max(0, prev[0] - ROI_MARGIN * fw)), int(max(0, prev[1] - ROI_MARGIN * fh))
                    x1, y1 = int(min(W, prev[2] + ROI_MARGIN * fw)), int(min(H, prev[3] + ROI_MARGIN * fh))
                    if x1 - x0 > 8 and y1 - y0 > 8:
                        f = self._detect(det, g[y0:y1, x0:x1], s)
                        if f is not None:
                            f = f + np.array([x0, y0, x0, y0])
                if f is None:
                    f = self._detect(det, g, s)
                if f is None:  # no face on a detection frame: a gap (interpolated), tracking goes on
                    continue
                detected = f is not tracked
                rect = dlib.rectangle(*(int(round(v)) for v in f))
                shape = pred(g, rect)
                if every > 1:
                    allp = np.array([(p.x, p.y) for p in shape.parts()], np.float64)
                    pts[t] = allp[MOUTH_POINTS[0]: MOUTH_POINTS[-1] + 1]
                    centre = allp.mean(axis=0)
                    anchor = (f, centre, centre) if detected else (anchor[0], anchor[1], centre)
                else:
                    pts[t] = [(shape.part(i).x, shape.part(i).y) for i in MOUTH_POINTS]
                faces[t] = f
                prev = f
        return pts, faces, sampled

    def locate(self, gray, *, speaker=None, source=None):
        pts, _, sampled = self._landmarks(gray)
        ok = np.isfinite(pts[:, 0, 0])
        if not ok.any():
            raise DataError(f"no face found in {source or 'the input'} (dlib face detector, {gray.shape[0]} frames tried)")
        T = gray.shape[0]
        c = np.zeros((T, 2))
        c[ok] = pts[ok].mean(axis=1)
        width = np.zeros(T)
        width[ok] = np.hypot(*(pts[ok, 6] - pts[ok, 0]).T)  # landmarks 54 - 48: mouth corners
        n_win = self.config.smooth_frames
        cx = _fill_and_smooth(c[:, 0], ok, n_win)
        cy = _fill_and_smooth(c[:, 1], ok, n_win)
        side = self.config.scale * _fill_and_smooth(width, ok, SIZE_WINDOW, median_only=True)
        detected = ok
        if not sampled.all():  # a frame between samples counts as detected when the samples around it are
            t = np.arange(T)
            ts = t[sampled]
            before = ts[np.clip(np.searchsorted(ts, t, side="right") - 1, 0, len(ts) - 1)]
            after = ts[np.clip(np.searchsorted(ts, t, side="left"), 0, len(ts) - 1)]
            detected = np.where(sampled, ok, ok[before] & ok[after])
        if not (ok | ~sampled).all():
            log.debug("%s: no face in %d of %d frames looked at (interpolated)", source, int((sampled & ~ok).sum()),
                      int(sampled.sum()))
        return _square(cx, cy, side), detected


_CROPPERS = {"mask": MaskCropper, "haar": HaarCropper, "landmarks": LandmarkCropper}


def make_cropper(config: CropConfig | None = None) -> MouthCropper:
    """The cropper for ``config.method`` (default config: landmarks, 128 px); reuse it across clips."""
    config = CropConfig() if config is None else config
    if not isinstance(config, CropConfig):
        raise ParameterError(f"config must be a CropConfig, got {type(config).__name__}")
    return _CROPPERS[config.method](config)


def crop_mouths(frames, config: CropConfig | None = None, *, speaker: str | None = None,
                source: str | None = None) -> MouthCrops:
    """Crop the mouth region of every frame (one call = one clip).

    Parameters
    ----------
    frames : ndarray, uint8, shape (T, H, W) or (T, H, W, 3) RGB; or a :class:`~lip2audspec.data.video.Video`
    config : CropConfig, optional
        Default ``CropConfig()`` (landmarks, 128x128, scale 1.8).
    speaker : str, optional
        Speaker name (needed by ``mask``).
    source : str, optional
        Video path for error messages.

    Returns
    -------
    MouthCrops
        ``crops`` (T, size, size) uint8, ``boxes`` (T, 4) float64, ``detected`` (T,) bool, ``method``.

    Raises
    ------
    DataError
        "video too short" (fewer than ``config.min_frames`` frames), "no face found in <path>".
    ParameterError
        Bad frames or config.

    Examples
    --------
    >>> from lip2audspec.data.video import read_video
    >>> video = read_video("s1/bbaf2n.mpg", fps=25)                          # doctest: +SKIP
    >>> mc = crop_mouths(video, CropConfig(method="haar"))                    # doctest: +SKIP
    >>> mc.crops.shape                                                        # doctest: +SKIP
    (75, 128, 128)
    """
    return make_cropper(config).crop(frames, speaker=speaker, source=source)


# ---------------------------------------------------------------------------------------------- mask estimate
def estimate_mask_box(video_paths, *, config: CropConfig | None = None, max_clips: int = 5, frame_step: int = 5) -> tuple:
    """A fixed per-speaker mouth box from a few of the speaker's clips (stand-in for a hand-drawn mask).

    Landmark mouth boxes (``config`` with its method set to ``landmarks``; its ``scale`` and model are
    used) are found on every ``frame_step``-th frame of up to ``max_clips`` readable clips. The box is
    centred on the median mouth centre; its side is the median landmark box side plus the spread of the
    mouth centre (5th to 95th percentile, the larger of x and y), so the mouth stays inside while the head
    moves as it did in those clips.

    Parameters
    ----------
    video_paths : iterable of str or Path
        Clips of one speaker (unreadable ones and ones without a face are skipped).
    config : CropConfig, optional
    max_clips : int
        Clips used (>= 1).
    frame_step : int
        Frame subsampling (>= 1).

    Returns
    -------
    tuple of 4 floats
        (x0, y0, x1, y1), square, in source pixels.

    Raises
    ------
    DataError
        No face found in any usable clip.
    """
    if not _is_int(max_clips) or max_clips < 1:
        raise ParameterError(f"max_clips must be an integer >= 1, got {max_clips!r}")
    if not _is_int(frame_step) or frame_step < 1:
        raise ParameterError(f"frame_step must be an integer >= 1, got {frame_step!r}")
    if isinstance(video_paths, (str, os.PathLike)):
        video_paths = [video_paths]
    config = (config or CropConfig()).replace(method="landmarks", smooth_frames=1, mask_boxes=None)
    cropper = LandmarkCropper(config)
    centres, sides, used, tried = [], [], 0, []
    for p in video_paths:
        if used >= max_clips:
            break
        tried.append(str(p))
        try:
            frames = read_video(p, gray=True).frames[::frame_step]
            boxes, ok = cropper.locate(frames, source=str(p))
        except DataError as exc:
            log.info("estimate_mask_box: skipping %s: %s", p, exc)
            continue
        used += 1
        centres.append(((boxes[ok, :2] + boxes[ok, 2:]) / 2))
        sides.append(boxes[ok, 2] - boxes[ok, 0])
    if not used:
        raise DataError(f"no face found in any of {len(tried)} clips for the mask box: {tried[:3]}{' ...' if len(tried) > 3 else ''}")
    c = np.concatenate(centres)
    cx, cy = np.median(c, axis=0)
    spread = float(np.max(np.percentile(c, 95, axis=0) - np.percentile(c, 5, axis=0)))
    side = float(np.median(np.concatenate(sides))) + spread
    return tuple(float(v) for v in _square(cx, cy, side))


# ---------------------------------------------------------------------------------------------- preview
def save_crop_preview(crops_by_speaker: dict, path, *, n: int = 8) -> Path:
    """Write a PNG grid of mouth crops: one row per speaker, ``n`` evenly spaced frames.

    Parameters
    ----------
    crops_by_speaker : dict
        speaker -> ndarray uint8 (T, S, S) (or :class:`MouthCrops`). Rows are scaled to the first
        speaker's crop size.
    path : str or Path
        Output ``.png`` (written atomically).
    n : int
        Frames per row (1..64).

    Returns
    -------
    Path
    """
    import cv2

    if not _is_int(n) or not 1 <= n <= 64:
        raise ParameterError(f"n must be an integer in [1, 64], got {n!r}")
    if not isinstance(crops_by_speaker, dict) or not crops_by_speaker:
        raise ParameterError("crops_by_speaker must be a non-empty dict speaker -> crops (T, S, S)")
    rows = {}
    for spk, c in crops_by_speaker.items():
        c = c.crops if isinstance(c, MouthCrops) else np.asarray(c)
        if c.dtype != np.uint8 or c.ndim != 3 or c.shape[0] < 1:
            raise ParameterError(f"crops of {spk!r} must be uint8 of shape (T, S, S) with T >= 1, got {c.dtype} {c.shape}")
        rows[str(spk)] = c
    S = next(iter(rows.values())).shape[1]
    label_w, gap = 70, 2
    img = np.full((len(rows) * (S + gap) + gap, label_w + n * (S + gap) + gap), 255, np.uint8)
    for r, (spk, c) in enumerate(rows.items()):
        y = gap + r * (S + gap)
        cv2.putText(img, spk[:8], (4, y + S // 2 + 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 1, cv2.LINE_AA)
        for i, k in enumerate(np.linspace(0, c.shape[0] - 1, n).round().astype(int)):
            tile = c[k] if c.shape[1:] == (S, S) else cv2.resize(c[k], (S, S), interpolation=cv2.INTER_AREA)
            x = label_w + gap + i * (S + gap)
            img[y: y + S, x: x + S] = tile
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        if not cv2.imwrite(str(tmp), img):
            raise DataError(f"OpenCV could not write {path}")
    return path

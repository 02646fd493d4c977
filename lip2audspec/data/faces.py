"""Lower-face crops for speech-driven lip generation (Wav2Lip): boxes, crops, the mouth region, pasting back.

A *face box* is a square twice the side of a clip's mouth box (:mod:`lip2audspec.data.crop`, the box the
lip network's crops are cut from), placed so that the mouth box is exactly its **lower half, centred**:

::

    +-----------+   face box, side F = 2 m
    |   nose    |   upper half: pose / identity (kept, shown to the generator)
    |  +-----+  |
    |  |mouth|  |   lower half, x in [F/4, 3F/4]: the mouth box (side m) -- what Wav2Lip masks and
    +--+-----+--+   regenerates, and what the lip-sync expert (SyncNet) sees

So the generated face's mouth region (:func:`mouth_region`) is the same view the prepared mouth crops give
(same cropper, same scale), and an expert trained on those crops judges generated faces unchanged.

Crops are RGB ``uint8`` cut with one affine warp per frame (sub-pixel, border replicated), so
:func:`paste_faces` can put a generated face back with the exact inverse warp, blended with a feathered
mask over the lower half only.

Wav2Lip: K R Prajwal, R Mukhopadhyay, V P Namboodiri, C V Jawahar, "A lip sync expert is all you need for
speech to lip generation in the wild", ACM Multimedia 2020.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError, ParameterError

__all__ = ["face_boxes", "mouth_boxes_from_faces", "crop_faces", "mouth_region", "paste_faces", "locate_mouths", "blend_mask"]


def _boxes(boxes, what: str = "boxes") -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ParameterError(f"{what} must have shape (T, 4) as (x0, y0, x1, y1), got {b.shape}")
    if not np.all(np.isfinite(b)) or np.any(b[:, 2] <= b[:, 0]) or np.any(b[:, 3] <= b[:, 1]):
        raise ParameterError(f"{what} must be finite with x1 > x0 and y1 > y0")
    return b


def _frames(frames, what: str = "frames") -> np.ndarray:
    f = np.asarray(frames)
    if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
        raise ParameterError(f"{what} must be uint8 RGB of shape (T, H, W, 3), got {f.dtype} {f.shape}")
    return f


def face_boxes(mouth_boxes, *, scale: float = 2.0) -> np.ndarray:
    """Face boxes from mouth boxes: side ``scale`` x the mouth side, the mouth box centred in the lower half.

    Parameters
    ----------
    mouth_boxes : array_like, shape (T, 4)
        Square mouth boxes (x0, y0, x1, y1) in source pixels (e.g. ``MouthCrops.boxes``).
    scale : float
        Face side / mouth side (2: the mouth box is exactly the lower half's centre square).

    Returns
    -------
    ndarray, float64, shape (T, 4)

    Examples
    --------
    >>> face_boxes([[40, 60, 60, 80]]).tolist()
    [[30.0, 40.0, 70.0, 80.0]]
    """
    b = _boxes(mouth_boxes, "mouth_boxes")
    if not np.isfinite(scale) or not 1.0 <= float(scale) <= 6.0:
        raise ParameterError(f"scale must be a number in [1, 6] (face side / mouth side), got {scale!r}")
    m = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    cx, cy = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    side = float(scale) * m
    fcy = cy + side / 4 - side / 2  # mouth centre at 3/4 of the face height
    return np.stack([cx - side / 2, fcy - side / 2, cx + side / 2, fcy + side / 2], axis=1)


def mouth_boxes_from_faces(boxes, *, scale: float = 2.0) -> np.ndarray:
    """The inverse of :func:`face_boxes`: the mouth boxes the face boxes were made from.

    >>> mouth_boxes_from_faces(face_boxes([[40, 60, 60, 80]])).tolist()
    [[40.0, 60.0, 60.0, 80.0]]
    """
    b = _boxes(boxes)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    m = side / float(scale)
    cx = (b[:, 0] + b[:, 2]) / 2
    cy = b[:, 1] + 0.75 * side
    return np.stack([cx - m / 2, cy - m / 2, cx + m / 2, cy + m / 2], axis=1)


def _affine(box, size: int) -> np.ndarray:
    """2x3 matrix mapping source pixels of ``box`` to the ``size`` x ``size`` crop."""
    x0, y0, x1, y1 = box
    s = size / max(x1 - x0, y1 - y0)
    return np.array([[s, 0.0, -x0 * s], [0.0, s, -y0 * s]])


def crop_faces(frames, boxes, *, size: int) -> np.ndarray:
    """Cut one square box per frame and resize it (affine warp, bilinear, border replicated).

    Parameters
    ----------
    frames : ndarray, uint8, shape (T, H, W, 3)
    boxes : array_like, shape (T, 4)
        Face boxes (:func:`face_boxes`).
    size : int
        Output side in pixels.

    Returns
    -------
    ndarray, uint8, shape (T, size, size, 3)
    """
    import cv2

    f = _frames(frames)
    b = _boxes(boxes)
    if len(b) != len(f):
        raise ParameterError(f"{len(f)} frames but {len(b)} boxes")
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 8 <= size <= 1024:
        raise ParameterError(f"size must be an integer in [8, 1024] (pixels), got {size!r}")
    out = np.empty((len(f), size, size, 3), np.uint8)
    for t in range(len(f)):
        out[t] = cv2.warpAffine(f[t], _affine(b[t], size), (size, size), flags=cv2.INTER_AREA if
                                (b[t, 2] - b[t, 0]) > 2 * size else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def mouth_region(faces):
    """The mouth box of face crops: the lower half's centre square, ``[..., S/2:S, S/4:3S/4, :]``.

    Works on NumPy arrays and tensors of shape ``(..., S, S, C)``.
    """
    s = faces.shape[-2]
    return faces[..., s // 2: s, s // 4: s // 4 + s // 2, :]


def blend_mask(size: int, *, feather: float = 0.12) -> np.ndarray:
    """Weights in [0, 1] of a generated face when pasted back: 1 inside the lower half (away from the
    edges), falling smoothly to 0 at the crop border and at the middle line (raised-cosine ramps of
    ``feather`` x ``size`` pixels).

    Returns
    -------
    ndarray, float32, shape (size, size)
    """
    if not 0 < feather <= 0.25:
        raise ParameterError(f"feather must be in (0, 0.25], got {feather!r}")
    r = max(1.0, feather * size)
    x = np.arange(size) + 0.5

    def ramp(d):
        return 0.5 - 0.5 * np.cos(np.pi * np.clip(d / r, 0, 1))

    wx = ramp(x) * ramp(size - x)
    wy = ramp(x - size / 2) * ramp(size - x)
    return (wy[:, None] * wx[None, :]).astype(np.float32)


def paste_faces(frames, faces, boxes, *, feather: float = 0.12) -> np.ndarray:
    """Put generated faces back into their frames (inverse warp), blending the lower half only.

    Parameters
    ----------
    frames : ndarray, uint8, shape (T, H, W, 3)
        The frames the faces were cut from (not modified).
    faces : ndarray, uint8, shape (T, S, S, 3)
    boxes : array_like, shape (T, 4)
        The boxes they were cut with.
    feather : float
        Width of the blending ramps as a fraction of the face side (:func:`blend_mask`).

    Returns
    -------
    ndarray, uint8, shape (T, H, W, 3)
    """
    import cv2

    f = _frames(frames)
    g = _frames(faces, "faces")
    b = _boxes(boxes)
    if not len(f) == len(g) == len(b):
        raise ParameterError(f"frames, faces and boxes differ in length: {len(f)}, {len(g)}, {len(b)}")
    if g.shape[1] != g.shape[2]:
        raise ParameterError(f"faces must be square, got {g.shape[1]}x{g.shape[2]}")
    S = g.shape[1]
    H, W = f.shape[1:3]
    mask = blend_mask(S, feather=feather)
    out = f.copy()
    for t in range(len(f)):
        inv = cv2.invertAffineTransform(_affine(b[t], S))
        x0, y0, x1, y1 = b[t]
        xa, ya = max(int(np.floor(x0)) - 1, 0), max(int(np.floor(y0)) - 1, 0)
        xb, yb = min(int(np.ceil(x1)) + 1, W), min(int(np.ceil(y1)) + 1, H)
        if xb <= xa or yb <= ya:
            continue  # the box lies outside the frame
        roi_inv = inv.copy()
        roi_inv[:, 2] -= (xa, ya)
        size = (xb - xa, yb - ya)
        face = cv2.warpAffine(g[t], roi_inv, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        w = cv2.warpAffine(mask, roi_inv, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        roi = out[t, ya:yb, xa:xb].astype(np.float32)
        out[t, ya:yb, xa:xb] = np.clip(roi + w[..., None] * (face.astype(np.float32) - roi) + 0.5, 0, 255).astype(np.uint8)
    return out


def locate_mouths(frames, *, method: str = "landmarks", smooth_frames: int = 5, source: str | None = None) -> np.ndarray:
    """Mouth boxes of every frame of an RGB clip with the croppers of :mod:`lip2audspec.data.crop`.

    Parameters
    ----------
    frames : ndarray, uint8, shape (T, H, W, 3)
    method : {"landmarks", "haar"}
        dlib landmarks on every frame (smoothed; gaps interpolated) or one OpenCV Haar face box reused.
    smooth_frames : int
        Running-median/mean window of the landmark mouth centre (odd).
    source : str, optional
        For error messages.

    Returns
    -------
    ndarray, float64, shape (T, 4)
        Square mouth boxes (the preparation's default scale, 1.8 x the mouth width).

    Raises
    ------
    DataError
        No face found.
    """
    from .crop import CropConfig, _as_gray, make_cropper

    f = _frames(frames)
    if method not in ("landmarks", "haar"):
        raise ParameterError(f"method must be 'landmarks' or 'haar', got {method!r}")
    gray, _ = _as_gray(f)
    cropper = make_cropper(CropConfig(method=method, size=48, smooth_frames=smooth_frames))
    boxes, detected = cropper.locate(gray, source=source)
    if not np.any(detected):
        raise DataError(f"no face found in {source or 'the input'}")
    return np.asarray(boxes, np.float64)

"""Scores of generated faces against the true ones (speech-driven lip generation, :mod:`lip2audspec.lipsync`).

* :func:`mouth_openings`: per frame, the dark-pixel area inside the mouth region of face crops (the open
  mouth cavity; the measure :func:`lip2audspec.corpora.synthetic.sync.mouth_opening` uses on whole frames);
  0 in every frame of a mouth that never shows a dark cavity (its correlation is then undefined);
* :func:`soft_mouth_openings`: the same area with a soft (sigmoid) threshold: a continuous opening measure,
  defined for any mouth (dark cavity or only a darker band);
* :func:`psnr` and :func:`ssim` (Wang et al. 2004: 11 x 11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03,
  on grey levels) of image stacks;
* :func:`opening_scores`: correlation and mean absolute error of two opening tracks.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError

__all__ = ["mouth_openings", "soft_mouth_openings", "psnr", "ssim", "opening_scores", "grey"]


def _stack(x, what):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ParameterError(f"{what} must have shape (T, H, W, 3) (RGB), got {x.shape}")
    return x


def grey(images) -> np.ndarray:
    """RGB ``(..., 3)`` -> grey levels (ITU-R BT.601 weights, as OpenCV), float64."""
    x = np.asarray(images, np.float64)
    return x @ np.array([0.299, 0.587, 0.114])


def mouth_openings(faces) -> np.ndarray:
    """Dark-pixel area of the mouth region of every face crop (the open mouth cavity).

    Parameters
    ----------
    faces : ndarray, uint8, shape (T, S, S, 3)
        RGB face crops (:mod:`lip2audspec.data.faces` geometry: the mouth box is the lower half's centre).

    Returns
    -------
    ndarray, float64, shape (T,)
        Pixels darker than ``min(0.45 x the clip's median grey level, 40)`` in each frame's mouth region.
    """
    from ..data.faces import mouth_region

    g = grey(mouth_region(_stack(faces, "faces")))
    thr = min(0.45 * float(np.median(g)), 40.0)
    return (g < thr).reshape(len(g), -1).sum(axis=1).astype(np.float64)


def soft_mouth_openings(faces, *, softness: float = 8.0) -> np.ndarray:
    """Continuous mouth opening: the soft dark-pixel area of the mouth region of every face crop.

    :func:`mouth_openings` counts the pixels below the cavity threshold ``thr`` (a step); here each pixel
    counts ``sigmoid((thr - g) / softness)`` of its grey level ``g``, so a pixel well below the threshold
    counts 1, one at the threshold 1/2, and a darker but not yet black band already counts a little. The
    track follows the hard count on real cavities and stays defined (varying) for a mouth that never
    shows one, where the hard count is 0 in every frame and its correlation undefined.

    Parameters
    ----------
    faces : ndarray, uint8, shape (T, S, S, 3)
        RGB face crops (the mouth box is the lower half's centre).
    softness : float
        Width of the sigmoid in grey levels (> 0).

    Returns
    -------
    ndarray, float64, shape (T,)
        Soft pixel counts (the unit of :func:`mouth_openings`).

    Examples
    --------
    >>> faces = np.full((3, 32, 32, 3), 200, np.uint8)
    >>> faces[1, 22:26, 12:20] = 0; faces[2, 22:26, 12:20] = 60
    >>> o = soft_mouth_openings(faces); bool(o[0] < o[2] < o[1]), round(float(o[1]), 1)
    (True, 31.8)
    """
    from ..data.faces import mouth_region

    if not (np.isfinite(softness) and softness > 0):
        raise ParameterError(f"softness must be a positive number of grey levels, got {softness!r}")
    g = grey(mouth_region(_stack(faces, "faces")))
    thr = min(0.45 * float(np.median(g)), 40.0)
    z = np.clip((g - thr) / float(softness), -60.0, 60.0)
    return (1.0 / (1.0 + np.exp(z))).reshape(len(g), -1).sum(axis=1)


def opening_scores(generated, true) -> dict:
    """``{"r": Pearson r (NaN if either track is constant), "mae": mean |difference|}`` of two opening tracks."""
    a, b = np.asarray(generated, np.float64), np.asarray(true, np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError(f"opening tracks must be 1-D of one length, got {a.shape} and {b.shape}")
    r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else float("nan")
    return {"r": r, "mae": float(np.mean(np.abs(a - b)))}


def psnr(a, b, *, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB of two image stacks of one shape (inf if identical)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ParameterError(f"images differ in shape: {a.shape} vs {b.shape}")
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(peak ** 2 / mse))


def ssim(a, b, *, peak: float = 255.0) -> float:
    """Mean structural similarity of two RGB image stacks ``(T, H, W, 3)`` (computed on grey levels).

    Examples
    --------
    >>> x = np.random.default_rng(0).integers(0, 255, (2, 16, 16, 3)).astype(np.uint8)
    >>> round(ssim(x, x), 6)
    1.0
    """
    import cv2

    ga, gb = grey(_stack(a, "a")), grey(_stack(b, "b"))
    if ga.shape != gb.shape:
        raise ParameterError(f"images differ in shape: {ga.shape} vs {gb.shape}")
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    vals = []
    for x, y in zip(ga, gb):
        def blur(z):
            return cv2.GaussianBlur(z, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

        mx, my = blur(x), blur(y)
        sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
        m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
        vals.append(m.mean())
    return float(np.mean(vals))

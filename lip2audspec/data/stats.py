"""Reference statistics of mouth crops, and a check that a clip looks like a model's training data.

A lip network only works on videos that resemble what it was trained on (same kind of face, framing,
lighting, crop). :func:`crop_statistics` summarises the training crops of a model; :func:`compare_crops`
scores a new clip's crops against that summary and says why it looks out of distribution, if it does.

Everything is measured on what the network sees: crops resized to the model's size and scaled per frame
to [0, 1] by their own min and max (:func:`~lip2audspec.data.inputs.normalize_frames`), so brightness and
contrast changes the network ignores anyway are ignored here too. Per clip:

===================  ======================================================================
feature              meaning
===================  ======================================================================
``intensity_mean``   mean normalised intensity of the clip's crops
``intensity_std``    mean over frames of the per-frame standard deviation (spatial contrast)
``motion``           mean absolute difference of consecutive normalised frames
``correlation``      Pearson correlation of the clip's mean crop with the reference mean crop
===================  ======================================================================

The reference (a JSON-ready dict, stored as ``crop_stats.json`` in a bundled model or a lip run folder)
holds the mean and standard deviation of the three scalar features over the training clips, the
per-pixel mean crop, and the spread of the training clips' own correlations (each clip against the mean
of the *other* training clips, so a small training set does not flatter itself).

**Thresholds** (:data:`Z_MAX`, :data:`CORRELATION_MARGIN`, :data:`STD_FLOORS`):
a clip is flagged when

* a scalar feature lies more than ``z_max = 4`` training standard deviations from the training mean, the
  standard deviation being floored (0.02 for the intensities, 10 % of the mean for motion) so that a
  training set of near-identical clips (the synthetic corpus) does not flag every new clip; or
* its mean crop correlates with the reference mean crop less than the 1st percentile of the training
  clips' own correlations minus 0.1 (``p01 - 0.1``; statistics written before ``p01`` existed use the
  lowest training clip instead).

How they were chosen: 4 standard deviations is far outside the training clips (under a normal model about
6 in 100 000 in-distribution clips exceed it per feature); the correlation rule follows how tightly the
training crops agree, with a percentile rather than the minimum so that one odd training clip does not
disable it. On real GRID s1 (the ``grid-s1`` model: 900 train + val clips, landmark crops, training-clip
correlations p01 0.85, one outlier at 0.26) the 100 test clips scored 0.86-0.98 (1 flagged, by its motion
z of +5.3), while synthetic speakers of the built-in corpus scored 0.54-0.60 (all flagged); an earlier
rule, ``min(0.5, lowest - 0.1)``, let every synthetic speaker through. Checked also on the tiny
synthetic corpus of the tests (2 speakers, 3 training clips: training-clip correlations 0.36-0.93, so the
threshold became 0.26): held-out clips of the same speakers scored 0.57-0.84 with every |z| <= 2.2 (no
warning); noise crops 0.02 (motion z +73), inverted intensities -0.67, crops mirrored top to bottom
-0.44 (warnings). Not flagged: a frozen video (motion z -3.8) and a crop shifted by a third of its size
(0.47). Calibrate on real data (e.g. the false alarms on ``seen/test`` and ``unseen/test``) with
:func:`compare_crops`'s ``scores`` before relying on the defaults; they are parameters of
:func:`compare_crops`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from .inputs import normalize_frames, resize_crops

__all__ = ["FEATURES", "Z_MAX", "CORRELATION_MARGIN", "STD_FLOORS", "STATS_FILE", "CropCheck",
           "clip_features", "crop_statistics", "dataset_crop_statistics", "compare_crops", "load_crop_statistics"]

#: scalar per-clip features compared by z-score
FEATURES = ("intensity_mean", "intensity_std", "motion")
#: a feature further than this many (floored) training standard deviations from the training mean is flagged
Z_MAX = 4.0
#: slack below the training clips' 1st-percentile correlation
CORRELATION_MARGIN = 0.1
#: lower bounds of the training standard deviations: absolute, or (for motion) a fraction of the training mean
STD_FLOORS = {"intensity_mean": 0.02, "intensity_std": 0.02, "motion": ("relative", 0.1)}
#: name of the statistics file in a bundled model or a lip run folder
STATS_FILE = "crop_stats.json"
STATS_SCHEMA = 1


def _prepare(crops, size: int | None) -> np.ndarray:
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[1] != crops.shape[2] or crops.shape[0] < 2:
        raise ParameterError(f"crops of one clip must have shape (T, S, S) with T >= 2, got {crops.shape}")
    if size is not None:
        crops = resize_crops(crops, int(size))
    return normalize_frames(crops)


def clip_features(crops, *, size: int | None = None) -> tuple:
    """The scalar features and the mean crop of one clip.

    Parameters
    ----------
    crops : array_like, shape (T, S, S)
        Mouth crops of one clip (any dtype; T >= 2).
    size : int, optional
        Resize the crops to ``size`` x ``size`` first (the model's crop size).

    Returns
    -------
    features : dict
        ``intensity_mean``, ``intensity_std``, ``motion`` (floats).
    mean_crop : ndarray, float64, shape (size, size)
    """
    f = _prepare(crops, size)
    feats = {"intensity_mean": float(f.mean()), "intensity_std": float(f.std(axis=(1, 2)).mean()),
             "motion": float(np.abs(np.diff(f, axis=0)).mean())}
    return feats, f.mean(axis=0, dtype=np.float64)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    den = float(np.sqrt((a @ a) * (b @ b)))
    return float(a @ b / den) if den > 0 else 0.0


def crop_statistics(clips, *, size: int | None = None) -> dict:
    """Reference statistics of a model's training crops (see the module docstring).

    Parameters
    ----------
    clips : array_like (N, T, S, S) or iterable of (T, S, S)
        Mouth crops of the training clips (read one at a time from an iterable).
    size : int, optional
        The model's crop size (default: the crops' own).

    Returns
    -------
    dict
        JSON-ready: ``schema``, ``size``, ``n_clips``, ``n_frames``, ``features`` (``{name: {"mean", "std"}}``
        over clips), ``correlation`` (``min``, ``p01``, ``p05``, ``mean`` of the training clips' leave-one-out
        correlations), ``mean_image`` (size x size nested lists, 4 decimals).

    Raises
    ------
    ParameterError
        Fewer than 2 clips, or clips of different crop sizes.
    """
    feats, means = [], []
    for clip in clips:
        f, m = clip_features(clip, size=size)
        if means and m.shape != means[0][0].shape:
            raise ParameterError(f"clips have different crop sizes ({means[0][0].shape} and {m.shape}); pass size=")
        feats.append(f)
        means.append((m, np.asarray(clip).shape[0]))
    if len(means) < 2:
        raise ParameterError(f"crop statistics need at least 2 clips, got {len(means)}")
    weights = np.array([t for _, t in means], np.float64)
    stack = np.stack([m for m, _ in means])
    total = np.tensordot(weights, stack, axes=1)
    mean_image = total / weights.sum()
    loo = [_corr(m, (total - t * m) / (weights.sum() - t)) for m, t in means]  # each clip vs the others
    return {
        "schema": STATS_SCHEMA,
        "size": int(stack.shape[-1]),
        "n_clips": len(means),
        "n_frames": int(weights.sum()),
        "features": {k: {"mean": float(np.mean([f[k] for f in feats])), "std": float(np.std([f[k] for f in feats]))}
                     for k in FEATURES},
        "correlation": {"min": float(np.min(loo)), "p01": float(np.percentile(loo, 1)),
                        "p05": float(np.percentile(loo, 5)), "mean": float(np.mean(loo))},
        "mean_image": np.round(mean_image, 4).tolist(),
    }


def dataset_crop_statistics(dataset, *, split: str = "seen/train", size: int | None = None) -> dict:
    """:func:`crop_statistics` of a prepared dataset's split (clips read one at a time).

    Parameters
    ----------
    dataset : str or Path
        Prepared folder or its ``dataset.h5``.
    split : str
        Default ``seen/train`` (what the models were trained on).
    size : int, optional
        The model's crop size (default: the dataset's).

    Returns
    -------
    dict
        As :func:`crop_statistics`, plus ``split``.
    """
    from .dataset import GridDataset

    with GridDataset(dataset) as ds:
        index = ds.split(split)
        stats = crop_statistics((ds.array("crops", int(i)) for i in index), size=size)
    return {**stats, "split": split}


def load_crop_statistics(source) -> dict:
    """Reference statistics from a dict or a ``crop_stats.json`` file, checked for the keys in use.

    Raises
    ------
    DataError
        Unreadable file, or a document that is not crop statistics of a known schema.
    """
    if isinstance(source, dict):
        doc, where = source, "crop statistics"
    else:
        where = str(source)
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"cannot read crop statistics from {source}: {exc}") from None
    try:
        ok = (doc.get("schema") == STATS_SCHEMA and all(k in doc["features"] for k in FEATURES)
              and np.asarray(doc["mean_image"], np.float64).shape == (doc["size"], doc["size"])
              and "min" in doc["correlation"])
    except (AttributeError, KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise DataError(f"{where} is not a crop statistics document of schema {STATS_SCHEMA} "
                        f"(see lip2audspec.data.stats.crop_statistics)")
    return doc


@dataclass(frozen=True)
class CropCheck:
    """How a clip's crops compare with a model's training crops (:func:`compare_crops`).

    Attributes
    ----------
    scores : dict
        ``correlation`` and ``z_<feature>`` for each of :data:`FEATURES`, plus the clip's raw features.
    thresholds : dict
        ``z_max`` and ``min_correlation`` in use.
    reasons : tuple of str
        Why the clip looks out of distribution (empty: it does not).
    """

    scores: dict
    thresholds: dict
    reasons: tuple = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True when nothing was flagged."""
        return not self.reasons

    def message(self) -> str:
        """One line for a warning (empty when :attr:`ok`)."""
        if self.ok:
            return ""
        return ("the video does not look like the model's training data (" + "; ".join(self.reasons) +
                "): expect poor speech")


def _floored_std(name: str, ref: dict) -> float:
    floor = STD_FLOORS[name]
    if isinstance(floor, tuple):
        floor = floor[1] * abs(ref["mean"])
    return max(float(ref["std"]), float(floor), 1e-6)


def compare_crops(crops, stats, *, z_max: float = Z_MAX, min_correlation: float | None = None) -> CropCheck:
    """Score one clip's crops against reference statistics and flag an out-of-distribution clip.

    Parameters
    ----------
    crops : array_like, shape (T, S, S)
        Mouth crops of the clip (resized to the reference's size).
    stats : dict or str or Path
        :func:`crop_statistics` output, or a ``crop_stats.json`` file.
    z_max : float
        Largest accepted |z-score| of each scalar feature (default :data:`Z_MAX`).
    min_correlation : float, optional
        Smallest accepted correlation of the clip's mean crop with the reference mean crop. Default:
        the training clips' 1st-percentile correlation (their lowest, in statistics without ``p01``) minus
        :data:`CORRELATION_MARGIN`.

    Returns
    -------
    CropCheck
    """
    stats = load_crop_statistics(stats)
    if min_correlation is None:
        ref = stats["correlation"]
        min_correlation = float(ref.get("p01", ref["min"])) - CORRELATION_MARGIN
    feats, mean_crop = clip_features(crops, size=int(stats["size"]))
    corr = _corr(mean_crop, np.asarray(stats["mean_image"], np.float64))
    scores, reasons = {"correlation": corr, **feats}, []
    if corr < min_correlation:
        reasons.append(f"its mean mouth crop correlates {corr:.2f} with the training crops' (< {min_correlation:.2f})")
    for name in FEATURES:
        ref = stats["features"][name]
        z = (feats[name] - ref["mean"]) / _floored_std(name, ref)
        scores[f"z_{name}"] = float(z)
        if abs(z) > z_max:
            reasons.append(f"{name.replace('_', ' ')} {feats[name]:.3f} is {z:+.1f} sd from training ({ref['mean']:.3f})")
    return CropCheck(scores=scores, thresholds={"z_max": float(z_max), "min_correlation": float(min_correlation)},
                     reasons=tuple(reasons))

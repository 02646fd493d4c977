"""Evaluation scores and their aggregation: per-clip results, per-speaker and overall summaries.

This module computes; :mod:`.report` renders (Markdown, HTML, figures) what it computes.

Data model
----------
One :class:`ClipResult` per evaluated clip::

    ClipResult(
        speaker="s1", id="bbaf2n",
        metrics={"oracle": {"corr2d": .97, "stoi": .91, "estoi": .80, "pesq_nb": 2.9, "pesq_wb": 2.1},
                 "recon":  {"corr2d": .62, ...}},            # condition -> metric -> float (NaN allowed)
        words={"original": ("bin", "blue", ...), "oracle": (...), "recon": None},  # recogniser output
        audio={"original": "path/to.wav" or (array, sr), "oracle": ..., "recon": ...},          # optional
        spectrograms={"true": array (N, 128) or "path.png", "oracle": ..., "recon": ...},        # optional
    )

*Conditions* (:data:`CONDITIONS`): ``original`` (the recorded audio), ``oracle`` (``aud2wav(wav2aud(x))``,
the ceiling of the representation) and ``recon`` (our reconstruction from video). Signal metrics
(:data:`METRICS`) compare a condition against the original, so ``original`` normally has none; word
accuracy is computed for every condition that has ``words`` (against ``sentence_from_id(id)``).
:func:`score_condition` computes one condition's metric dict.

Spectrogram *kinds* are ``true`` / ``oracle`` / ``recon`` (:data:`SPEC_KINDS`): ``true`` is
``wav2aud(original)``, ``oracle`` is ``wav2aud(aud2wav(...))`` if you have it (or omit it), ``recon`` the
predicted spectrogram.

Aggregation (:func:`aggregate`, :func:`summarize`): per speaker and overall (pooled over clips, not a mean of
speaker means), every metric as ``{"mean", "n", "n_nan", "ci"}`` (NaN-ignoring mean; ``n`` counts finite
values; ``ci`` its 95 % bootstrap interval over clips, :func:`bootstrap_ci`) and word accuracy per
condition (:func:`lip2audspec.evaluation.asr.word_accuracy`: overall, sentence, per position, WER, plus
``ci``). Overall, each condition also gets per-slot confusion matrices (:func:`confusion_matrices`; the
most frequent confusions: :func:`top_confusions`). :func:`grammar_chance` is the word accuracy of
uniform guessing within the GRID grammar (19 %). :func:`summarize` returns the ``report.json`` document.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..corpora.grid import SLOTS, sentence_from_id
from ..errors import ParameterError
from ..seeding import check_seed
from .asr import SLOT_NAMES, align_slots, word_accuracy

__all__ = ["CONDITIONS", "METRICS", "SPEC_KINDS", "MISSING", "ClipResult", "score_condition", "bootstrap_ci",
           "grammar_chance", "confusion_matrices", "top_confusions", "aggregate", "summarize"]

CONDITIONS = ("original", "oracle", "recon")
SPEC_KINDS = ("true", "oracle", "recon")
METRICS = ("corr2d", "stoi", "estoi", "pesq_nb", "pesq_wb", "lse_d", "lse_c")
METRIC_NOTES = {
    "corr2d": "2-D correlation of auditory spectrograms (MATLAB corr2), the Lip2AudSpec paper's measure",
    "stoi": "Short-Time Objective Intelligibility (pystoi, 10 kHz), 0..1",
    "estoi": "Extended STOI (pystoi), 0..1",
    "pesq_nb": "PESQ narrow-band, ITU-T P.862 + P.862.1 MOS-LQO, audio resampled to 8 kHz, -0.5..4.55",
    "pesq_wb": "PESQ wide-band, ITU-T P.862.2, audio at 16 kHz, -0.5..4.64",
    "lse_d": "LSE-D: mean lip-sync distance at the best AV offset (lip2audspec.sync; our own SyncNet expert, so not "
             "comparable with published LSE-D); of the original audio and of the reconstruction with the clip's video; lower = "
             "better sync",
    "lse_c": "LSE-C: median minus minimum of the mean lip-sync distance over offsets -15..+15 (our expert; not comparable "
             "with published LSE-C); higher = more confidently in sync",
    "word_accuracy": "fraction of the 6 GRID word slots recognised correctly by pocketsphinx with a GRID JSGF grammar",
}
CONDITION_LABELS = {"original": "original audio", "oracle": "oracle aud2wav(wav2aud(x))", "recon": "reconstruction"}
#: Column of a confusion matrix for "nothing valid heard in this slot": no hypothesis, a partial one that
#: stops before the slot, or a word outside the slot's vocabulary.
MISSING = "(none)"
#: Default bootstrap settings of the report's confidence intervals (recorded in ``report.json``).
BOOTSTRAP = {"resamples": 2000, "seed": 0, "level": 0.95}


@dataclass
class ClipResult:
    """Everything known about one evaluated clip (see the module docstring).

    Attributes
    ----------
    speaker : str
    id : str
        GRID utterance id; the reference words are ``sentence_from_id(id)`` unless ``reference`` is given.
    metrics : dict
        ``{condition: {metric: float}}``; conditions from :data:`CONDITIONS`, metrics usually :data:`METRICS`
        (others are kept and aggregated too). NaN means "not computable" (e.g. PESQ found no utterance).
    words : dict
        ``{condition: tuple of words or None}`` from :meth:`GridRecognizer.recognize`.
    audio : dict
        ``{condition: path to a wav | (array, sr)}``; copied/written into the report for selected clips.
    spectrograms : dict
        ``{kind: array (frames, channels) | path to an image}``; kinds from :data:`SPEC_KINDS`.
    reference : tuple, optional
    frame_ms : float
        Frame length of the spectrograms, for the time axis (10 ms in Lip2AudSpec).
    """

    speaker: str
    id: str
    metrics: dict = field(default_factory=dict)
    words: dict = field(default_factory=dict)
    audio: dict = field(default_factory=dict)
    spectrograms: dict = field(default_factory=dict)
    reference: tuple | None = None
    frame_ms: float = 10.0

    def __post_init__(self):
        if not isinstance(self.speaker, str) or not self.speaker:
            raise ParameterError(f"speaker must be a non-empty string, got {self.speaker!r}")
        if self.reference is None:
            self.reference = sentence_from_id(self.id)
        self.reference = tuple(self.reference)
        for name, d, allowed in (("metrics", self.metrics, CONDITIONS), ("words", self.words, CONDITIONS),
                                 ("audio", self.audio, CONDITIONS), ("spectrograms", self.spectrograms, SPEC_KINDS)):
            if not isinstance(d, dict):
                raise ParameterError(f"{name} must be a dict, got {type(d).__name__}")
            bad = [k for k in d if k not in allowed]
            if bad:
                raise ParameterError(f"{name} has unknown keys {bad}; allowed: {list(allowed)}")

    @property
    def key(self) -> str:
        """``<speaker>_<id>``, the clip's folder name in the report."""
        return f"{self.speaker}_{self.id}"


def score_condition(ref_audio, deg_audio, *, sr: int, ref_spec=None, deg_spec=None) -> dict:
    """Metric dict of one condition: Corr2D (if both spectrograms given; trimmed to the shorter length)
    plus STOI, ESTOI, PESQ-NB and PESQ-WB of ``deg_audio`` against ``ref_audio``."""
    from .intelligibility import intelligibility_metrics
    from .metrics import corr2d

    out = {}
    if ref_spec is not None and deg_spec is not None:
        a, b = np.asarray(ref_spec), np.asarray(deg_spec)
        n = min(a.shape[0], b.shape[0])
        out["corr2d"] = corr2d(a[:n], b[:n])
    out.update(intelligibility_metrics(ref_audio, deg_audio, sr=sr))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Statistics: bootstrap intervals, chance level, confusions

def bootstrap_ci(values, *, n: int = 2000, seed: int = 0, level: float = 0.95) -> dict:
    """Percentile bootstrap confidence interval of the mean (resampling the values with replacement).

    Parameters
    ----------
    values : array_like, shape (m,)
        One value per clip (NaN/inf are left out, as in the report's means).
    n : int
        Number of bootstrap resamples.
    seed : int
        Non-negative seed of the resampling (same seed and values: same interval).
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    dict
        ``mean`` (of the finite values), ``low``, ``high`` (the ``(1 - level) / 2`` and ``(1 + level) / 2``
        quantiles of the resampled means), ``n`` (finite values), ``level``, ``resamples``, ``seed``. With no
        finite value, ``mean``/``low``/``high`` are None; with one, the interval is that value.

    Examples
    --------
    >>> ci = bootstrap_ci([0.2, 0.4, 0.6, 0.8], seed=1)
    >>> ci["low"] <= ci["mean"] <= ci["high"]
    True
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n must be a positive integer number of resamples, got {n!r}")
    seed = check_seed(seed)
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)) or not 0 < level < 1:
        raise ParameterError(f"level must be in (0, 1), got {level!r}")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    out = {"mean": None, "low": None, "high": None, "n": int(v.size), "level": float(level), "resamples": int(n),
           "seed": seed}
    if v.size == 0:
        return out
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // v.size)  # bounded memory for long lists
    means = np.concatenate([v[rng.integers(0, v.size, size=(min(chunk, n - k), v.size))].mean(axis=1)
                            for k in range(0, n, chunk)])
    low, high = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    mean = float(v.mean())
    out.update(mean=mean, low=min(float(low), mean), high=max(float(high), mean))
    return out


def grammar_chance() -> dict:
    """Word accuracy of guessing uniformly within the GRID grammar (computed from its word lists).

    Returns
    -------
    dict
        ``per_position``: ``{slot: 1 / vocabulary size}`` (command, colour, preposition, adverb 1/4,
        letter 1/25, digit 1/10); ``accuracy``: their mean over the six slots (0.19).
    """
    per = {name: 1.0 / len(words) for name, words in zip(SLOT_NAMES, SLOTS)}
    return {"accuracy": sum(per.values()) / len(per), "per_position": per}


def confusion_matrices(refs, hyps) -> dict:
    """Per-slot confusion matrices of recognised GRID words (:func:`sklearn.metrics.confusion_matrix`).

    Hypotheses are aligned with the slots as for word accuracy (:func:`~.asr.align_slots`).

    Parameters
    ----------
    refs : sequence of 6-word sequences
        Reference sentences.
    hyps : sequence of (sequence of str or None)
        Recogniser outputs, same length; None = no hypothesis (every slot :data:`MISSING`).

    Returns
    -------
    dict
        ``{slot name: {"labels": vocabulary, "columns": vocabulary + [MISSING], "counts": rows}}`` with
        ``counts[i][j]`` the number of clips whose true word ``labels[i]`` was heard as ``columns[j]``
        (plain lists of ints, JSON-ready). The last column counts slots with nothing valid heard (missing, or
        a word outside the slot's vocabulary). Reference words outside the vocabulary are not counted.
    """
    from sklearn.metrics import confusion_matrix

    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ParameterError(f"refs and hyps differ in length: {len(refs)} vs {len(hyps)}")
    if not refs:
        raise ParameterError("confusion_matrices needs at least one utterance")
    true, heard = [], []
    for r, h in zip(refs, hyps):
        r = tuple(str(w).lower() for w in r)
        if len(r) != len(SLOTS):
            raise ParameterError(f"a reference must have {len(SLOTS)} words, got {r!r}")
        true.append(r)
        heard.append(align_slots(h))
    out = OrderedDict()
    for k, (name, vocab) in enumerate(zip(SLOT_NAMES, SLOTS)):
        columns = list(vocab) + [MISSING]
        y_true = [r[k] for r in true]
        y_pred = [h[k] if h[k] in vocab else MISSING for h in heard]
        cm = confusion_matrix(y_true, y_pred, labels=columns)[:-1]  # no true MISSING row
        out[name] = {"labels": list(vocab), "columns": columns, "counts": cm.astype(int).tolist()}
    return out


def top_confusions(matrix: dict, *, k: int = 5) -> list:
    """The ``k`` most frequent confusions of one slot's confusion matrix.

    Parameters
    ----------
    matrix : dict
        One slot of :func:`confusion_matrices` (``labels``, ``columns``, ``counts``).
    k : int
        Number of confusions to return (fewer if there are fewer).

    Returns
    -------
    list of (str, str, int)
        ``(true word, heard word or MISSING, count)``, most frequent first (ties in label order);
        correct recognitions are not confusions.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ParameterError(f"k must be a non-negative integer, got {k!r}")
    labels, columns = matrix["labels"], matrix["columns"]
    cells = [(-int(c), i, j) for i, row in enumerate(matrix["counts"]) for j, c in enumerate(row)
             if c and labels[i] != columns[j]]
    return [(labels[i], columns[j], -c) for c, i, j in sorted(cells)[:k]]


# ---------------------------------------------------------------------------------------------------------------
# Aggregation

def _stat(values, bootstrap: dict) -> dict:
    vals = [float(v) for v in values]
    good = [v for v in vals if math.isfinite(v)]
    ci = bootstrap_ci(good, n=bootstrap["resamples"], seed=bootstrap["seed"], level=bootstrap["level"])
    return {"mean": (sum(good) / len(good)) if good else None, "n": len(good), "n_nan": len(vals) - len(good),
            "ci": [ci["low"], ci["high"]] if good else None}


def _bootstrap_settings(bootstrap) -> dict:
    b = dict(BOOTSTRAP)
    if bootstrap:
        bad = sorted(set(bootstrap) - set(BOOTSTRAP))
        if bad:
            raise ParameterError(f"bootstrap has unknown keys {bad}; allowed: {sorted(BOOTSTRAP)}")
        b.update(bootstrap)
    bootstrap_ci([0.0], n=b["resamples"], seed=b["seed"], level=b["level"])  # validates
    return b


def _group_summary(results, bootstrap: dict, *, confusion: bool = False) -> dict:
    out = OrderedDict()
    for cond in CONDITIONS:
        names = []
        for r in results:
            for m in r.metrics.get(cond, {}):
                if m not in names:
                    names.append(m)
        names.sort(key=lambda m: (METRICS.index(m) if m in METRICS else len(METRICS), m))
        metrics = OrderedDict((m, _stat((r.metrics[cond][m] for r in results if m in r.metrics.get(cond, {})), bootstrap))
                              for m in names)
        with_words = [r for r in results if cond in r.words]
        refs, hyps = [r.reference for r in with_words], [r.words[cond] for r in with_words]
        wa = word_accuracy(refs, hyps) if with_words else None
        if wa:
            # every clip has six slots, so word accuracy is the mean of the per-clip fractions correct
            per_clip = [np.mean(_slot_correct(r, h)) for r, h in zip(refs, hyps)]
            ci = bootstrap_ci(per_clip, n=bootstrap["resamples"], seed=bootstrap["seed"], level=bootstrap["level"])
            wa["ci"] = [ci["low"], ci["high"]]
        if metrics or wa:
            out[cond] = {"metrics": metrics, "words": wa}
            if confusion and wa:
                out[cond]["confusion"] = confusion_matrices(refs, hyps)
    return {"n_clips": len(results), "conditions": out}


def aggregate(results, *, bootstrap: dict | None = None) -> dict:
    """Per-speaker and overall summaries.

    Parameters
    ----------
    results : iterable of ClipResult
    bootstrap : dict, optional
        Overrides of the confidence-interval settings :data:`BOOTSTRAP` (``resamples``, ``seed``,
        ``level``).

    Returns
    -------
    dict
        ``{"overall": S, "speakers": {speaker: S}}`` where ``S = {"n_clips", "conditions": {condition:
        {"metrics": {metric: {"mean", "n", "n_nan", "ci"}}, "words": word_accuracy(...) + {"ci"} or None}}}``;
        ``ci`` is ``[low, high]`` (:func:`bootstrap_ci` over the group's clips). Overall pools all clips and
        its conditions with words also have ``confusion`` (:func:`confusion_matrices`).
    """
    results = list(results)
    if not results:
        raise ParameterError("no results to aggregate")
    b = _bootstrap_settings(bootstrap)
    speakers = OrderedDict()
    for r in sorted(results, key=_speaker_sort_key):
        speakers.setdefault(r.speaker, []).append(r)
    return {"overall": _group_summary(results, b, confusion=True),
            "speakers": OrderedDict((s, _group_summary(rs, b)) for s, rs in speakers.items())}


def _speaker_sort_key(r):
    s = r.speaker
    digits = "".join(ch for ch in s if ch.isdigit())
    return (int(digits) if digits else 10**9, s, r.id)


def _clip_json(r: ClipResult, media: dict | None) -> dict:
    d = {"speaker": r.speaker, "id": r.id, "reference": list(r.reference),
         "metrics": {c: dict(m) for c, m in r.metrics.items()},
         "words": {c: (list(w) if w else None) for c, w in r.words.items()},
         "correct": {c: _slot_correct(r.reference, w) for c, w in r.words.items()}}
    if media:
        d["media"] = media
    return d


def _slot_correct(ref, hyp):
    return [h == str(w).lower() for h, w in zip(align_slots(hyp), ref)]


def summarize(results, *, title: str = "Evaluation", meta: dict | None = None, media: dict | None = None,
              bootstrap: dict | None = None) -> dict:
    """The ``report.json`` document: ``title``, ``meta``, metric definitions, ``overall``, ``speakers``
    (see :func:`aggregate`), ``chance`` (:func:`grammar_chance`), ``bootstrap`` (the interval settings:
    ``resamples``, ``seed``, ``level``) and ``clips`` (per clip metrics, words, per-slot correctness, media
    paths). NaN is written as ``null``."""
    results = list(results)
    b = _bootstrap_settings(bootstrap)
    agg = aggregate(results, bootstrap=b)
    media = media or {}
    doc = {"title": title, "meta": dict(meta or {}), "conditions": {c: CONDITION_LABELS[c] for c in CONDITIONS},
           "definitions": METRIC_NOTES, "word_positions": list(SLOT_NAMES),
           "chance": grammar_chance(),
           "bootstrap": {**b, "method": "percentile bootstrap of the mean over clips (resampled with replacement)"},
           "overall": agg["overall"], "speakers": agg["speakers"],
           "clips": [_clip_json(r, media.get(r.key)) for r in sorted(results, key=_speaker_sort_key)]}
    return _json_safe(doc)


def _json_safe(o):
    if isinstance(o, dict):
        return {str(k): _json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_json_safe(v) for v in o]
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, Path):
        return str(o)
    return o

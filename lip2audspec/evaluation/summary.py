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
speaker means), every metric as ``{"mean", "n", "n_nan"}`` (NaN-ignoring mean; ``n`` counts finite values)
and word accuracy per condition (:func:`lip2audspec.evaluation.asr.word_accuracy`: overall, sentence,
per position, WER). :func:`summarize` returns the ``report.json`` document.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..corpora.grid import sentence_from_id
from ..errors import ParameterError
from .asr import SLOT_NAMES, word_accuracy

__all__ = ["CONDITIONS", "METRICS", "SPEC_KINDS", "ClipResult", "score_condition", "aggregate", "summarize"]

CONDITIONS = ("original", "oracle", "recon")
SPEC_KINDS = ("true", "oracle", "recon")
METRICS = ("corr2d", "stoi", "estoi", "pesq_nb", "pesq_wb")
METRIC_NOTES = {
    "corr2d": "2-D correlation of auditory spectrograms (MATLAB corr2), the Lip2AudSpec paper's measure",
    "stoi": "Short-Time Objective Intelligibility (pystoi, 10 kHz), 0..1",
    "estoi": "Extended STOI (pystoi), 0..1",
    "pesq_nb": "PESQ narrow-band, ITU-T P.862 + P.862.1 MOS-LQO, audio resampled to 8 kHz, -0.5..4.55",
    "pesq_wb": "PESQ wide-band, ITU-T P.862.2, audio at 16 kHz, -0.5..4.64",
    "word_accuracy": "fraction of the 6 GRID word slots recognised correctly by pocketsphinx with a GRID JSGF grammar",
}
CONDITION_LABELS = {"original": "original audio", "oracle": "oracle aud2wav(wav2aud(x))", "recon": "reconstruction"}


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
# Aggregation

def _stat(values) -> dict:
    vals = [float(v) for v in values]
    good = [v for v in vals if math.isfinite(v)]
    return {"mean": (sum(good) / len(good)) if good else None, "n": len(good), "n_nan": len(vals) - len(good)}


def _group_summary(results) -> dict:
    out = OrderedDict()
    for cond in CONDITIONS:
        names = []
        for r in results:
            for m in r.metrics.get(cond, {}):
                if m not in names:
                    names.append(m)
        names.sort(key=lambda m: (METRICS.index(m) if m in METRICS else len(METRICS), m))
        metrics = OrderedDict((m, _stat(r.metrics[cond][m] for r in results if m in r.metrics.get(cond, {})))
                              for m in names)
        with_words = [r for r in results if cond in r.words]
        wa = word_accuracy([r.reference for r in with_words], [r.words[cond] for r in with_words]) if with_words else None
        if metrics or wa:
            out[cond] = {"metrics": metrics, "words": wa}
    return {"n_clips": len(results), "conditions": out}


def aggregate(results) -> dict:
    """Per-speaker and overall summaries: ``{"overall": S, "speakers": {speaker: S}}`` where
    ``S = {"n_clips", "conditions": {condition: {"metrics": {metric: {"mean", "n", "n_nan"}},
    "words": word_accuracy(...) or None}}}``. Overall pools all clips."""
    results = list(results)
    if not results:
        raise ParameterError("no results to aggregate")
    speakers = OrderedDict()
    for r in sorted(results, key=_speaker_sort_key):
        speakers.setdefault(r.speaker, []).append(r)
    return {"overall": _group_summary(results),
            "speakers": OrderedDict((s, _group_summary(rs)) for s, rs in speakers.items())}


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
    hyp = tuple(hyp) if hyp else ()
    return [k < len(hyp) and hyp[k] == ref[k] for k in range(len(ref))]


def summarize(results, *, title: str = "Evaluation", meta: dict | None = None, media: dict | None = None) -> dict:
    """The ``report.json`` document: ``title``, ``meta``, metric definitions, ``overall``, ``speakers``
    (see :func:`aggregate`) and ``clips`` (per clip metrics, words, per-slot correctness, media paths).
    NaN is written as ``null``."""
    results = list(results)
    agg = aggregate(results)
    media = media or {}
    doc = {"title": title, "meta": dict(meta or {}), "conditions": {c: CONDITION_LABELS[c] for c in CONDITIONS},
           "definitions": METRIC_NOTES, "word_positions": list(SLOT_NAMES),
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

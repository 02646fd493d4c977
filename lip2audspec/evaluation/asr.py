"""GRID word recognition for evaluation: the recognisers (:mod:`lip2audspec.recognition`) and word accuracy.

:func:`align_slots` aligns a hypothesis with the six GRID slots (the grammar always yields six words in
slot order) and :func:`word_accuracy` scores hypotheses against references, overall and per slot.
"""

from __future__ import annotations

import numpy as np

from ..corpora.grid import SLOTS
from ..errors import ParameterError
from ..recognition import (PRONUNCIATIONS, EnglishRecognizer, GridRecognizer, RecognizedWord,  # noqa: F401 (re-exported)
                           grid_jsgf)

__all__ = ["SLOT_NAMES", "PRONUNCIATIONS", "grid_jsgf", "GridRecognizer", "EnglishRecognizer", "RecognizedWord",
           "align_slots", "word_accuracy"]

#: Names of the six GRID word positions, in sentence order (keys of :func:`word_accuracy`'s per-position dict).
SLOT_NAMES = ("command", "colour", "preposition", "letter", "digit", "adverb")


def align_slots(hyp) -> tuple:
    """A hypothesis aligned with the six GRID slots: the word heard in each slot, or None.

    The alignment every word score uses (:func:`word_accuracy`, the per-clip correctness and the
    per-slot confusion matrices of :mod:`.summary`): position by position, as the grammar always yields
    six words in slot order. Words are lower-cased; missing positions (no hypothesis, or a partial path)
    are None; words past the sixth are dropped.

    Parameters
    ----------
    hyp : sequence of str or None

    Returns
    -------
    tuple of (str or None), length 6

    Examples
    --------
    >>> align_slots(("Bin", "blue", "at"))
    ('bin', 'blue', 'at', None, None, None)
    """
    h = tuple(str(w).lower() for w in hyp) if hyp else ()
    return tuple(h[k] if k < len(h) else None for k in range(len(SLOTS)))


def word_accuracy(refs, hyps) -> dict:
    """Word accuracy of GRID hypotheses against references, overall and per word position.

    Parameters
    ----------
    refs : sequence of 6-word sequences
        Reference sentences (e.g. ``sentence_from_id(utt_id)``).
    hyps : sequence of (sequence of str or None)
        Hypotheses, same length as ``refs``. ``None``/empty (no hypothesis) counts every slot wrong. A
        hypothesis is compared position by position (the grammar always yields six words); missing
        positions count wrong, extra words are ignored for accuracy (but count in WER).

    Returns
    -------
    dict
        ``accuracy``: fraction of the ``6 n`` slots correct; ``sentence_accuracy``: fraction of
        utterances with all six right; ``per_position``: ``{slot name: accuracy}`` for ``command``,
        ``colour``, ``preposition``, ``letter``, ``digit``, ``adverb``; ``wer``: jiwer word error rate of
        the joined strings (for reference; equals ``1 - accuracy`` when every hypothesis has six words);
        ``n``: number of utterances; ``n_no_hypothesis``.
    """
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ParameterError(f"refs and hyps differ in length: {len(refs)} vs {len(hyps)}")
    if not refs:
        raise ParameterError("word_accuracy needs at least one utterance")
    correct = np.zeros(len(SLOTS), dtype=np.int64)
    whole, none = 0, 0
    ref_str, hyp_str = [], []
    for r, h in zip(refs, hyps):
        r = tuple(str(w).lower() for w in r)
        if len(r) != len(SLOTS):
            raise ParameterError(f"a reference must have {len(SLOTS)} words, got {r!r}")
        h = tuple(str(w).lower() for w in h) if h else ()
        none += not h
        ok = [a == b for a, b in zip(align_slots(h), r)]
        correct += np.asarray(ok, dtype=np.int64)
        whole += all(ok)
        ref_str.append(" ".join(r))
        hyp_str.append(" ".join(h))
    n = len(refs)
    try:
        import jiwer

        # jiwer rejects empty hypothesis strings in some versions; score those as all-deleted by hand.
        pairs = [(r, h) for r, h in zip(ref_str, hyp_str) if h]
        errors = sum(len(r.split()) for r, h in zip(ref_str, hyp_str) if not h)
        if pairs:
            out = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
            errors += out.substitutions + out.deletions + out.insertions
        wer = errors / (n * len(SLOTS))
    except ImportError:  # pragma: no cover
        wer = float("nan")
    return {
        "accuracy": float(correct.sum() / (n * len(SLOTS))),
        "sentence_accuracy": whole / n,
        "per_position": {name: float(c / n) for name, c in zip(SLOT_NAMES, correct)},
        "wer": float(wer),
        "n": n,
        "n_no_hypothesis": none,
    }

"""Offline speech recognition with pocketsphinx: GRID sentences (a JSGF grammar) or open English.

:class:`GridRecognizer` decodes one utterance into the six GRID words with pocketsphinx 5's bundled US
English acoustic model, constrained by a JSGF grammar of the GRID sentence
``command colour preposition letter digit adverb`` (leading, trailing and between-word silence are
optional: pocketsphinx inserts its silence/filler models between grammar words on its own). Because every
path through the grammar has exactly six words, a hypothesis is position-aligned with the reference and
word accuracy per slot (:func:`lip2audspec.evaluation.asr.word_accuracy`) is well defined.

:class:`EnglishRecognizer` uses pocketsphinx's general US English model instead (``--open`` of ``lipread``);
``recognize_words`` gives each word's times and lattice posterior. Used by evaluation (word accuracy) and
by :meth:`lip2audspec.reconstruct.Reconstructor.read` (lip reading to text), so it sits below both.

Vocabulary: 4 + 4 + 4 + 25 + 10 + 4 = 51 words, pronunciations from the bundled ``cmudict-en-us.dict``
(:data:`PRONUNCIATIONS`, checked against it by the tests). Letters are the letter *names* as the
dictionary spells them (``f`` = EH F, ``y`` = W AY, ...). Two deliberate changes: ``a`` keeps only its
letter-name reading EY (the dictionary also lists the article AH), and ``z`` also gets the British
"zed" (Z EH D; GRID's talkers are British, and so are some synthetic voices). The decoder uses a private dictionary
of just these words, so it loads in well under a second.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .corpora.grid import ADVERBS, COLOURS, COMMANDS, DIGITS, LETTERS, PREPOSITIONS
from .errors import DataError, ParameterError

__all__ = ["PRONUNCIATIONS", "grid_jsgf", "GridRecognizer", "EnglishRecognizer", "RecognizedWord"]

log = logging.getLogger(__name__)

#: GRID vocabulary -> list of CMU phone strings (from pocketsphinx's cmudict-en-us.dict; ``a`` = EY only,
#: ``z`` plus "zed").
PRONUNCIATIONS = {
    "bin": ["B IH N"], "lay": ["L EY"], "place": ["P L EY S"], "set": ["S EH T"],
    "blue": ["B L UW"], "green": ["G R IY N"], "red": ["R EH D"], "white": ["W AY T", "HH W AY T"],
    "at": ["AE T"], "by": ["B AY"], "in": ["IH N"], "with": ["W IH DH", "W IH TH"],
    "a": ["EY"], "b": ["B IY"], "c": ["S IY"], "d": ["D IY"], "e": ["IY"], "f": ["EH F"], "g": ["JH IY"],
    "h": ["EY CH"], "i": ["AY"], "j": ["JH EY"], "k": ["K EY"], "l": ["EH L"], "m": ["EH M"], "n": ["EH N"],
    "o": ["OW"], "p": ["P IY"], "q": ["K Y UW"], "r": ["AA R"], "s": ["EH S"], "t": ["T IY"], "u": ["Y UW"],
    "v": ["V IY"], "x": ["EH K S"], "y": ["W AY"], "z": ["Z IY", "Z EH D"],
    "zero": ["Z IH R OW", "Z IY R OW"], "one": ["W AH N"], "two": ["T UW"], "three": ["TH R IY"],
    "four": ["F AO R"], "five": ["F AY V"], "six": ["S IH K S"], "seven": ["S EH V AH N"], "eight": ["EY T"],
    "nine": ["N AY N"],
    "again": ["AH G EH N", "AH G EY N"], "now": ["N AW"], "please": ["P L IY Z"], "soon": ["S UW N"],
}

#: Decoder settings added to pocketsphinx's defaults (``Config`` keys). None are needed: on 100 clean
#: synthetic clips (4 espeak voices) ``lw`` 1..10, ``topn`` 8/32, ``wip`` 1, ``silprob`` 0.1, ``cmn`` batch,
#: ``remove_noise`` off, ``bestpath`` off and 10^32x wider beams all moved word accuracy by at most
#: +-1.5 points (wider beams: worse and 10x slower). Errors are acoustic (letter E-set, accents).
DEFAULT_CONFIG: dict = {}


def grid_jsgf(*, repeat: bool = False) -> str:
    """The JSGF grammar of GRID sentences (public rule ``<sentence>``; ``repeat``: one or more sentences,
    for recordings longer than one utterance)."""
    rules = [("command", COMMANDS), ("colour", COLOURS), ("preposition", PREPOSITIONS), ("letter", LETTERS),
             ("digit", DIGITS), ("adverb", ADVERBS)]
    body = " ".join(f"<{name}>" for name, _ in rules)
    lines = ["#JSGF V1.0;", "", "grammar grid;", "",
             "public <sentence> = " + (f"( {body} )+" if repeat else body) + ";"]
    lines += [f"<{name}> = {' | '.join(words)};" for name, words in rules]
    return "\n".join(lines) + "\n"


def _dictionary_text() -> str:
    out = []
    for word, prons in PRONUNCIATIONS.items():
        for k, p in enumerate(prons):
            out.append(f"{word} {p}" if k == 0 else f"{word}({k + 1}) {p}")
    return "\n".join(out) + "\n"


class RecognizedWord(NamedTuple):
    """One recognised word: the word, its start and end in seconds, and the recogniser's posterior
    probability of it (0..1, from pocketsphinx's word lattice)."""

    word: str
    start_s: float
    end_s: float
    confidence: float


_FILLER = re.compile(r"^(<s>|</s>|<sil>|\[.*\]|\+\+.*\+\+|\+.*\+)$", re.IGNORECASE)
_FRAME_S = 0.01  # pocketsphinx's feature frame rate is 100 frames per second


class _Pocketsphinx:
    """Shared decoding: audio -> pocketsphinx utterance; subclasses build ``self._decoder``."""

    sr = 16000

    def _pcm(self, audio, sr) -> bytes | None:
        from .auditory.io import resample

        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise ParameterError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
        x = np.asarray(audio)
        if x.ndim != 1 or x.size == 0:
            raise ParameterError(f"audio must be a non-empty 1-D array, got shape {x.shape}")
        x = x.astype(np.float64) / (32768.0 if x.dtype == np.int16 else 1.0)
        if not np.all(np.isfinite(x)):
            raise ParameterError("audio contains NaN or infinite samples")
        if sr != self.sr:
            x = resample(x, sr_in=int(sr), sr_out=self.sr)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        if peak == 0:
            return None
        return np.round(x * (0.9 * 32767 / peak)).astype("<i2").tobytes()

    def _decode(self, audio, sr) -> bool:
        pcm = self._pcm(audio, sr)
        if pcm is None:
            return False
        d = self._decoder
        d.start_utt()
        d.process_raw(pcm, no_search=False, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        return hyp is not None and bool(hyp.hypstr.strip())

    def recognize(self, audio, *, sr: int) -> tuple | None:
        """The recognised words (fillers and silences left out), or None if there is no hypothesis.

        Parameters
        ----------
        audio : array_like, shape (n,)
            Mono audio, float (any scale: it is peak-normalised to 0.9 of int16 full scale, so arbitrary
            ``aud2wav`` gain and polarity do not matter) or int16.
        sr : int
            Rate of ``audio`` in Hz; resampled to 16 kHz if different.
        """
        if not self._decode(audio, sr):
            return None
        return tuple(self._decoder.hyp().hypstr.split())

    def recognize_words(self, audio, *, sr: int) -> list:
        """The recognised words with times and confidences.

        Parameters
        ----------
        audio, sr
            As :meth:`recognize`.

        Returns
        -------
        list of RecognizedWord
            In order, without silences and fillers; alternate-pronunciation markers (``word(2)``) are
            dropped. Empty if nothing was recognised.
        """
        if not self._decode(audio, sr):
            return []
        out = []
        for seg in self._decoder.seg():
            if _FILLER.match(seg.word):
                continue
            word = re.sub(r"\(\d+\)$", "", seg.word)
            prob = float(seg.prob)  # pocketsphinx 5 gives the lattice posterior as a probability
            out.append(RecognizedWord(word, seg.start_frame * _FRAME_S, (seg.end_frame + 1) * _FRAME_S,
                                      min(max(prob, 0.0), 1.0)))
        return out


def _pocketsphinx():
    try:
        import pocketsphinx
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise DataError("speech recognition needs pocketsphinx (pip install pocketsphinx)") from exc
    return pocketsphinx


class GridRecognizer(_Pocketsphinx):
    """Recognise GRID sentences offline with pocketsphinx constrained by the GRID grammar.

    Build once and reuse (construction loads the acoustic model, about 0.3 s); :meth:`recognize` takes
    about 0.1-0.3 s per 3 s clip on one core. Not thread-safe: use one instance per thread/process.

    Parameters
    ----------
    sr : int
        Rate the decoder runs at (16000, the acoustic model's rate). Input at other rates is resampled.
    repeat : bool
        Accept one or more GRID sentences in a row (:func:`grid_jsgf`), for recordings of several
        utterances; default one sentence.
    **config
        Extra pocketsphinx ``Config`` settings overriding :data:`DEFAULT_CONFIG` (e.g. ``lw=10``).

    Examples
    --------
    >>> rec = GridRecognizer()                                  # doctest: +SKIP
    >>> rec.recognize(x, sr=16000)                              # doctest: +SKIP
    ('bin', 'blue', 'at', 'f', 'two', 'now')
    """

    def __init__(self, sr: int = 16000, *, repeat: bool = False, **config):
        try:
            import pocketsphinx
        except ImportError as exc:  # pragma: no cover - dependency missing
            raise DataError("GridRecognizer needs pocketsphinx (pip install pocketsphinx)") from exc
        if sr != 16000:
            raise ParameterError(f"the bundled acoustic model is 16 kHz; sr must be 16000, got {sr!r}")
        self.sr = int(sr)
        hmm = Path(pocketsphinx.get_model_path()) / "en-us" / "en-us"
        if not (hmm / "mdef").is_file():
            raise DataError(f"pocketsphinx acoustic model not found at {hmm}")
        settings = dict(DEFAULT_CONFIG)
        settings.update(config)
        self.config = settings
        with tempfile.TemporaryDirectory(prefix="gridasr.") as tmp:
            dpath = os.path.join(tmp, "grid.dict")
            gpath = os.path.join(tmp, "grid.gram")
            with open(dpath, "w", encoding="ascii") as f:
                f.write(_dictionary_text())
            with open(gpath, "w", encoding="ascii") as f:
                f.write(grid_jsgf(repeat=repeat))
            try:
                self._decoder = pocketsphinx.Decoder(hmm=str(hmm), dict=dpath, jsgf=gpath, samprate=float(self.sr),
                                                     loglevel="FATAL", **settings)
            except (ValueError, RuntimeError) as exc:
                raise ParameterError(f"could not build the pocketsphinx decoder with {settings}: {exc}") from None

    def recognize(self, audio, *, sr: int) -> tuple | None:
        """Decode one utterance (``audio`` mono float of any scale or int16, at ``sr`` Hz: resampled to 16 kHz).

        Returns
        -------
        tuple of str or None
            The recognised words without silences/fillers: normally the six slot words (the grammar
            admits nothing else). If no path reached the grammar's end by the end of the audio,
            pocketsphinx returns its best partial path, so fewer than six words are possible; ``None`` if the decoder found no hypothesis (e.g. silent input, or no
            path through the grammar survived the beams).
        """
        return super().recognize(audio, sr=sr)


class EnglishRecognizer(_Pocketsphinx):
    """Open-vocabulary recognition with pocketsphinx's general US English model (``en-us.lm.bin`` trigram
    language model, ``cmudict-en-us.dict``, ~134k words).

    Much weaker than the GRID grammar on GRID speech (any English word can win); for speech that is not
    GRID. Loads in a few seconds; decodes at about real time on one core.

    Parameters
    ----------
    sr : int
        16000 (the acoustic model's rate).
    **config
        Extra pocketsphinx ``Config`` settings.
    """

    def __init__(self, sr: int = 16000, **config):
        pocketsphinx = _pocketsphinx()
        if sr != 16000:
            raise ParameterError(f"the bundled acoustic model is 16 kHz; sr must be 16000, got {sr!r}")
        root = Path(pocketsphinx.get_model_path()) / "en-us"
        hmm, lm, dic = root / "en-us", root / "en-us.lm.bin", root / "cmudict-en-us.dict"
        for f in (hmm / "mdef", lm, dic):
            if not f.is_file():
                raise DataError(f"pocketsphinx's English model file {f} is missing")
        self.config = dict(config)
        try:
            self._decoder = pocketsphinx.Decoder(hmm=str(hmm), lm=str(lm), dict=str(dic), samprate=16000.0,
                                                 loglevel="FATAL", **config)
        except (ValueError, RuntimeError) as exc:
            raise ParameterError(f"could not build the pocketsphinx decoder with {config}: {exc}") from None

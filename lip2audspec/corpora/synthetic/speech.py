"""Speech synthesis with libespeak-ng (from the ``espeakng-loader`` wheel) driven through ctypes.

The synthesizer runs in synchronous mode: audio and events (word and phoneme starts, in ms) are collected
by a callback. libespeak-ng keeps global state and is not thread-safe, so there is one :class:`Espeak`
per process (:func:`get_espeak`); worker processes initialise their own on first use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass

import numpy as np

from ...config import Config
from ...errors import DataError, ParameterError

__all__ = ["Voice", "Utterance", "Espeak", "get_espeak", "synthesize", "ESPEAK_RATE"]

#: libespeak-ng's native output rate (Hz).
ESPEAK_RATE = 22050

from ._espeak_core import EVENT_END as _EVENT_END, EVENT_PHONEME as _EVENT_PHONEME, EVENT_WORD as _EVENT_WORD, EspeakCore


@dataclass(frozen=True)
class Voice(Config):
    """An espeak-ng voice: language + variant and prosody parameters.

    Parameters
    ----------
    name : str
        espeak-ng voice name with variant, e.g. ``"en-us+m3"``.
    rate : int
        Speaking rate in words per minute (80..450).
    pitch : int
        Base pitch, 0..100 (espeak's scale; 50 = the variant's default).
    pitch_range : int
        Pitch range, 0..100 (0 = monotone).
    volume : int
        Amplitude, 0..200 (100 = default).
    """

    name: str = "en-us"
    rate: int = 165
    pitch: int = 50
    pitch_range: int = 50
    volume: int = 100

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or len(self.name) > 60:
            raise ParameterError(f"voice name must be a non-empty espeak-ng voice name like 'en-us+m3', got {self.name!r}")
        for field, lo, hi in (("rate", 80, 450), ("pitch", 0, 100), ("pitch_range", 0, 100), ("volume", 0, 200)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ParameterError(f"Voice.{field} must be an integer in [{lo}, {hi}], got {v!r}")


@dataclass(frozen=True)
class Utterance:
    """Synthesized speech with timings (seconds from the start of ``audio``).

    Attributes
    ----------
    audio : ndarray, float64, shape (n,)
        Waveform in [-1, 1] at ``sr``.
    sr : int
    words : list of (start, end, word)
    phonemes : list of (start, end, phoneme)
        espeak-ng phoneme mnemonics (e.g. ``"b"``, ``"I"``, ``"aI"``); pauses are ``"_"``.
    """

    audio: np.ndarray
    sr: int
    words: list
    phonemes: list

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / self.sr


class Espeak:
    """libespeak-ng in this process (process-global library state; see :func:`get_espeak`).

    Its output depends slightly on what was synthesized before in the process (echo buffers, glottal
    phase), so :func:`synthesize` runs each utterance in a fresh child process by default.
    """

    def __init__(self):
        self._core = EspeakCore()
        self.sr = self._core.sr
        self._lock = threading.Lock()

    def synthesize(self, text: str, *, voice: Voice, rand_seed: int = 0) -> Utterance:
        """Synthesize ``text`` in this process; see :func:`synthesize`."""
        _check(text, voice)
        with self._lock:
            try:
                pcm, events = self._core.synth(text, voice.to_dict(), rand_seed)
            except LookupError:
                raise ParameterError(f"espeak-ng has no voice {voice.name!r}; expected e.g. 'en-us+m3' or 'en+f2'") from None
            except RuntimeError as exc:
                raise DataError(f"{exc} for {text!r}") from None
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
        return _timings(text, audio, self.sr, events)


def _check(text, voice):
    if not isinstance(text, str) or not text.strip():
        raise ParameterError(f"text must be a non-empty string, got {text!r}")
    if not isinstance(voice, Voice):
        raise ParameterError(f"voice must be a Voice, got {type(voice).__name__}")


def _synthesize_isolated(text: str, voice: Voice, rand_seed: int) -> Utterance:
    _check(text, voice)
    req = json.dumps({"text": text, "voice": voice.to_dict(), "rand_seed": int(rand_seed)}).encode()
    proc = subprocess.run([sys.executable, "-s", _CORE_PATH], input=req, capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    head, _, pcm = proc.stdout.partition(b"\n")
    try:
        header = json.loads(head)
    except json.JSONDecodeError:
        raise DataError(f"espeak-ng child failed (exit {proc.returncode}): {proc.stderr.decode(errors='replace')[-500:]}") from None
    if not header.get("ok"):
        if header.get("error") == "voice":
            raise ParameterError(f"espeak-ng has no voice {voice.name!r}; expected e.g. 'en-us+m3' or 'en+f2'")
        raise DataError(f"espeak-ng failed for {text!r}: {header.get('message')}")
    if len(pcm) != header["n_bytes"]:
        raise DataError(f"espeak-ng child returned {len(pcm)} of {header['n_bytes']} bytes")
    audio = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    return _timings(text, audio, int(header["sr"]), [tuple(e) for e in header["events"]])


_CORE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_espeak_core.py")


def _timings(text: str, audio: np.ndarray, sr: int, events: list) -> Utterance:
    dur = audio.shape[0] / sr
    end_ms = max([e[3] for e in events if e[0] == _EVENT_END] or [dur * 1000.0])
    ph = [(e[3] / 1000.0, e[4]) for e in events if e[0] == _EVENT_PHONEME]
    phonemes = []
    for i, (t0, name) in enumerate(ph):
        t1 = ph[i + 1][0] if i + 1 < len(ph) else end_ms / 1000.0
        if t1 > t0:
            phonemes.append((t0, min(t1, dur), name))
    raw_words = [e for e in events if e[0] == _EVENT_WORD]
    words = []
    tb = text.encode("utf-8")
    for i, e in enumerate(raw_words):
        pos, length = e[1], e[2]
        word = tb[pos - 1: pos - 1 + length].decode("utf-8", "replace") if pos > 0 else ""
        t0 = e[3] / 1000.0
        t1 = raw_words[i + 1][3] / 1000.0 if i + 1 < len(raw_words) else end_ms / 1000.0
        words.append((t0, min(t1, dur), word))
    return Utterance(audio=audio, sr=sr, words=words, phonemes=phonemes)


_INSTANCE: dict = {}


def get_espeak() -> Espeak:
    """The process's :class:`Espeak` (created on first call; re-created after a fork)."""
    pid = os.getpid()
    inst = _INSTANCE.get(pid)
    if inst is None:
        _INSTANCE.clear()
        inst = _INSTANCE[pid] = Espeak()
    return inst


def synthesize(text: str, *, voice: Voice, rand_seed: int = 0, isolated: bool = True) -> Utterance:
    """Synthesize ``text`` with ``voice``, returning audio with word and phoneme timings.

    Parameters
    ----------
    text : str
        Plain text (UTF-8); words are delimited by spaces.
    voice : Voice
    rand_seed : int
        Seed of espeak-ng's noise generator (breathy voices).
    isolated : bool
        Run libespeak-ng in a fresh child process (default), so the same text, voice and seed always give
        the same samples (about 30 ms overhead). False: use this process's instance (:func:`get_espeak`),
        whose output depends slightly on earlier utterances.

    Returns
    -------
    Utterance
        Audio at 22050 Hz; ``words`` holds one entry per WORD event, named by the text span it covers.
    """
    if isolated:
        return _synthesize_isolated(text, voice, rand_seed)
    return get_espeak().synthesize(text, voice=voice, rand_seed=rand_seed)

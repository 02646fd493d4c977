"""Speech synthesis with libespeak-ng (from the ``espeakng-loader`` wheel) driven through ctypes.

The synthesizer runs in synchronous mode: audio and events (word and phoneme starts, in ms) are collected
by a callback. libespeak-ng keeps global state and is not thread-safe, so there is one :class:`Espeak`
per process (:func:`get_espeak`); worker processes initialise their own on first use.
"""

from __future__ import annotations

import ctypes
import os
import threading
from dataclasses import asdict, dataclass

import numpy as np

from ...errors import DataError, ParameterError

__all__ = ["Voice", "Utterance", "Espeak", "get_espeak", "synthesize", "ESPEAK_RATE"]

#: libespeak-ng's native output rate (Hz).
ESPEAK_RATE = 22050

# speak_lib.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_EVENT_PHONEME = 7
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    # espeak_EVENT in speak_lib.h
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Voice:
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Voice":
        return cls(**d)


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
    """One libespeak-ng instance (process-global library state).

    Use :func:`get_espeak` rather than constructing this directly.
    """

    def __init__(self):
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path()
        lib = self._lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        # espeak-ng looks for <path>/espeak-ng-data
        parent = os.path.dirname(data).encode()
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, parent, _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise DataError(f"libespeak-ng failed to initialise with data at {data} (returned {sr})")
        self.sr = int(sr)
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        self._chunks: list = []
        self._events: list = []
        self._cb = _CALLBACK(self._callback)  # keep a reference
        lib.espeak_SetSynthCallback(self._cb)
        self._lock = threading.Lock()
        self._voice = None

    def _callback(self, wav, n, events):
        if n > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while True:
            ev = events[i]
            if ev.type == _EVENT_LIST_TERMINATED:
                break
            if ev.type in (_EVENT_WORD, _EVENT_PHONEME, _EVENT_END):
                name = bytes(ev.id.string).split(b"\0", 1)[0].decode("ascii", "replace") if ev.type == _EVENT_PHONEME else ""
                self._events.append((int(ev.type), int(ev.text_position), int(ev.length), int(ev.audio_position), name))
            i += 1
        return 0

    def _set_voice(self, voice: Voice):
        lib = self._lib
        if self._voice is None or self._voice.name != voice.name:
            if lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise ParameterError(f"espeak-ng has no voice {voice.name!r}; expected e.g. 'en-us+m3' or 'en+f2'")
        for key, value in (("rate", voice.rate), ("pitch", voice.pitch), ("range", voice.pitch_range),
                           ("volume", voice.volume), ("wordgap", 0)):
            lib.espeak_SetParameter(_PARAM[key], int(value), 0)
        self._voice = voice

    def synthesize(self, text: str, *, voice: Voice) -> Utterance:
        """Synthesize ``text`` and return audio with word and phoneme timings.

        Parameters
        ----------
        text : str
            Plain text (UTF-8). Words are delimited by spaces.
        voice : Voice

        Returns
        -------
        Utterance
            ``words`` holds one entry per WORD event, named by the text span it covers.
        """
        if not isinstance(text, str) or not text.strip():
            raise ParameterError(f"text must be a non-empty string, got {text!r}")
        if not isinstance(voice, Voice):
            raise ParameterError(f"voice must be a Voice, got {type(voice).__name__}")
        with self._lock:
            self._set_voice(voice)
            self._chunks, self._events = [], []
            buf = text.encode("utf-8") + b"\0"
            rc = self._lib.espeak_Synth(buf, len(buf), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            if rc != 0:
                raise DataError(f"espeak_Synth failed with code {rc} for {text!r}")
            self._lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        audio = (np.concatenate(chunks).astype(np.float64) / 32768.0) if chunks else np.zeros(0)
        return _timings(text, audio, self.sr, events)


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


def synthesize(text: str, *, voice: Voice) -> Utterance:
    """Synthesize ``text`` with ``voice`` using the process's espeak-ng (see :meth:`Espeak.synthesize`)."""
    return get_espeak().synthesize(text, voice=voice)

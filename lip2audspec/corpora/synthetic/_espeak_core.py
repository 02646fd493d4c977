"""ctypes core of the espeak-ng driver: no numpy, no package imports, runnable as a script.

libespeak-ng keeps state between utterances (echo buffers, glottal phase) that even
``espeak_Terminate``/``espeak_Initialize`` do not reset, so an utterance's samples depend on what was
synthesized before it in the process. For reproducible corpora each utterance is synthesized in a fresh
child process running this file (``python -s _espeak_core.py`` with a JSON request on stdin; the reply
is a JSON header line followed by raw little-endian int16 samples).
"""

import ctypes
import json
import os
import sys

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_END = 5
EVENT_PHONEME = 7
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


class EspeakCore:
    """Load and initialise libespeak-ng; :meth:`synth` -> (int16 bytes, events, sample rate)."""

    def __init__(self):
        import espeakng_loader

        lib = self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path()
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, os.path.dirname(data).encode(),
                                   _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT)
        if sr <= 0:
            raise RuntimeError(f"libespeak-ng failed to initialise with data at {data} (returned {sr})")
        self.sr = int(sr)
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        self._set_seed = getattr(lib, "espeak_ng_SetRandSeed", None)
        if self._set_seed is not None:
            self._set_seed.argtypes = [ctypes.c_long]
        self._libc = ctypes.CDLL(None)
        self._chunks = []
        self._events = []
        self._cb = _CALLBACK(self._callback)
        lib.espeak_SetSynthCallback(self._cb)

    def _callback(self, wav, n, events):
        if n > 0 and wav:
            self._chunks.append(ctypes.string_at(wav, 2 * n))
        i = 0
        while True:
            ev = events[i]
            if ev.type == EVENT_LIST_TERMINATED:
                break
            if ev.type in (EVENT_WORD, EVENT_PHONEME, EVENT_END):
                name = bytes(ev.id.string).split(b"\0", 1)[0].decode("ascii", "replace") if ev.type == EVENT_PHONEME else ""
                self._events.append((int(ev.type), int(ev.text_position), int(ev.length), int(ev.audio_position), name))
            i += 1
        return 0

    def synth(self, text, voice, rand_seed=0):
        """``voice``: dict with name, rate, pitch, pitch_range, volume. Returns (pcm bytes, events)."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice["name"].encode()) != 0:
            raise LookupError(voice["name"])
        for key, value in (("rate", voice["rate"]), ("pitch", voice["pitch"]), ("range", voice["pitch_range"]),
                           ("volume", voice.get("volume", 100)), ("wordgap", 0)):
            lib.espeak_SetParameter(_PARAM[key], int(value), 0)
        seed = int(rand_seed) % (2**31)
        if self._set_seed is not None:
            self._set_seed(seed)
        self._libc.srand(ctypes.c_uint(seed))
        self._chunks, self._events = [], []
        buf = text.encode("utf-8") + b"\0"
        rc = lib.espeak_Synth(buf, len(buf), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if rc != 0:
            raise RuntimeError(f"espeak_Synth failed with code {rc}")
        lib.espeak_Synchronize()
        return b"".join(self._chunks), list(self._events)


def _main():
    req = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    out = sys.stdout.buffer
    try:
        core = EspeakCore()
        pcm, events = core.synth(req["text"], req["voice"], req.get("rand_seed", 0))
        header = {"ok": True, "sr": core.sr, "events": events, "n_bytes": len(pcm)}
    except LookupError as exc:
        header, pcm = {"ok": False, "error": "voice", "message": str(exc)}, b""
    except Exception as exc:  # reported to the parent
        header, pcm = {"ok": False, "error": type(exc).__name__, "message": str(exc)}, b""
    out.write(json.dumps(header).encode() + b"\n")
    out.write(pcm)
    out.flush()


if __name__ == "__main__":
    _main()

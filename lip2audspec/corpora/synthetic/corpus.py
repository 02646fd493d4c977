"""Write a synthetic GRID-format corpus: plan, per-clip generation, corruption, resume, manifest.

Layout under ``out`` (the same as a GRID download unpacked with the ``audio_25k`` audio and per-speaker
alignment folders; see ``docs/synthetic_corpus.md``)::

    s{N}/{id}.mpg                  MPEG-1 video, 360x288, 25 fps, 75 frames
    audio_25k/s{N}/{id}.wav        mono 16-bit 25 kHz, 3 s (75000 samples)
    audio_16k/s{N}/{id}.wav        mono 16-bit 16 kHz (convenience)
    alignments/s{N}/{id}.align     GRID word alignment (1/25000 s units, sil at both ends)
    mouth_params/s{N}/{id}.csv     ground-truth mouth parameters, one row per frame
    manifest.json                  generator version, seed, speakers (voice, appearance), corrupted clips
    .synth_state/s{N}/{id}.done    completion markers (resume)

Every clip is a pure function of (seed, speaker, utterance index, :data:`GENERATOR_VERSION`), so the
corpus does not depend on the worker count or order.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...config import Config
from ...errors import DataError, ParameterError
from ...fileio import atomic_path, quiet_stderr, write_json_atomic, write_text_atomic
from .. import grid
from .speech import ESPEAK_RATE, Voice
from .face import FaceParams, MOUTH_COLUMNS, random_face

__all__ = ["GENERATOR_VERSION", "CorpusConfig", "SpeakerSpec", "speaker_spec", "plan_corpus", "generate_corpus",
           "generate_clip", "VOICE_PRESETS", "CORRUPTION_KINDS", "MOUTH_PARAM_COLUMNS", "read_mouth_params",
           "spoken_text", "load_manifest", "clip_timing", "READABLE_VERSIONS", "WORD_ONSETS", "word_starts"]

log = logging.getLogger(__name__)

#: Bump when the output for a given seed changes. 2.0: stop closures drawn for their acoustic duration,
#: teeth and tongue at small openings, coarticulation with the vowel context, explicit phoneme table,
#: vowel-initial word starts in ``.align`` and ``mouth_params`` labels of the drawn target (issue 14).
GENERATOR_VERSION = "2.0"
#: Generator versions whose corpora this code still reads (same layout and file formats).
READABLE_VERSIONS = ("1.0", "2.0")
SR_25K, SR_16K = 25000, 16000
N_FRAMES, FPS = grid.N_FRAMES, grid.VIDEO_FPS
CLIP_SAMPLES = int(grid.CLIP_SECONDS * SR_25K)
ALIGN_END = 74500  # GRID's alignments end at 74500 (2.98 s)
CORRUPTION_KINDS = ("missing_frames", "frozen_frames", "truncated", "unreadable")
MOUTH_PARAM_COLUMNS = ("frame", "jaw", "spread", "round", "teeth", "tongue") + MOUTH_COLUMNS + (
    "blink", "head_tx", "head_ty", "head_rot_deg", "head_scale", "light_gain", "phoneme", "viseme")
STATE_DIR = ".synth_state"

#: (espeak-ng voice, sex, pitch 0..100, pitch range, rate wpm): clearly different voices.
VOICE_PRESETS = (
    ("en-us+m3", "male", 42, 45, 170),
    ("en-us+f2", "female", 55, 60, 165),
    ("en+m1", "male", 30, 40, 160),
    ("en-gb-scotland+f3", "female", 60, 55, 160),
    ("en-us+m7", "male", 55, 35, 180),
    ("en+f5", "female", 68, 70, 170),
    ("en-029+m4", "male", 45, 60, 175),
    ("en-gb-x-rp+f1", "female", 50, 45, 155),
    ("en-us-nyc+m6", "male", 35, 55, 185),
    ("en-us+f4", "female", 62, 50, 175),
    ("en+m2", "male", 25, 30, 165),
    ("en-gb-x-rp+f3", "female", 72, 65, 160),
)

_LETTER_TEXT = {"a": "eh"}  # espeak reads a lone "A" as the article

#: First characters that the first espeak-ng phoneme of each GRID word (as spoken, see :func:`spoken_text`)
#: can start with. espeak-ng's word event of a vowel-initial word after a consonant-final one falls on
#: that consonant ("in" in "green in" starts at the "n" of green); :func:`word_starts` moves it to the
#: word's own first phoneme.
WORD_ONSETS = {
    "bin": "b", "lay": "l", "place": "p", "set": "s", "blue": "b", "green": "g", "red": "r", "white": "wW",
    "at": "a&@", "by": "b", "in": "Ii", "with": "wW",
    "eh": "eE", "b": "b", "c": "s", "d": "d", "e": "i", "f": "eE", "g": "d", "h": "eE", "i": "aA", "j": "d",
    "k": "k", "l": "eE", "m": "eE", "n": "eE", "o": "oO@", "p": "p", "q": "k", "r": "aAO0", "s": "eE",
    "t": "t", "u": "j", "v": "v", "x": "eE", "y": "w", "z": "z",
    "zero": "z", "one": "w", "two": "t", "three": "T", "four": "f", "five": "f", "six": "s", "seven": "s",
    "eight": "eE", "nine": "n", "again": "a@", "now": "n", "please": "p", "soon": "s",
}


def word_starts(words, phonemes) -> list:
    """Start time (s) of each word: espeak-ng's word event, moved onto the word's own first phoneme.

    Parameters
    ----------
    words : list of (start, end, word)
        espeak-ng word events (``word`` as spoken, e.g. ``"F"``, ``"eh"``).
    phonemes : list of (start, end, phoneme)

    Returns
    -------
    list of float
        For a word whose event already falls on (or, for a stop-initial word, in the closure before) a
        phoneme it can start with (:data:`WORD_ONSETS`), the event time; otherwise the start of the first
        following phoneme (before the next word's event) that it can start with.

    Examples
    --------
    >>> word_starts([(0.0, 0.2, "green"), (0.2, 0.5, "in")],  # "in" event on green's final n
    ...             [(0.0, 0.05, "g"), (0.05, 0.1, "r"), (0.1, 0.2, "'i:"), (0.2, 0.3, "n"), (0.3, 0.35, "I"), (0.35, 0.5, "n")])
    [0.0, 0.3]
    """
    out = []
    for k, (t0, _, word) in enumerate(words):
        onset = WORD_ONSETS.get(word.lower())
        t_next = words[k + 1][0] if k + 1 < len(words) else float("inf")
        start = t0
        if onset:
            cand = [(a, p.lstrip("',%=")) for a, _, p in phonemes if a >= t0 - 0.0005 and a < t_next - 0.0005]
            if cand and not cand[0][1].startswith(tuple(onset)):
                start = next((a for a, q in cand if q.startswith(tuple(onset))), t0)
        out.append(float(start))
    return out


def spoken_text(utt_id: str) -> tuple:
    """Words to give espeak-ng for GRID utterance ``utt_id`` (letters upper-case, 'a' spelled 'eh')."""
    words = list(grid.sentence_from_id(utt_id))
    words[3] = _LETTER_TEXT.get(words[3], words[3].upper())
    return tuple(words)


@dataclass(frozen=True)
class SpeakerSpec(Config):
    """A synthetic speaker: GRID name, voice and appearance."""

    name: str
    sex: str
    voice: Voice
    face: FaceParams

    def __post_init__(self):
        if not isinstance(self.voice, Voice) or not isinstance(self.face, FaceParams):
            raise ParameterError("SpeakerSpec needs a Voice and a FaceParams (or their dicts)")


def speaker_spec(speaker: int, *, seed: int) -> SpeakerSpec:
    """Voice and appearance of speaker number ``speaker`` (1-based) for ``seed``.

    Speakers 1..12 get the 12 voice presets; later speakers reuse them with shifted pitch and rate.
    """
    n = grid.speaker_number(speaker)
    name, sex, pitch, prange, rate = VOICE_PRESETS[(n - 1) % len(VOICE_PRESETS)]
    cycle = (n - 1) // len(VOICE_PRESETS)
    rng = np.random.default_rng([seed, n, 1])
    if cycle:
        pitch = int(np.clip(pitch + rng.integers(-15, 16), 5, 95))
        prange = int(np.clip(prange + rng.integers(-15, 16), 10, 90))
        rate = int(np.clip(rate + rng.integers(-15, 16), 140, 200))
    voice = Voice(name=name, rate=rate, pitch=pitch, pitch_range=prange)
    face_rng = np.random.default_rng([seed, n, 2])
    for _ in range(20):  # keep appearances on which OpenCV's frontal-face Haar cascade finds the face
        face = random_face(face_rng, sex=sex)
        if _haar_detects(face):
            break
    return SpeakerSpec(name=f"s{n}", sex=sex, voice=voice, face=face)


_CASCADE = []


def _haar_detects(face: FaceParams) -> bool:
    import cv2

    from .face import FaceRenderer

    if not _CASCADE:
        _CASCADE.append(cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml"))
    if _CASCADE[0].empty():  # no cascade file: accept every appearance
        return True
    img, _ = FaceRenderer(face).render_frame([0.04, 0.0, 0.0, 0.0, 0.0])
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return len(_CASCADE[0].detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(60, 60))) > 0


@dataclass(frozen=True)
class CorpusConfig(Config):
    """What to generate.

    Parameters
    ----------
    speakers : int
        Number of speakers (``s1`` .. ``s<speakers>``), 1..34 like GRID (up to 200 allowed).
    utterances : int
        Sentences per speaker, 1..1000.
    seed : int
        Master seed (>= 0).
    corrupt_fraction : float
        Fraction of clips (0..1) whose video is damaged like some real GRID clips.
    jpeg_fraction : float
        Fraction of clean clips whose frames go through a JPEG round trip before MPEG-1 encoding.
    """

    speakers: int = 4
    utterances: int = 25
    seed: int = 0
    corrupt_fraction: float = 0.0
    jpeg_fraction: float = 0.5

    def __post_init__(self):
        for name, lo, hi in (("speakers", 1, 200), ("utterances", 1, 1000), ("seed", 0, 2**63 - 1)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
                raise ParameterError(f"{name} must be an integer in [{lo}, {hi}], got {v!r}")
            object.__setattr__(self, name, int(v))
        for name in ("corrupt_fraction", "jpeg_fraction"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
                raise ParameterError(f"{name} must be a number in [0, 1], got {v!r}")
            object.__setattr__(self, name, float(v))



def plan_corpus(config: CorpusConfig) -> dict:
    """The full, deterministic plan of a corpus (this is what ``manifest.json`` holds).

    Returns
    -------
    dict
        ``generator``, ``version``, ``config``, ``format``, ``speakers`` (name -> spec and utterance ids),
        ``corrupted`` (list of {speaker, utt_id, kind, ...}).
    """
    if not isinstance(config, CorpusConfig):
        raise ParameterError(f"config must be a CorpusConfig, got {type(config).__name__}")
    speakers = {}
    clips = []
    for n in range(1, config.speakers + 1):
        spec = speaker_spec(n, seed=config.seed)
        order = np.random.default_rng([config.seed, n, 3]).permutation(grid.N_SENTENCES)[: config.utterances]
        ids = [grid.id_from_index(int(i)) for i in order]
        speakers[spec.name] = {**spec.to_dict(), "utterances": ids}
        clips.extend((spec.name, k, u) for k, u in enumerate(ids))
    corrupted = []
    if config.corrupt_fraction > 0:
        rng = np.random.default_rng([config.seed, 4])
        n_bad = max(1, int(round(config.corrupt_fraction * len(clips))))
        first_kind = int(rng.integers(len(CORRUPTION_KINDS)))
        for j, idx in enumerate(sorted(rng.choice(len(clips), size=n_bad, replace=False).tolist())):
            spk, k, u = clips[idx]
            kind = CORRUPTION_KINDS[(first_kind + j) % len(CORRUPTION_KINDS)]
            entry = {"speaker": spk, "utt_id": u, "index": k, "kind": kind}
            if kind == "missing_frames":
                n_drop = int(rng.integers(5, 31))
                start = int(rng.integers(0, N_FRAMES - n_drop + 1))
                entry.update(dropped=[start, start + n_drop], frames=N_FRAMES - n_drop)
            elif kind == "frozen_frames":
                n_frz = int(rng.integers(8, 21))
                start = int(rng.integers(5, N_FRAMES - n_frz))
                entry.update(frozen=[start, start + n_frz], frames=N_FRAMES)
            elif kind == "truncated":
                entry.update(keep_fraction=round(float(rng.uniform(0.3, 0.7)), 3))
            corrupted.append(entry)
    from ... import __version__

    return {
        "generator": "lip2audspec.corpora.synthetic",
        "version": GENERATOR_VERSION,
        "package_version": __version__,
        "config": config.to_dict(),
        "format": {
            "video": {"path": "s{N}/{id}.mpg", "codec": "MPEG-1", "width": 360, "height": 288, "fps": FPS, "frames": N_FRAMES},
            "audio_25k": {"path": "audio_25k/s{N}/{id}.wav", "sample_rate": SR_25K, "samples": CLIP_SAMPLES, "bits": 16, "channels": 1},
            "audio_16k": {"path": "audio_16k/s{N}/{id}.wav", "sample_rate": SR_16K, "samples": 48000, "bits": 16, "channels": 1},
            "align": {"path": "alignments/s{N}/{id}.align", "time_unit": "1/25000 s"},
            "mouth_params": {"path": "mouth_params/s{N}/{id}.csv", "columns": list(MOUTH_PARAM_COLUMNS)},
        },
        "speakers": speakers,
        "corrupted": corrupted,
    }


def load_manifest(corpus_dir) -> dict:
    """Read ``manifest.json`` of a synthetic corpus."""
    path = Path(corpus_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"no manifest.json in {corpus_dir}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON: {exc}") from exc
    if doc.get("version") not in READABLE_VERSIONS:
        log.warning("%s: generator version %r is not one this code knows (%s); reading it as the same layout",
                    path, doc.get("version"), ", ".join(READABLE_VERSIONS))
    return doc


# ------------------------------------------------------------------------------------------ per-clip work
def _clip_files(out: Path, spk: str, utt: str) -> dict:
    return {
        "video": out / spk / f"{utt}.mpg",
        "audio_25k": out / "audio_25k" / spk / f"{utt}.wav",
        "audio_16k": out / "audio_16k" / spk / f"{utt}.wav",
        "align": out / "alignments" / spk / f"{utt}.align",
        "mouth_params": out / "mouth_params" / spk / f"{utt}.csv",
    }


def _marker(out: Path, spk: str, utt: str) -> Path:
    return out / STATE_DIR / spk / f"{utt}.done"


def clip_complete(out, spk: str, utt: str) -> bool:
    """True if the clip's completion marker exists and every file it lists has the recorded size."""
    out = Path(out)
    m = _marker(out, spk, utt)
    try:
        sizes = json.loads(m.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    files = _clip_files(out, spk, utt)
    try:
        return set(sizes) == set(files) and all(files[k].stat().st_size == v for k, v in sizes.items())
    except OSError:
        return False


def _smooth_walk(rng, n, amp, n_waves=3):
    t = np.arange(n) / FPS
    y = np.zeros(n)
    for _ in range(n_waves):
        y += rng.uniform(0.3, 1.0) * np.sin(2 * math.pi * rng.uniform(0.08, 0.6) * t + rng.uniform(0, 2 * math.pi))
    return amp * y / n_waves


def _blinks(rng, n):
    b = np.zeros(n)
    t = rng.uniform(-1.0, 1.5)
    while True:
        t += rng.uniform(1.2, 3.5)
        if t >= n / FPS:
            break
        c = t * FPS
        half = rng.uniform(1.8, 3.0)
        k = np.arange(n)
        b = np.maximum(b, np.clip(1 - np.abs(k - c) / half, 0, 1) ** 0.7)
    return b


def _synth(spec: SpeakerSpec, utt: str, rng) -> tuple:
    """Synthesize a sentence that fits: returns (utterance, rate used)."""
    from .speech import synthesize

    text = " ".join(spoken_text(utt))
    rate = int(np.clip(spec.voice.rate + rng.integers(-10, 11), 120, 260))
    rand_seed = int(rng.integers(1, 2**31 - 1))
    for _ in range(8):
        voice = Voice(name=spec.voice.name, rate=rate, pitch=spec.voice.pitch, pitch_range=spec.voice.pitch_range)
        u = synthesize(text, voice=voice, rand_seed=rand_seed)
        if len(u.words) != 6:
            raise DataError(f"espeak-ng gave {len(u.words)} word events for {text!r}, expected 6")
        if _speech_span(u)[1] <= 2.2:
            return u, rate
        rate = int(rate * 1.12)
    raise DataError(f"could not fit {text!r} into 2.2 s with voice {spec.voice.name}")


def _speech_span(u) -> tuple:
    """(start, end) in seconds of the spoken part (pauses '_' excluded)."""
    ph = [p for p in u.phonemes if not p[2].lstrip("'',").startswith("_")]
    return (ph[0][0], ph[-1][1]) if ph else (0.0, u.duration)


_RENDERERS: dict = {}


def _renderer(face: FaceParams):
    from .face import FaceRenderer

    key = json.dumps(face.to_dict(), sort_keys=True)
    r = _RENDERERS.get(key)
    if r is None:
        if len(_RENDERERS) > 8:
            _RENDERERS.clear()
        r = _RENDERERS[key] = FaceRenderer(face)
    return r


def _speech_part(spec: SpeakerSpec, utt_id: str, rng) -> tuple:
    """Speech of a clip: (utterance, rate, offset = clip time of the utterance's t = 0, audio 25 kHz, audio 16 kHz)."""
    from ...auditory.io import resample

    u, rate = _synth(spec, utt_id, rng)
    s0, s1 = _speech_span(u)
    lead = float(rng.uniform(0.5, 0.9))
    lead = min(lead, 2.8 - (s1 - s0))
    offset = lead - s0  # clip time of the utterance's t = 0
    x = u.audio
    peak = np.max(np.abs(x)) or 1.0
    x = x / peak * rng.uniform(0.45, 0.7)
    n22 = int(grid.CLIP_SECONDS * ESPEAK_RATE)
    buf = np.zeros(n22)
    i0 = int(round(offset * ESPEAK_RATE))
    src0 = max(0, -i0)
    seg = x[src0: src0 + n22 - max(i0, 0)]
    buf[max(i0, 0): max(i0, 0) + seg.shape[0]] = seg
    a25 = resample(buf, sr_in=ESPEAK_RATE, sr_out=SR_25K)[:CLIP_SAMPLES]
    a25 = np.pad(a25, (0, CLIP_SAMPLES - a25.shape[0]))
    a25 = a25 + rng.normal(0, 10 ** (-58 / 20) * rng.uniform(0.5, 2), a25.shape[0])  # recording noise floor
    a25 = np.clip(a25, -0.99, 0.99)
    a16 = resample(a25, sr_in=SR_25K, sr_out=SR_16K)

    return u, rate, offset, a25, a16


def clip_timing(spec: SpeakerSpec, utt_id: str, *, index: int, seed: int) -> tuple:
    """espeak-ng's timing of a clip as :func:`generate_clip` draws it: ``(utterance, offset)``.

    ``utterance.phonemes`` and ``utterance.words`` are in utterance time; add ``offset`` for clip time.
    Re-synthesizes the speech (deterministic), so tests can check the files against espeak's own timing.
    """
    rng = np.random.default_rng([seed, grid.speaker_number(spec.name), int(index), 5])
    u, _, offset, _, _ = _speech_part(spec, utt_id, rng)
    return u, offset


def generate_clip(out, *, spec: SpeakerSpec, utt_id: str, index: int, seed: int, corruption: dict | None = None,
                  jpeg_fraction: float = 0.5) -> dict:
    """Generate and write all files of one clip; the completion marker is written last.

    Parameters
    ----------
    out : str or Path
        Corpus root.
    spec : SpeakerSpec
    utt_id : str
        GRID utterance id.
    index : int
        Utterance index within the speaker (seeds the clip's randomness with ``seed`` and the speaker).
    seed : int
    corruption : dict, optional
        An entry of the plan's ``corrupted`` list.
    jpeg_fraction : float
        Probability that this clip's frames get a JPEG round trip.

    Returns
    -------
    dict
        Stage timings in seconds: ``speech``, ``render``, ``write``.
    """
    import cv2

    from ...auditory.io import write_wav
    from .visemes import viseme_track

    out = Path(out)
    spk = spec.name
    n_spk = grid.speaker_number(spk)
    rng = np.random.default_rng([seed, n_spk, int(index), 5])
    files = _clip_files(out, spk, utt_id)
    marker = _marker(out, spk, utt_id)
    marker.unlink(missing_ok=True)
    t0 = time.perf_counter()

    # ---- speech: one source of truth for all timings
    u, rate, offset, a25, a16 = _speech_part(spec, utt_id, rng)
    s0, s1 = _speech_span(u)

    # word alignment (10 ms resolution like GRID's HTK alignments)
    def units(t):
        return int(round((t + offset) * 100)) * 250

    words = grid.sentence_from_id(utt_id)
    starts = [units(max(t, s0)) for t in word_starts(u.words, u.phonemes)]
    ends = starts[1:] + [units(s1)]
    rows = [(0, starts[0], "sil")]
    for w, a, b in zip(words, starts, ends):
        rows.append((a, max(b, a + 250), w))
    rows.append((rows[-1][1], max(ALIGN_END, rows[-1][1]), "sil"))
    t_speech = time.perf_counter() - t0

    # ---- visual track
    t1 = time.perf_counter()
    face = spec.face
    track, labels = viseme_track(u.phonemes, n_frames=N_FRAMES, fps=FPS, offset=offset, strength=face.articulation,
                                 anticipation=float(rng.uniform(0.04, 0.055)), audio=u.audio, sr=u.sr, return_labels=True)
    blink = _blinks(rng, N_FRAMES)
    tx = rng.uniform(-4, 4) + _smooth_walk(rng, N_FRAMES, 3.0)
    ty = rng.uniform(-3, 3) + _smooth_walk(rng, N_FRAMES, 2.0)
    rot = rng.uniform(-2, 2) + _smooth_walk(rng, N_FRAMES, 1.5)
    scale = rng.uniform(0.96, 1.04) + _smooth_walk(rng, N_FRAMES, 0.015)
    gain = rng.uniform(0.85, 1.12) * (1 + _smooth_walk(rng, N_FRAMES, 0.05))
    if rng.random() < 0.3:  # a light flicker / exposure step
        k = int(rng.integers(10, N_FRAMES - 10))
        gain[k:] *= rng.uniform(0.92, 1.08)
    noise_sd = float(rng.uniform(1.5, 4.5))
    jpeg_q = int(rng.integers(40, 91)) if rng.random() < jpeg_fraction else 0
    H, W = 288, 360
    gx = np.linspace(-1, 1, W, dtype=np.float32)
    gy = np.linspace(-1, 1, H, dtype=np.float32)
    lg = rng.uniform(-0.1, 0.1, size=2).astype(np.float32)
    light_map = (1 + lg[0] * gx[None, :] + lg[1] * gy[:, None])[..., None].astype(np.float32)
    light_map = np.repeat(light_map, 3, axis=2)
    renderer = _renderer(face)
    cx, cy = face.face_cx, face.face_cy + face.face_hh * 0.2
    cv2.setRNGSeed(int(np.random.default_rng([seed, n_spk, int(index), 6]).integers(1, 2**31 - 1)))
    noise = np.empty((H, W, 3), np.float32)
    frames, geoms = [], []
    for k in range(N_FRAMES):
        A = cv2.getRotationMatrix2D((cx, cy), float(rot[k]), float(scale[k]))
        A[0, 2] += tx[k]
        A[1, 2] += ty[k]
        img, geom = renderer.render_frame(track[k], blink=float(blink[k]), affine=A)
        img = cv2.GaussianBlur(img, (3, 3), 0.6)
        f = cv2.multiply(img.astype(np.float32), light_map, scale=float(gain[k]))
        cv2.randn(noise, 0.0, noise_sd)
        f += noise
        img = np.clip(f, 0, 255).astype(np.uint8)
        if jpeg_q:
            ok, enc = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, jpeg_q])
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR)
        frames.append(img)
        geoms.append(geom)
    t_render = time.perf_counter() - t1

    # ---- write (atomic per file, marker last)
    t2 = time.perf_counter()
    write_wav(files["audio_25k"], a25, sr=SR_25K)
    write_wav(files["audio_16k"], a16, sr=SR_16K)
    grid.write_align(files["align"], rows)
    buf_csv = io.StringIO()
    wr = csv.writer(buf_csv, lineterminator="\n")
    wr.writerow(MOUTH_PARAM_COLUMNS)
    for k in range(N_FRAMES):
        g = geoms[k]
        wr.writerow([k] + [f"{v:.4f}" for v in track[k]] + [f"{v:.2f}" for v in g]
                    + [f"{blink[k]:.3f}", f"{tx[k]:.2f}", f"{ty[k]:.2f}", f"{rot[k]:.3f}", f"{scale[k]:.4f}", f"{gain[k]:.4f}",
                       labels[k][0], labels[k][1]])
    write_text_atomic(files["mouth_params"], buf_csv.getvalue())
    _write_video(files["video"], frames, corruption, rng)
    sizes = {k: p.stat().st_size for k, p in files.items()}
    write_text_atomic(marker, json.dumps(sizes, sort_keys=True))
    t_write = time.perf_counter() - t2
    return {"speech": t_speech, "render": t_render, "write": t_write, "rate": rate}




def _write_video(path: Path, frames: list, corruption: dict | None, rng) -> None:
    import cv2

    kind = corruption["kind"] if corruption else None
    if kind == "missing_frames":
        a, b = corruption["dropped"]
        frames = frames[:a] + frames[b:]
    elif kind == "frozen_frames":
        a, b = corruption["frozen"]
        frames = frames[:a] + [frames[a]] * (b - a) + frames[b:]
    with atomic_path(path) as tmp:
        with quiet_stderr():  # FFmpeg warns "tag 'PIM1' is not supported" for the .mpg container; harmless
            wr = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"PIM1"), FPS, (360, 288))
        if not wr.isOpened():
            raise DataError(f"OpenCV cannot open an MPEG-1 writer for {tmp}")
        for f in frames:
            wr.write(f)
        wr.release()
        if kind == "truncated":
            data = tmp.read_bytes()
            tmp.write_bytes(data[: int(len(data) * corruption["keep_fraction"])])
        elif kind == "unreadable":
            n = tmp.stat().st_size
            crng = np.random.default_rng([int(rng.integers(2**31)), 7])
            junk = crng.integers(0, 256, size=n, dtype=np.uint8)
            junk[junk == 0] = 1  # no MPEG start codes (00 00 01)
            tmp.write_bytes(junk.tobytes())


# ------------------------------------------------------------------------------------------ driver
def _worker_init():
    import cv2

    cv2.setNumThreads(1)
    cv2.setLogLevel(2) if hasattr(cv2, "setLogLevel") else None


def _run_clip(job):
    out, spec_d, utt, k, seed, corruption, jpeg_fraction = job
    stats = generate_clip(out, spec=SpeakerSpec.from_dict(spec_d), utt_id=utt, index=k, seed=seed,
                          corruption=corruption, jpeg_fraction=jpeg_fraction)
    return utt, stats


@dataclass
class CorpusReport:
    """What :func:`generate_corpus` did."""

    out: Path
    n_clips: int
    generated: list = field(default_factory=list)  # (speaker, utt_id)
    skipped: list = field(default_factory=list)
    seconds: float = 0.0
    stage_seconds: dict = field(default_factory=dict)

    @property
    def clips_per_second(self) -> float:
        return len(self.generated) / self.seconds if self.seconds > 0 else float("nan")


def generate_corpus(out, *, speakers: int = 4, utterances: int = 25, seed: int = 0, corrupt_fraction: float = 0.0,
                    jpeg_fraction: float = 0.5, workers: int = 1, progress: bool = True) -> CorpusReport:
    """Generate (or resume) a synthetic GRID-format corpus in ``out``.

    Parameters
    ----------
    out : str or Path
        Corpus root folder (created).
    speakers, utterances, seed, corrupt_fraction, jpeg_fraction
        See :class:`CorpusConfig`.
    workers : int
        Processes (1 = in this process). Output does not depend on it.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    CorpusReport

    Raises
    ------
    ParameterError
        ``out`` already holds a corpus made with other settings or another generator version.
    """
    config = CorpusConfig(speakers=speakers, utterances=utterances, seed=seed, corrupt_fraction=corrupt_fraction,
                          jpeg_fraction=jpeg_fraction)
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or not 1 <= workers <= 256:
        raise ParameterError(f"workers must be an integer in [1, 256], got {workers!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plan = plan_corpus(config)
    mpath = out / "manifest.json"
    if mpath.is_file():
        old = load_manifest(out)
        if old.get("version") != plan["version"] or old.get("config") != plan["config"]:
            raise ParameterError(f"{out} holds a corpus made with version {old.get('version')} and settings {old.get('config')}; "
                                 f"requested version {plan['version']} with {plan['config']}. Use another --out or the same options.")
        extra = {k: old[k] for k in ("visual_ceiling",) if k in old}  # added by synth-grid --ceiling: kept
        if {k: v for k, v in old.items() if k not in extra} != plan:
            write_json_atomic(mpath, {**plan, **extra})
    else:
        write_json_atomic(mpath, plan)
    bad = {(c["speaker"], c["utt_id"]): c for c in plan["corrupted"]}
    jobs, report = [], CorpusReport(out=out, n_clips=0)
    for spk, sd in plan["speakers"].items():
        spec_d = {k: sd[k] for k in ("name", "sex", "voice", "face")}
        for k, utt in enumerate(sd["utterances"]):
            report.n_clips += 1
            if clip_complete(out, spk, utt):
                report.skipped.append((spk, utt))
            else:
                jobs.append((str(out), spec_d, utt, k, config.seed, bad.get((spk, utt)), config.jpeg_fraction))
    from tqdm.auto import tqdm

    stage = {"speech": 0.0, "render": 0.0, "write": 0.0}
    t0 = time.perf_counter()
    bar = tqdm(total=len(jobs), desc="synth-grid", unit="clip", disable=not progress or not jobs)
    try:
        if workers == 1 or len(jobs) <= 1:
            _worker_init()
            for job in jobs:
                _, st = _run_clip(job)
                report.generated.append((job[1]["name"], job[2]))
                for s in stage:
                    stage[s] += st[s]
                bar.update()
        else:
            import multiprocessing as mp

            # forkserver/spawn: forking a parent that already runs OpenCV or tqdm threads can deadlock
            ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
            with ProcessPoolExecutor(max_workers=int(workers), mp_context=ctx, initializer=_worker_init) as ex:
                futs = {ex.submit(_run_clip, job): job for job in jobs}
                for fut in as_completed(futs):
                    job = futs[fut]
                    _, st = fut.result()
                    report.generated.append((job[1]["name"], job[2]))
                    for s in stage:
                        stage[s] += st[s]
                    bar.update()
    finally:
        bar.close()
    report.seconds = time.perf_counter() - t0
    report.stage_seconds = stage
    report.generated.sort(key=lambda c: (grid.speaker_number(c[0]), c[1]))
    log.info("synth-grid: %d clips generated, %d already complete, %.1f s", len(report.generated), len(report.skipped), report.seconds)
    return report


def read_mouth_params(path) -> dict:
    """Read a ``mouth_params`` CSV -> dict of column -> ndarray (numeric) or list (phoneme, viseme)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no mouth-parameter file at {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or tuple(rows[0]) != MOUTH_PARAM_COLUMNS:
        raise DataError(f"{path}: header must be {','.join(MOUTH_PARAM_COLUMNS)}")
    cols = list(zip(*rows[1:])) if len(rows) > 1 else [()] * len(MOUTH_PARAM_COLUMNS)
    outd = {}
    for name, vals in zip(MOUTH_PARAM_COLUMNS, cols):
        outd[name] = list(vals) if name in ("phoneme", "viseme") else np.asarray(vals, dtype=np.float64)
    return outd

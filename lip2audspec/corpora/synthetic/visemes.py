"""Phonemes -> visemes -> a smooth per-frame mouth-parameter track (closures, coarticulation, dynamics).

espeak-ng phoneme mnemonics are mapped many-to-one onto viseme classes, as in lip reading (p/b/m look
alike, f/v alike, t/d/n/l alike, ...); every mnemonic espeak-ng produces for the GRID vocabulary with the
corpus voices is listed in :data:`PHONEME_VISEMES`, and an unlisted one is logged by name (see
:func:`phoneme_viseme`). Each class has articulatory targets:

========  =====================================================================
jaw       lip aperture, 0 (lips meeting) .. 1 (wide open); a negative target compresses the lips
spread    lip spreading / width, -1 (narrow) .. 1 (wide smile)
round     lip rounding / protrusion, 0 .. 1
teeth     teeth shown: 0..0.85 upper teeth band (0.85 = full band), above 0.85 the lower teeth as well
tongue    tongue: body at open vowels, tip under the upper teeth (about 0.35..0.7, t/d/n/l) or
          between the teeth (1, th)
========  =====================================================================

The track is built in four steps (:func:`articulation`):

1. **Segments.** Every phoneme event ``(start, end)`` of espeak-ng is a segment with its class's
   target (a closing diphthong, :data:`DIPHTHONG_GLIDES`, is two: nucleus, then off-glide). espeak-ng's event for a stop (p b t d k g) marks the *release* after a consonant: the closure
   is the silent end of the previous phoneme ("bin blue": 0-35 ms at the end of the n); after a vowel, a
   voiced stop's event is itself the closure (a voice bar, 55-58 ms at 6+ dB below both neighbours),
   released at its end. :func:`closure_intervals` finds both from the audio (silence: below
   ``peak - 40 dB`` in 2 ms steps), and draws p/b closed for at least ``min_closure`` = 70 ms (the
   acoustic silence underestimates closures that are voiced or nasal), taking at most 65 % of a previous
   consonant or 40 % of a previous vowel. The closure gets the stop's target (for p/b
   a lip *compression* target, jaw -0.35, so the lips meet within ~30 ms and stay closed); the stop's own
   event is the release, whose target is the next segment's (release shapes follow). Nasals are closed for
   their whole event (m), and a pause before a stop is closed for the stop's closure length.
2. **Coarticulation.** A consonant's target is blended with its vowel context, parameter by parameter:
   ``target = r * own + (1 - r) * context``, where ``r`` (:data:`RESISTANCE`, 0..1) is how strongly the
   consonant controls that parameter (lips closed for p/b/m, teeth for f/v/s/z, rounding for sh/r/w) and
   ``context = 0.7 * next vowel + 0.3 * previous vowel`` (within the phrase: a pause ends the context).
   So rounding spreads from rounded vowels onto the neighbouring consonants ("two", "blue", "soon"), the
   jaw of k/g/h follows the vowel, and a consonant between open vowels is more open than between close
   ones (a low-resistance version of Cohen & Massaro's dominance model, 1993, with the anticipatory side
   weighted as in English).
3. **Timing.** Segment targets are laid on a 1 ms grid advanced by ``anticipation`` (the articulators
   lead the sound); a closure ends exactly at the acoustic release. A critically damped second-order
   system (time constant ``tau``) moves the articulators towards the targets (carry-over).
4. **Exposure.** The 1 ms track is averaged over each video frame's interval ``[k/fps, (k+1)/fps)``.

Per-frame labels (:func:`articulation`) are the segment whose target is active at the frame centre, so
the phoneme named in ``mouth_params`` is the one the drawn mouth is moving to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError

__all__ = ["PARAMS", "VISEME_TARGETS", "RESISTANCE", "PHONEME_VISEMES", "Segment", "phoneme_viseme", "viseme_track",
           "viseme_sequence", "closure_intervals", "segments", "articulation", "frame_average", "STOPS", "BILABIALS", "DIPHTHONG_GLIDES"]

log = logging.getLogger(__name__)

#: Names of the columns of a mouth-parameter track.
PARAMS = ("jaw", "spread", "round", "teeth", "tongue")

#: viseme class -> (jaw, spread, round, teeth, tongue)
VISEME_TARGETS = {
    "sil": (0.00, 0.0, 0.0, 0.0, 0.0),    # rest: lips together
    "PBM": (-0.35, 0.0, 0.05, 0.0, 0.0),  # bilabial closure: lips pressed together (clipped at 0 = meeting)
    "FV": (0.18, -0.05, 0.0, 0.85, 0.0),  # lower lip tucked under the upper teeth: teeth band, no gap
    "TH": (0.26, 0.1, 0.0, 0.6, 1.0),     # dental: tongue tip between the teeth
    "TDNL": (0.26, 0.2, 0.0, 0.5, 0.6),   # alveolar: tongue tip behind the upper teeth
    "SZ": (0.24, 0.6, 0.0, 1.0, 0.0),     # sibilants: spread lips, both rows of teeth close together
    "SH": (0.24, -0.3, 0.65, 1.0, 0.0),   # postalveolar, lips protruded, teeth together
    "KG": (0.32, 0.1, 0.0, 0.3, 0.1),     # velar / glottal (jaw follows the vowel: low resistance)
    "R": (0.20, -0.3, 0.55, 0.3, 0.0),
    "WU": (0.14, -0.75, 1.0, 0.0, 0.0),   # w, u:, U: rounded and narrow
    "AA": (1.00, 0.15, 0.0, 0.35, 0.25),  # open vowels
    "AE": (0.72, 0.45, 0.0, 0.5, 0.2),    # front open-mid
    "IY": (0.34, 0.85, 0.0, 0.8, 0.1),    # close front, spread
    "OW": (0.62, -0.45, 0.75, 0.2, 0.1),  # back rounded
    "AH": (0.50, 0.1, 0.0, 0.3, 0.15),    # central / schwa
    "ER": (0.36, -0.1, 0.35, 0.3, 0.0),
}

#: Coarticulation resistance per class and parameter (see the module docstring); vowels and silence keep
#: their own targets (1).
RESISTANCE = {
    "PBM": (1.0, 0.3, 0.2, 1.0, 0.3),
    "FV": (0.9, 0.8, 0.3, 1.0, 1.0),
    "TH": (0.8, 0.5, 0.3, 1.0, 1.0),
    "TDNL": (0.5, 0.4, 0.3, 0.8, 1.0),
    "SZ": (0.9, 0.8, 0.4, 1.0, 1.0),
    "SH": (0.7, 0.9, 0.9, 1.0, 1.0),
    "KG": (0.3, 0.2, 0.2, 0.3, 0.5),
    "R": (0.6, 0.8, 0.8, 0.8, 1.0),
    "WU": (1.0, 1.0, 1.0, 1.0, 1.0),
}
_VOWEL_CLASSES = ("AA", "AE", "IY", "OW", "AH", "ER", "WU")

#: Every espeak-ng phoneme mnemonic (stress marks removed) that the corpus voices produce for the GRID
#: vocabulary, and a few close relatives -> viseme class. ``j`` (yod) and ``;`` (espeak-ng's palatal
#: link between ``i:`` and a vowel, as in "E eight") look like a spread close front vowel.
PHONEME_VISEMES = {
    # pauses
    "_": "sil", "_:": "sil", "_!": "sil", "_|": "sil", "_^_": "sil", "||": "sil", "|": "sil",
    # consonants
    "p": "PBM", "b": "PBM", "m": "PBM",
    "f": "FV", "v": "FV",
    "T": "TH", "D": "TH",
    "t": "TDNL", "d": "TDNL", "n": "TDNL", "l": "TDNL", "t#": "TDNL", "d#": "TDNL", "n-": "TDNL", "l-": "TDNL",
    "t[": "TDNL", "d[": "TDNL", "@L": "TDNL", "L": "TDNL", "t2": "TDNL", "d2": "TDNL", "l/": "TDNL", "l#": "TDNL",
    "s": "SZ", "z": "SZ",
    "S": "SH", "Z": "SH", "tS": "SH", "dZ": "SH",
    "k": "KG", "g": "KG", "N": "KG", "h": "KG", "x": "KG", "?": "KG",
    "j": "IY", ";": "IY",
    "r": "R", "r-": "R", "R": "R", "r/": "R", "*": "R",
    "w": "WU", "W": "WU", "w#": "WU",
    # vowels
    "a": "AE", "a#": "AH", "aI": "AA", "aI2": "AA", "aI@": "AA", "aU": "AA", "A": "AA", "A:": "AA", "A@": "AA",
    "A#": "AA", "0": "OW", "e": "AE", "e@": "AE", "eI": "AE", "E": "AE", "E2": "AE", "E@": "AE",
    "i": "IY", "i:": "IY", "i@": "IY", "i@3": "IY", "I": "IY", "I2": "IY", "I#": "IY",
    "o": "OW", "o@": "OW", "oU": "OW", "oU#": "OW", "O": "OW", "O:": "OW", "O@": "OW", "OI": "OW",
    "u": "WU", "u:": "WU", "U": "WU", "U@": "WU", "V": "AH", "@": "AH", "@2": "AH", "@5": "AH", "3": "ER", "3:": "ER",
    "@r": "ER", "a2": "AH", "&": "AE",
}
_WARNED: set = set()

#: Closing diphthongs: the viseme of the off-glide, drawn over the last 40 % of the vowel (eI ends spread
#: and closer like I, aU and oU end rounded like U).
DIPHTHONG_GLIDES = {"aI": "IY", "aI2": "IY", "eI": "IY", "OI": "IY", "aU": "WU", "oU": "WU", "oU#": "WU", "@U": "WU"}

#: Stops, whose espeak-ng event marks the release (closure = end of the previous phoneme).
STOPS = frozenset({"p", "b", "t", "d", "k", "g", "t#", "d#", "t[", "d[", "t2", "d2"})
#: Bilabial phonemes (the lips meet).
BILABIALS = frozenset({"p", "b", "m"})


def _base(phoneme: str) -> str:
    return phoneme.lstrip("',%=")


def phoneme_viseme(phoneme: str) -> str:
    """Viseme class of an espeak-ng phoneme mnemonic (stress marks ``'``, ``,``, ``%``, ``=`` ignored).

    Every mnemonic of :data:`PHONEME_VISEMES` maps explicitly; another one is looked up without its
    variant suffix (``#``, ``-``, ``2``, ``:``, ...) and, failing that, a warning naming the phoneme is
    logged once and ``"?"`` is returned: :func:`articulation` then holds the previous target over it
    (no invented mouth shape).

    Examples
    --------
    >>> [phoneme_viseme(p) for p in ("b", "m", "'aI", "f", "v", "_:", "'u:", ";")]
    ['PBM', 'PBM', 'AA', 'FV', 'FV', 'sil', 'WU', 'IY']
    """
    if not isinstance(phoneme, str):
        raise ParameterError(f"phoneme must be a string, got {phoneme!r}")
    p = _base(phoneme)
    if not p:
        return "sil"
    cls = PHONEME_VISEMES.get(p)
    if cls is None and p[0] == "_":
        cls = "sil"
    if cls is None:
        stripped = p.rstrip("#-:;/2[3")
        cls = PHONEME_VISEMES.get(stripped) if stripped else None
    if cls is None:
        if p not in _WARNED:
            _WARNED.add(p)
            log.warning("espeak-ng phoneme %r has no viseme mapping; holding the previous mouth target over it", p)
        return "?"
    return cls


def viseme_sequence(phonemes) -> list:
    """``(start, end, phoneme)`` -> ``(start, end, viseme)``."""
    return [(float(a), float(b), phoneme_viseme(p)) for a, b, p in phonemes]


@dataclass(frozen=True)
class Segment:
    """One stretch of the articulatory plan (utterance time, seconds).

    ``kind``: ``"phoneme"`` (a phoneme event, a stop's being its release), ``"closure"`` (a stop's closure,
    carved out of the end of the previous phoneme).
    """

    start: float
    end: float
    phoneme: str
    viseme: str
    kind: str = "phoneme"


def _low_energy_run(audio, sr, t_end, t_min, *, rel_db=-40.0, step=0.002):
    """Seconds of audio below ``peak + rel_db`` (RMS in ``step`` windows) ending at ``t_end`` (not before ``t_min``)."""
    hop = max(1, int(round(step * sr)))
    peak = float(np.max(np.abs(audio))) or 1.0
    thr = peak * 10 ** (rel_db / 20)
    j = int(round(t_end * sr))
    j_min = int(round(t_min * sr))
    run = 0
    while j - hop >= j_min:
        seg = audio[j - hop: j]
        if seg.size == 0 or np.sqrt(np.mean(seg * seg)) > thr:
            break
        run += 1
        j -= hop
    return run * hop / sr


def closure_intervals(phonemes, *, audio=None, sr: int | None = None, min_closure: float = 0.07,
                      min_closure_other: float = 0.0, max_fraction: float = 0.65, max_fraction_vowel: float = 0.4) -> list:
    """Closure intervals of the stops and bilabial nasals of an utterance.

    Parameters
    ----------
    phonemes : list of (start, end, phoneme)
        espeak-ng phoneme events (seconds).
    audio : ndarray, shape (n,), optional
        The utterance's waveform (same time axis): the acoustic closure is its silent run before the stop's
        event, or the event itself when it is a voice bar. Without it only the minimum durations are used
        (and a voiced stop of 40 ms or more after a vowel counts as a voice bar).
    sr : int
        Sample rate of ``audio``.
    min_closure, min_closure_other : float
        Shortest closure (s) drawn for p/b and for t/d/k/g.
    max_fraction, max_fraction_vowel : float
        Largest part of the previous phoneme (consonant, vowel) a closure may take (unless it is a pause).

    Returns
    -------
    list of (start, release, phoneme, index)
        ``index``: position of the stop in ``phonemes``; ``release`` is the stop event's start, or its end
        for a voice bar. For ``m`` the interval is its own event.

    Examples
    --------
    >>> closure_intervals([(0.0, 0.2, "'a"), (0.2, 0.23, "b"), (0.23, 0.4, "a")])
    [(0.13, 0.2, 'b', 1)]
    """
    if audio is not None and (sr is None or not sr > 0):
        raise ParameterError(f"sr must be a positive sample rate when audio is given, got {sr!r}")
    x = np.asarray(audio, np.float64) if audio is not None else None
    peak = (float(np.max(np.abs(x))) or 1.0) if x is not None and x.size else 1.0

    def level(t0, t1):
        seg = x[int(round(t0 * sr)): int(round(t1 * sr))]
        return 20 * np.log10(np.sqrt(np.mean(seg * seg)) / peak + 1e-9) if seg.size else -200.0

    out = []
    for i, (a, b, p) in enumerate(phonemes):
        a, b = float(a), float(b)
        q = _base(p)
        if q == "m":
            out.append((a, b, q, i))
            continue
        if q not in STOPS:
            continue
        dur_min = min_closure if q in BILABIALS else min_closure_other
        pa, pb, pp = phonemes[i - 1] if i > 0 else (a - dur_min, a, "_")
        pa = float(pa)
        pause = phoneme_viseme(pp) == "sil"
        vowel = phoneme_viseme(pp) in _VOWEL_CLASSES and _base(pp) not in ("w", "W", "w#")
        # a voiced stop after a voiced sound: espeak-ng's event is the voice bar (the closure), released at its end
        voice_bar = False
        if q in ("b", "d", "g") and not pause and i + 1 < len(phonemes) and b - a >= 0.04:
            if x is not None:
                voice_bar = level(a, b) <= min(level(pa, a), level(b, float(phonemes[i + 1][1]))) - 6.0
            else:
                voice_bar = vowel
        release = b if voice_bar else a
        acoustic = _low_energy_run(x, sr, a, pa) if x is not None else 0.0
        start = a - acoustic
        if release - start < dur_min:
            start = release - dur_min
            if not pause:
                start = max(start, a - (max_fraction_vowel if vowel else max_fraction) * (a - pa))
        out.append((round(max(start, pa), 6), release, q, i))
    return out


def segments(phonemes, *, audio=None, sr: int | None = None) -> list:
    """The articulatory plan: phoneme segments with stop closures carved out (see the module docstring).

    Returns
    -------
    list of Segment, sorted by start (utterance time).
    """
    closures = {i: (c0, c1) for c0, c1, q, i in closure_intervals(phonemes, audio=audio, sr=sr) if q != "m"}
    segs = []
    for i, (a, b, p) in enumerate(phonemes):
        a, b = float(a), float(b)
        nxt = closures.get(i + 1)
        if nxt is not None and nxt[0] < b:  # the next stop's closure takes the end of this phoneme
            b = nxt[0]
        cl = closures.get(i)
        if cl is not None:
            segs.append(Segment(cl[0], cl[1], _base(p), phoneme_viseme(p), "closure"))
        glide = DIPHTHONG_GLIDES.get(_base(p))
        if glide and b > a:  # closing diphthong: nucleus, then the off-glide over its last 40 %
            m = a + 0.6 * (b - a)
            segs.append(Segment(a, m, _base(p), phoneme_viseme(p), "phoneme"))
            segs.append(Segment(m, b, _base(p), glide, "phoneme"))
        elif b > a:  # a nasal's event is its closure (it ends at the acoustic release, like a stop's)
            segs.append(Segment(a, b, _base(p), phoneme_viseme(p), "closure" if _base(p) == "m" else "phoneme"))
    return segs


def _targets(segs, strength):
    """Coarticulated target vector per segment (see the module docstring)."""
    n = len(segs)
    own = [np.array(VISEME_TARGETS.get(s.viseme, VISEME_TARGETS["sil"]), np.float64) for s in segs]
    out = []
    for i, s in enumerate(segs):
        t = own[i].copy()
        if s.kind == "phoneme" and s.phoneme in STOPS and i + 1 < n and segs[i + 1].viseme not in ("sil", "?"):
            # the release: moving to the next segment's shape
            t = None
        elif s.viseme in RESISTANCE and s.viseme != "WU":
            ctx = []
            for step, w in ((1, 0.7), (-1, 0.3)):
                j = i + step
                while 0 <= j < n and segs[j].viseme not in _VOWEL_CLASSES and segs[j].viseme != "sil":
                    j += step
                if 0 <= j < n and segs[j].viseme in _VOWEL_CLASSES:
                    ctx.append((w, own[j]))
            if ctx:
                wsum = sum(w for w, _ in ctx)
                context = sum(w * v for w, v in ctx) / wsum
                r = np.array(RESISTANCE[s.viseme])
                t = r * t + (1 - r) * context
        out.append(t)
    for i in range(n - 1, -1, -1):  # releases take the (coarticulated) target of what follows
        if out[i] is None:
            out[i] = out[i + 1] if i + 1 < n and out[i + 1] is not None else own[i]
    res = []
    for s, t in zip(segs, out):
        t = t.copy()
        t[0] *= strength
        t[1:3] *= min(strength, 1.25)
        res.append(t)
    return res


def articulation(phonemes, *, duration: float, offset: float = 0.0, anticipation: float = 0.035, tau: float = 0.018,
                 strength: float = 1.0, audio=None, sr: int | None = None, res: int = 1000) -> tuple:
    """Articulator track on a ``1/res`` s grid, with the label of the active target at each step.

    Parameters
    ----------
    phonemes : list of (start, end, phoneme)
        Times in seconds relative to the utterance; shifted by ``offset`` onto the clip's time axis.
    duration : float
        Length of the clip (s).
    offset, anticipation, tau, strength
        See :func:`viseme_track`.
    audio, sr
        The utterance's waveform (utterance time) for the acoustic closures (:func:`closure_intervals`).
    res : int
        Grid rate (Hz).

    Returns
    -------
    track : ndarray, float64, shape (round(duration * res), 5)
        Columns :data:`PARAMS` (jaw clipped at 0: lips meeting).
    labels : list of (phoneme, viseme), one per grid step (``("sil", "sil")`` outside speech)
    """
    if not duration > 0 or not tau > 0 or anticipation < 0 or not res > 0:
        raise ParameterError(f"need duration > 0, tau > 0, anticipation >= 0, res > 0; got duration={duration}, "
                             f"tau={tau}, anticipation={anticipation}, res={res}")
    n = int(round(duration * res))
    segs = segments(phonemes, audio=audio, sr=sr)
    tg = _targets(segs, strength)
    rest = np.array(VISEME_TARGETS["sil"], np.float64)
    target = np.tile(rest, (n, 1))
    lab = np.full(n, -1, np.int64)
    prev_t = rest
    held = []
    for k, (s, t) in enumerate(zip(segs, tg)):
        if s.viseme == "?":
            t = prev_t  # unknown phoneme: hold the previous target (warned in phoneme_viseme)
        prev_t = t
        held.append(t)
    # phonemes first, closures on top: a closure holds until the acoustic release
    for k in sorted(range(len(segs)), key=lambda j: segs[j].kind == "closure"):
        s = segs[k]
        end = s.end + offset if s.kind == "closure" else s.end + offset - anticipation
        i0 = max(int(round((s.start + offset - anticipation) * res)), 0)
        i1 = min(int(round(end * res)), n)
        if i1 <= i0:
            continue
        target[i0:i1] = held[k]
        lab[i0:i1] = k
    # critically damped 2nd-order system: x'' = (u - x) / tau^2 - 2 x' / tau (semi-implicit Euler)
    dt = 1.0 / res
    x = np.empty_like(target)
    pos = rest.copy()
    vel = np.zeros(5)
    k1, k2 = dt / tau**2, 2 * dt / tau
    for i in range(n):
        vel += k1 * (target[i] - pos) - k2 * vel
        pos = pos + dt * vel
        x[i] = pos
    x[:, 0] = np.clip(x[:, 0], 0.0, None)
    x[:, 2:] = np.clip(x[:, 2:], 0.0, 1.0)
    labels = [("sil", "sil") if j < 0 else (segs[j].phoneme, segs[j].viseme) for j in lab.tolist()]
    return x, labels


def frame_average(track, *, n_frames: int, fps: float, res: int = 1000) -> np.ndarray:
    """Mean of a ``1/res`` s track over each frame's interval ``[k/fps, (k+1)/fps)`` -> shape (n_frames, d)."""
    edges = np.round(np.arange(n_frames + 1) * res / fps).astype(int)
    edges = np.clip(edges, 0, len(track))
    cs = np.vstack([np.zeros((1, track.shape[1])), np.cumsum(track, axis=0)])
    return (cs[edges[1:]] - cs[edges[:-1]]) / np.maximum(np.diff(edges), 1)[:, None]


def viseme_track(phonemes, *, n_frames: int, fps: float = 25.0, offset: float = 0.0, anticipation: float = 0.035,
                 tau: float = 0.018, strength: float = 1.0, audio=None, sr: int | None = None,
                 return_labels: bool = False):
    """Per-frame mouth parameters from phoneme timings.

    Parameters
    ----------
    phonemes : list of (start, end, phoneme)
        Times in seconds relative to the utterance; shifted by ``offset`` onto the clip's time axis.
    n_frames : int
        Number of video frames.
    fps : float
    offset : float
        Clip time (s) of the utterance's t = 0 (its leading silence).
    anticipation : float
        Seconds by which the articulators lead the sound (closures excepted: they end at the release).
    tau : float
        Time constant (s) of the critically damped articulator dynamics (carry-over).
    strength : float
        Speaker's articulation scale for jaw opening and lip shapes (1 = as in the table).
    audio, sr : optional
        The utterance's waveform and rate, for the stops' acoustic closure durations.
    return_labels : bool
        Also return the ``(phoneme, viseme)`` whose target is active at each frame centre.

    Returns
    -------
    ndarray, float64, shape (n_frames, 5)
        Columns :data:`PARAMS`; each value is the mean over the frame's interval ``[k/fps, (k+1)/fps)``.
        With ``return_labels``: ``(track, labels)``.

    Examples
    --------
    >>> ph = [(0.0, 0.1, "b"), (0.1, 0.4, "'A:"), (0.4, 0.5, "_:")]
    >>> viseme_track(ph, n_frames=50, offset=0.5).shape
    (50, 5)
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames <= 0:
        raise ParameterError(f"n_frames must be a positive integer, got {n_frames!r}")
    if not fps > 0 or not tau > 0 or anticipation < 0:
        raise ParameterError(f"need fps > 0, tau > 0, anticipation >= 0; got fps={fps}, tau={tau}, anticipation={anticipation}")
    res = 1000
    x, labels = articulation(phonemes, duration=n_frames / fps, offset=offset, anticipation=anticipation, tau=tau,
                             strength=strength, audio=audio, sr=sr, res=res)
    track = frame_average(x, n_frames=int(n_frames), fps=fps, res=res)
    if not return_labels:
        return track
    centres = np.minimum(((np.arange(n_frames) + 0.5) / fps * res).astype(int), len(labels) - 1)
    return track, [labels[i] for i in centres]

"""Phonemes -> visemes -> a smooth per-frame mouth-parameter track (with coarticulation).

espeak-ng phoneme mnemonics are mapped many-to-one onto viseme classes, as in lip reading (p/b/m look
alike, f/v alike, t/d/n/l alike, ...). Each class has articulatory targets:

========  =====================================================================
jaw       mouth opening, 0 (lips closed) .. 1 (wide open)
spread    lip spreading / width, -1 (narrow) .. 1 (wide smile)
round     lip rounding / protrusion, 0 .. 1
teeth     upper-teeth visibility, 0 .. 1
tongue    tongue visibility, 0 .. 1
========  =====================================================================

Targets are laid out on a 1 ms grid, advanced by an anticipation interval, passed through a critically
damped second-order system (carry-over), then averaged over each video frame's exposure interval
``[k/fps, (k+1)/fps)``, so audio and lips share one time base.
"""

from __future__ import annotations

import numpy as np

from ...errors import ParameterError

__all__ = ["PARAMS", "VISEME_TARGETS", "phoneme_viseme", "viseme_track", "viseme_sequence"]

#: Names of the columns of a mouth-parameter track.
PARAMS = ("jaw", "spread", "round", "teeth", "tongue")

#: viseme class -> (jaw, spread, round, teeth, tongue)
VISEME_TARGETS = {
    "sil": (0.04, 0.0, 0.0, 0.0, 0.0),   # rest: lips lightly together
    "PBM": (0.00, 0.0, 0.05, 0.0, 0.0),  # bilabial closure
    "FV": (0.10, 0.1, 0.0, 1.0, 0.0),    # lower lip under the upper teeth
    "TH": (0.22, 0.1, 0.0, 0.8, 1.0),    # dental, tongue tip between the teeth
    "TDNL": (0.22, 0.2, 0.0, 0.6, 0.35),  # alveolar
    "SZ": (0.12, 0.45, 0.0, 1.0, 0.0),   # sibilants, teeth together
    "SH": (0.20, -0.3, 0.65, 0.8, 0.0),  # postalveolar, lips protruded
    "KG": (0.32, 0.1, 0.0, 0.3, 0.1),    # velar / glottal: jaw follows the vowel
    "R": (0.20, -0.3, 0.55, 0.3, 0.0),
    "WU": (0.14, -0.75, 1.0, 0.0, 0.0),  # w, u:, U: rounded and narrow
    "AA": (1.00, 0.15, 0.0, 0.35, 0.25),  # open vowels
    "AE": (0.72, 0.45, 0.0, 0.5, 0.2),   # front open-mid
    "IY": (0.34, 0.85, 0.0, 0.8, 0.1),   # close front, spread
    "OW": (0.62, -0.45, 0.75, 0.2, 0.1),  # back rounded
    "AH": (0.50, 0.1, 0.0, 0.3, 0.15),   # central / schwa
    "ER": (0.36, -0.1, 0.35, 0.3, 0.0),
}

_CONSONANTS = {
    "p": "PBM", "b": "PBM", "m": "PBM",
    "f": "FV", "v": "FV",
    "T": "TH", "D": "TH",
    "t": "TDNL", "d": "TDNL", "n": "TDNL", "l": "TDNL", "t#": "TDNL", "d#": "TDNL", "n-": "TDNL", "l-": "TDNL",
    "@L": "TDNL", "L": "TDNL",
    "s": "SZ", "z": "SZ",
    "S": "SH", "Z": "SH", "tS": "SH", "dZ": "SH",
    "k": "KG", "g": "KG", "N": "KG", "h": "KG", "x": "KG", "?": "KG", "j": "IY",
    "r": "R", "r-": "R", "R": "R",
    "w": "WU", "W": "WU",
}
# vowels by their first character(s)
_VOWELS = [
    ("aI", "AA"), ("aU", "AA"), ("a#", "AH"), ("a", "AE"), ("A", "AA"), ("0", "OW"),
    ("eI", "AE"), ("e@", "AE"), ("e", "AE"), ("E", "AE"), ("i@", "IY"), ("i", "IY"), ("I", "IY"),
    ("oU", "OW"), ("OI", "OW"), ("O", "OW"), ("o", "OW"), ("u", "WU"), ("U", "WU"), ("V", "AH"),
    ("3", "ER"), ("@", "AH"),
]


def phoneme_viseme(phoneme: str) -> str:
    """Viseme class of an espeak-ng phoneme mnemonic (stress marks ``'`` and ``,`` ignored).

    Examples
    --------
    >>> [phoneme_viseme(p) for p in ("b", "m", "'aI", "f", "v", "_:", "'u:")]
    ['PBM', 'PBM', 'AA', 'FV', 'FV', 'sil', 'WU']
    """
    if not isinstance(phoneme, str):
        raise ParameterError(f"phoneme must be a string, got {phoneme!r}")
    p = phoneme.lstrip("',%=")
    if not p or p[0] in "_|":
        return "sil"
    if p in _CONSONANTS:
        return _CONSONANTS[p]
    for prefix, cls in _VOWELS:
        if p.startswith(prefix):
            return cls
    base = p.rstrip("#-:;/")
    return _CONSONANTS.get(base, _CONSONANTS.get(base[:1], "AH"))


def viseme_sequence(phonemes) -> list:
    """``(start, end, phoneme)`` -> ``(start, end, viseme)``."""
    return [(float(a), float(b), phoneme_viseme(p)) for a, b, p in phonemes]


def viseme_track(phonemes, *, n_frames: int, fps: float = 25.0, offset: float = 0.0, anticipation: float = 0.035,
                 tau: float = 0.018, strength: float = 1.0) -> np.ndarray:
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
        Seconds by which the articulators lead the sound (coarticulation with the next segment).
    tau : float
        Time constant (s) of the critically damped articulator dynamics (carry-over).
    strength : float
        Speaker's articulation scale for jaw opening and lip shapes (1 = as in the table).

    Returns
    -------
    ndarray, float64, shape (n_frames, 5)
        Columns :data:`PARAMS`; each value is the mean over the frame's interval ``[k/fps, (k+1)/fps)``.
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, (int, np.integer)) or n_frames <= 0:
        raise ParameterError(f"n_frames must be a positive integer, got {n_frames!r}")
    if not fps > 0 or not tau > 0 or anticipation < 0:
        raise ParameterError(f"need fps > 0, tau > 0, anticipation >= 0; got fps={fps}, tau={tau}, anticipation={anticipation}")
    res = 1000  # Hz
    n = int(round(n_frames / fps * res))
    rest = np.array(VISEME_TARGETS["sil"])
    target = np.tile(rest, (n, 1))
    weight = np.zeros(n)
    for a, b, p in phonemes:
        cls = phoneme_viseme(p)
        i0 = int(round((a + offset - anticipation) * res))
        i1 = int(round((b + offset - anticipation) * res))
        i0, i1 = max(i0, 0), min(i1, n)
        if i1 <= i0:
            continue
        target[i0:i1] = VISEME_TARGETS[cls]
        weight[i0:i1] = 1.0
    target[:, 0] *= strength
    target[:, 1:3] *= min(strength, 1.25)
    # critically damped 2nd-order system: x'' = (u - x) / tau^2 - 2 x' / tau (semi-implicit Euler)
    dt = 1.0 / res
    x = np.empty_like(target)
    pos = rest.copy() * np.array([strength, 1, 1, 1, 1])
    vel = np.zeros(5)
    k1, k2 = dt / tau**2, 2 * dt / tau
    for i in range(n):
        vel += k1 * (target[i] - pos) - k2 * vel
        pos = pos + dt * vel
        x[i] = pos
    x[:, 0] = np.clip(x[:, 0], 0.0, None)
    x[:, 2:] = np.clip(x[:, 2:], 0.0, 1.0)
    # exposure integration: mean over each frame's interval
    edges = np.round(np.arange(n_frames + 1) * res / fps).astype(int)
    cs = np.vstack([np.zeros((1, 5)), np.cumsum(x, axis=0)])
    return (cs[edges[1:]] - cs[edges[:-1]]) / np.diff(edges)[:, None]

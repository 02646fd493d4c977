"""Objective intelligibility and quality of reconstructed speech: STOI, ESTOI (pystoi) and PESQ (pesq).

All four take a clean reference ``ref`` and a degraded/reconstructed signal ``deg`` at the same rate
``sr`` (any positive integer rate; each metric resamples to what it needs):

=============  ==========================================================================================
:func:`stoi`   Short-Time Objective Intelligibility (Taal et al. 2011), 0..1. pystoi resamples to 10 kHz.
:func:`estoi`  Extended STOI (Jensen & Taal 2016), 0..1; less forgiving of distortions STOI saturates on.
:func:`pesq_nb`  PESQ narrow-band, ITU-T P.862 (+P.862.1 MOS-LQO mapping), on audio resampled to **8 kHz**;
               about -0.5 .. 4.55.
:func:`pesq_wb`  PESQ wide-band, ITU-T P.862.2, on audio resampled to **16 kHz**; about -0.5 .. 4.64.
=============  ==========================================================================================

Input handling (identical for all four):

* both signals must be 1-D, non-empty, finite; the reference must not be silent (:class:`ParameterError`
  otherwise). ``sr`` must be a positive integer.
* ``deg`` is trimmed or zero-padded at the end to the length of ``ref`` (the reconstruction of a clip can
  differ from the original by a frame or so). No time alignment beyond that is done (PESQ aligns
  internally; STOI assumes aligned signals, which holds for ``aud2wav`` output).
* **Scale and polarity.** ``aud2wav`` output has an arbitrary gain and sign. STOI/ESTOI work on
  magnitude spectra and normalise the degraded energy per segment, so they ignore gain and polarity;
  PESQ level-aligns both signals to a fixed internal level and compares power spectra. To keep the
  numbers independent of the absolute level anyway (PESQ's silence/utterance detection and its
  clipping of very loud input are level dependent), both signals are first scaled to the same RMS
  (:data:`TARGET_RMS`, about -26 dBFS). A silent ``deg`` is left at zero.
* PESQ raises ``NoUtterancesError`` when it finds no speech in one of the signals (e.g. a reconstruction
  that is silence or pure noise; an all-zero ``deg`` is caught before calling PESQ). That is a property of the *result*, not a bad call, so
  :func:`pesq_nb`/:func:`pesq_wb` then log a warning and return ``float('nan')``; aggregate with
  ``numpy.nanmean`` and report the count of NaNs. Signals shorter than PESQ's minimum (about 0.25 s)
  raise :class:`ParameterError`.
* **Determinism.** pystoi's ESTOI dithers its normalisations with ``1e-8 * np.random.standard_normal``
  from numpy's *global* generator, which made ESTOI differ in the last digits from call to call;
  :func:`estoi` draws that dither from a fixed seed (:data:`ESTOI_DITHER_SEED`) and restores the global
  state afterwards, so every metric here is a pure function of its input (not thread-safe with other
  users of the global numpy generator).
"""

from __future__ import annotations

import contextlib
import logging
import math

import numpy as np

from ..errors import ParameterError

__all__ = ["ESTOI_DITHER_SEED", "TARGET_RMS", "stoi", "estoi", "pesq_nb", "pesq_wb", "intelligibility_metrics", "prepare_pair"]

log = logging.getLogger(__name__)

#: RMS both signals are scaled to before scoring (-26 dBFS, the customary P.56 speech level).
TARGET_RMS = 10 ** (-26 / 20)


def _check_sr(sr) -> int:
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
    return int(sr)


def _as_signal(x, name: str) -> np.ndarray:
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{name} must be a numeric 1-D array: {exc}") from None
    if x.ndim != 1 or x.size == 0:
        raise ParameterError(f"{name} must be a non-empty 1-D array (mono audio), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError(f"{name} contains NaN or infinite samples")
    return x


def _rms_normalise(x: np.ndarray) -> np.ndarray:
    r = float(np.sqrt(np.mean(x * x)))
    return x * (TARGET_RMS / r) if r > 0 else x


def prepare_pair(ref, deg, *, sr, sr_out: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Validate, length-match (trim/zero-pad ``deg`` to ``ref``), RMS-normalise and optionally resample.

    Returns
    -------
    (ref, deg) : float64 arrays of equal length, at ``sr_out`` (default ``sr``).
    """
    from ..auditory.io import resample

    sr = _check_sr(sr)
    ref = _as_signal(ref, "ref")
    deg = _as_signal(deg, "deg")
    if not np.any(ref):
        raise ParameterError("ref is silent (all zeros); intelligibility metrics need a speech reference")
    n = ref.size
    deg = deg[:n] if deg.size >= n else np.concatenate([deg, np.zeros(n - deg.size)])
    ref, deg = _rms_normalise(ref), _rms_normalise(deg)
    if sr_out is not None and sr_out != sr:
        ref = resample(ref, sr_in=sr, sr_out=sr_out)
        deg = resample(deg, sr_in=sr, sr_out=sr_out)
    return ref, deg


#: seed of the global numpy generator while pystoi's ESTOI draws its 1e-8 dither (see the module notes)
ESTOI_DITHER_SEED = 0


@contextlib.contextmanager
def _seeded_global_rng(seed: int):
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def _stoi(ref, deg, sr, extended: bool) -> float:
    from pystoi import stoi as _pystoi

    ref, deg = prepare_pair(ref, deg, sr=sr)
    with _seeded_global_rng(ESTOI_DITHER_SEED):
        return float(_pystoi(ref, deg, int(sr), extended=extended))


def stoi(ref, deg, *, sr: int) -> float:
    """STOI of ``deg`` against ``ref`` (both at ``sr`` Hz); 1 for identical signals. See the module notes."""
    return _stoi(ref, deg, sr, False)


def estoi(ref, deg, *, sr: int) -> float:
    """Extended STOI of ``deg`` against ``ref`` (both at ``sr`` Hz); 1 for identical signals."""
    return _stoi(ref, deg, sr, True)


def _pesq(ref, deg, sr, fs: int, mode: str) -> float:
    from pesq import BufferTooShortError, NoUtterancesError, PesqError
    from pesq import pesq as _pesq_fn

    ref, deg = prepare_pair(ref, deg, sr=sr, sr_out=fs)
    if not np.any(deg):  # the C code fails with a NaN conversion error on an all-zero signal
        log.warning("PESQ-%s: degraded signal is silent (no utterance); returning NaN", mode.upper())
        return math.nan
    # PESQ's C code clips at 16-bit full scale: keep within [-1, 1] after normalisation (peaks of speech at
    # -26 dBFS RMS rarely exceed 0 dBFS, but a reconstruction with spikes could).
    peak = max(np.max(np.abs(ref)), np.max(np.abs(deg)))
    if peak > 1:
        ref, deg = ref / peak, deg / peak
    try:
        return float(_pesq_fn(fs, ref.astype(np.float32), deg.astype(np.float32), mode))
    except NoUtterancesError as exc:
        log.warning("PESQ-%s: no utterance detected (%s); returning NaN", mode.upper(), exc)
        return math.nan
    except BufferTooShortError as exc:
        raise ParameterError(f"signal too short for PESQ ({ref.size / fs:.3f} s at {fs} Hz): {exc}") from None
    except PesqError as exc:  # pragma: no cover - other internal PESQ failures
        log.warning("PESQ-%s failed (%s: %s); returning NaN", mode.upper(), type(exc).__name__, exc)
        return math.nan


def pesq_nb(ref, deg, *, sr: int) -> float:
    """Narrow-band PESQ (P.862 + P.862.1 mapping) at **8 kHz**; NaN (with a warning) if no utterance found."""
    return _pesq(ref, deg, sr, 8000, "nb")


def pesq_wb(ref, deg, *, sr: int) -> float:
    """Wide-band PESQ (P.862.2) at **16 kHz**; NaN (with a warning) if no utterance found.

    ``sr`` below 16 kHz is upsampled, which adds no bandwidth; prefer :func:`pesq_nb` then.
    """
    return _pesq(ref, deg, sr, 16000, "wb")


def intelligibility_metrics(ref, deg, *, sr: int) -> dict:
    """All four metrics as ``{"stoi", "estoi", "pesq_nb", "pesq_wb"}`` (floats; PESQ may be NaN)."""
    return {"stoi": stoi(ref, deg, sr=sr), "estoi": estoi(ref, deg, sr=sr),
            "pesq_nb": pesq_nb(ref, deg, sr=sr), "pesq_wb": pesq_wb(ref, deg, sr=sr)}

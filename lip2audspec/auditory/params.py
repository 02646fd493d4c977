"""Auditory-spectrogram parameters (NSL's ``paras = [frame_ms, tc_ms, fac, shift]``) and input checks."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..errors import ParameterError
from .filterbank import N_CHANNELS

__all__ = ["AuditoryParams", "SUPPORTED_SHIFTS", "as_signal", "as_spectrogram"]

#: octave shifts with tested parity: 16, 8 and 4 kHz
SUPPORTED_SHIFTS = (0, -1, -2)


def _matlab_round(v: float) -> int:
    """MATLAB ``round`` (halves away from zero) for v >= 0; Python's ``round`` rounds halves to even."""
    return int(math.floor(v + 0.5))


def _is_real_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


@dataclass(frozen=True)
class AuditoryParams(Config):
    """Parameters of ``wav2aud`` / ``aud2wav``, validated on creation.

    Parameters
    ----------
    frame_ms : float
        Frame length in ms (frames do not overlap); the frame length in samples is
        ``round(frame_ms * 2**(4 + shift))``. Lip2AudSpec: 10.
    tc_ms : float
        Leaky-integration time constant in ms; 0 averages each frame instead. Lip2AudSpec: 10.
    fac : float
        Hair-cell nonlinearity: > 0 sigmoid ``1 / (1 + exp(-y / fac))``; 0 step ``y > 0``; -1 half-wave
        ``max(y, 0)``; any other value linear (-2 also skips the hair-cell membrane low-pass).
        Lip2AudSpec: -2.
    shift : int
        Octave shift; the sample rate is ``16000 * 2**shift`` (0: 16 kHz, -1: 8 kHz, -2: 4 kHz).

    Examples
    --------
    >>> p = AuditoryParams()            # the Lip2AudSpec setting [10 10 -2 0]
    >>> p.sr, p.frame_len, p.to_nsl()
    (16000, 160, [10.0, 10.0, -2.0, 0])
    """

    frame_ms: float = 10.0
    tc_ms: float = 10.0
    fac: float = -2.0
    shift: int = 0

    def __post_init__(self):
        for name in ("frame_ms", "tc_ms", "fac"):
            v = getattr(self, name)
            if not _is_real_number(v) or not math.isfinite(float(v)):
                raise ParameterError(f"{name} must be a finite real number, got {v!r}")
            object.__setattr__(self, name, float(v))
        if isinstance(self.shift, bool) or not isinstance(self.shift, numbers.Integral):
            raise ParameterError(f"shift must be an integer octave shift in {SUPPORTED_SHIFTS}, got {self.shift!r}")
        object.__setattr__(self, "shift", int(self.shift))
        if self.shift not in SUPPORTED_SHIFTS:
            raise ParameterError(
                f"unsupported shift {self.shift}: expected one of {SUPPORTED_SHIFTS} "
                "(sample rates 16000, 8000, 4000 Hz)"
            )
        if self.frame_ms <= 0:
            raise ParameterError(f"frame_ms must be > 0 ms, got {self.frame_ms}")
        if self.tc_ms < 0:
            raise ParameterError(f"tc_ms must be >= 0 ms (0 = frame mean), got {self.tc_ms}")
        if self.frame_len < 1:
            raise ParameterError(
                f"frame_ms={self.frame_ms} is shorter than one sample at {self.sr} Hz; expected >= {1000 / self.sr:g} ms"
            )

    @property
    def sr(self) -> int:
        """Sample rate in Hz implied by ``shift``."""
        return int(16000 * 2**self.shift) if self.shift >= 0 else 16000 // 2 ** (-self.shift)

    @property
    def samples_per_ms(self) -> float:
        return 2.0 ** (4 + self.shift)

    @property
    def frame_len(self) -> int:
        """Frame length in samples: MATLAB ``round(frame_ms * 2^(4 + shift))``."""
        return _matlab_round(self.frame_ms * self.samples_per_ms)

    @property
    def alpha(self) -> float:
        """Leaky-integration coefficient ``exp(-1 / (tc_ms * 2^(4+shift)))``; 0 when tc_ms == 0."""
        return math.exp(-1.0 / (self.tc_ms * self.samples_per_ms)) if self.tc_ms else 0.0

    @property
    def beta(self) -> float:
        """Hair-cell membrane low-pass coefficient (time constant 0.5 ms)."""
        return math.exp(-1.0 / (0.5 * self.samples_per_ms))

    @property
    def frame_rate(self) -> float:
        """Spectrogram frames per second."""
        return self.sr / self.frame_len

    def to_nsl(self) -> list:
        """NSL's ``paras`` vector ``[frame_ms, tc_ms, fac, shift]``."""
        return [self.frame_ms, self.tc_ms, self.fac, self.shift]

    def n_frames(self, n_samples: int) -> int:
        """Frames wav2aud produces for ``n_samples`` input samples: ``ceil(n / frame_len)``."""
        return -(-int(n_samples) // self.frame_len)


def _check_numeric(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind in "c":
        raise ParameterError(f"{what} must be real-valued, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "iuf":
        raise ParameterError(f"{what} must be a real numeric array (int or float), got dtype {arr.dtype}")


def as_signal(x, params: AuditoryParams) -> np.ndarray:
    """Validate a waveform (n,) or batch (B, n) and return it as a float64 2-D array (B, n)."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists etc.
        raise ParameterError(f"audio must be array-like numbers: {exc}") from exc
    _check_numeric(arr, "audio")
    if arr.ndim not in (1, 2):
        raise ParameterError(f"audio must be 1-D (samples,) or 2-D (batch, samples), got {arr.ndim}-D shape {arr.shape}")
    arr2 = np.ascontiguousarray(np.atleast_2d(arr), dtype=np.float64)
    if arr2.shape[-1] == 0 or arr2.shape[0] == 0:
        raise ParameterError(f"audio is empty (shape {arr.shape}); expected at least one frame of {params.frame_len} samples")
    if arr2.shape[-1] < params.frame_len:
        raise ParameterError(
            f"audio has {arr2.shape[-1]} samples, shorter than one frame ({params.frame_len} samples = "
            f"{params.frame_ms:g} ms at {params.sr} Hz)"
        )
    if not np.all(np.isfinite(arr2)):
        raise ParameterError("audio contains NaN or infinite samples")
    return arr2


def as_spectrogram(spec) -> np.ndarray:
    """Validate an auditory spectrogram (N, 128) and return it as float64."""
    try:
        arr = np.asarray(spec)
    except Exception as exc:
        raise ParameterError(f"spectrogram must be array-like numbers: {exc}") from exc
    _check_numeric(arr, "spectrogram")
    if arr.ndim != 2 or arr.shape[1] != N_CHANNELS:
        raise ParameterError(f"spectrogram must have shape (frames, {N_CHANNELS}), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ParameterError("spectrogram has no frames")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ParameterError("spectrogram contains NaN or infinite values")
    if np.any(arr < 0):
        raise ParameterError(
            f"spectrogram has negative values (min {arr.min():.3g}); auditory spectrograms are >= 0 "
            "(undo any log or mean/std normalisation first)"
        )
    return arr

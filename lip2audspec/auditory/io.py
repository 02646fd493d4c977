"""Audio I/O: read any wav (any rate, any channel count), resample, write 16-bit wav atomically."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal
from scipy.io import wavfile

from ..errors import DataError, ParameterError
from ..fileio import atomic_path

__all__ = ["sample_rate_for_shift", "read_wav", "write_wav", "resample", "load_audio", "peak_normalize"]


def sample_rate_for_shift(shift: int) -> int:
    """Sample rate (Hz) that NSL's octave ``shift`` implies: ``16000 * 2**shift``.

    Examples
    --------
    >>> sample_rate_for_shift(0), sample_rate_for_shift(-1)
    (16000, 8000)
    """
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise ParameterError(f"shift must be an integer octave shift, got {shift!r}")
    return int(round(16000 * 2.0 ** int(shift)))


def resample(x, *, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample along the last axis with a polyphase filter (``scipy.signal.resample_poly``).

    Parameters
    ----------
    x : array_like, shape (..., n)
    sr_in, sr_out : int
        Input and output sample rates in Hz.

    Returns
    -------
    ndarray, float64, shape (..., round(n * sr_out / sr_in))
    """
    for name, v in (("sr_in", sr_in), ("sr_out", sr_out)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
            raise ParameterError(f"{name} must be a positive integer sample rate in Hz, got {v!r}")
    x = np.asarray(x, dtype=np.float64)
    if sr_in == sr_out:
        return x.copy()
    ratio = Fraction(int(sr_out), int(sr_in))
    y = signal.resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)
    n_out = int(round(x.shape[-1] * sr_out / sr_in))
    return np.ascontiguousarray(y[..., :n_out])


def read_wav(path, *, sr: int | None = None, mono: bool = True) -> tuple[np.ndarray, int]:
    """Read a wav file as float64 in [-1, 1].

    Parameters
    ----------
    path : str or Path
    sr : int, optional
        Resample to this rate (Hz). Default: keep the file's rate.
    mono : bool
        Average channels to one (default). Otherwise return shape (channels, n).

    Returns
    -------
    x : ndarray, shape (n,) or (channels, n)
    sr : int
        The rate of ``x``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataError
        The file is not a readable wav, is empty, or holds NaN/inf samples.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such audio file: {path}")
    try:
        file_sr, data = wavfile.read(path)
    except Exception as exc:  # scipy raises ValueError/EOFError/... on corrupt headers
        raise DataError(f"cannot read wav file {path}: {exc}") from exc
    data = np.asarray(data)
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        x = data.astype(np.float64) / float(2 ** (8 * data.dtype.itemsize - 1))
    else:
        x = data.astype(np.float64)
    if x.size == 0:
        raise DataError(f"wav file {path} holds no samples")
    if not np.all(np.isfinite(x)):
        raise DataError(f"wav file {path} holds NaN or infinite samples")
    x = x.T if x.ndim == 2 else x[np.newaxis]  # (channels, n)
    if mono:
        x = x.mean(axis=0)
    if sr is not None and sr != file_sr:
        x = resample(x, sr_in=int(file_sr), sr_out=sr)
        file_sr = sr
    return x, int(file_sr)


def load_audio(path, *, shift: int = 0) -> np.ndarray:
    """Read a wav as mono float64 at the rate NSL's ``shift`` implies (16 kHz for shift 0)."""
    x, _ = read_wav(path, sr=sample_rate_for_shift(shift))
    return x


def peak_normalize(x, *, peak: float = 0.99) -> np.ndarray:
    """Scale ``x`` so that its largest absolute sample is ``peak`` (silence is returned unchanged).

    ``aud2wav`` output has an arbitrary scale; this is how it is brought to a playable level.
    """
    x = np.asarray(x, dtype=np.float64)
    top = np.max(np.abs(x)) if x.size else 0.0
    return x * (peak / top) if top > 0 else x.copy()


def write_wav(path, x, *, sr: int, normalize: bool = False) -> Path:
    """Write mono or multi-channel audio as 16-bit PCM wav, atomically.

    Parameters
    ----------
    path : str or Path
    x : array_like, shape (n,) or (channels, n)
        Float samples in [-1, 1] (clipped), or int16.
    sr : int
        Sample rate in Hz.
    normalize : bool
        Scale float input so its peak is 0.99 first (useful for ``aud2wav`` output, whose scale is
        arbitrary).

    Returns
    -------
    Path
    """
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise ParameterError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
    x = np.asarray(x)
    if x.ndim not in (1, 2) or x.size == 0:
        raise ParameterError(f"audio must be a non-empty 1-D (n,) or 2-D (channels, n) array, got shape {x.shape}")
    if x.dtype != np.int16:
        x = np.asarray(x, dtype=np.float64)
        if not np.all(np.isfinite(x)):
            raise ParameterError("audio holds NaN or infinite samples; cannot write a wav")
        if normalize:
            x = peak_normalize(x)
        x = np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype(np.int16)
    data = x.T if x.ndim == 2 else x
    path = Path(path)
    with atomic_path(path, suffix=".wav") as tmp:
        wavfile.write(tmp, int(sr), np.ascontiguousarray(data))
    return path

"""``wav2aud``: the NSL auditory spectrogram (wav2aud.m v2.10), fast and faithful.

Stages per channel, as in the toolbox: cochlear IIR filter (COCHBA) -> hair cell (``fac``) -> membrane
low-pass (unless linear, fac = -2) -> lateral inhibition against the next-higher channel and half-wave
rectification -> leaky integration (``tc_ms``) sampled at the end of each frame (or the frame mean when
``tc_ms == 0``). Reference: NSL Auditory-Cortical MATLAB Toolbox, Neural Systems Laboratory, University
of Maryland (T. Chi, P. Ru, S. A. Shamma); used by Lip2AudSpec (Akbari et al., ICASSP 2018) at
``[10 10 -2 0]``.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from . import _kernels
from .filterbank import N_CHANNELS
from .params import AuditoryParams, as_signal

__all__ = ["wav2aud", "cochlear_response"]


def _run_forward(x: np.ndarray, params: AuditoryParams, n_frames: int) -> np.ndarray:
    B, A, border, _ = _kernels.block_coefficients()
    out = np.empty((n_frames, N_CHANNELS))
    _kernels.wav2aud_kernel(
        x, B, A, border, _kernels.haircell_mode(params.fac), params.fac, params.fac != -2,
        params.beta, params.alpha, params.frame_len, out,
    )
    return out


def wav2aud(x, *, frame_ms: float = 10, tc_ms: float = 10, fac: float = -2, shift: int = 0) -> np.ndarray:
    """Auditory spectrogram of a waveform (NSL ``wav2aud``).

    Parameters
    ----------
    x : array_like, shape (n,) or (B, n)
        Waveform(s) at ``16000 * 2**shift`` Hz (nothing is resampled; see
        :func:`lip2audspec.auditory.load_audio`). Integer input is used as is (not scaled).
    frame_ms : float
        Frame length in ms (default 10, Lip2AudSpec).
    tc_ms : float
        Leaky-integration time constant in ms (default 10); 0 = frame mean.
    fac : float
        Hair-cell nonlinearity (default -2, linear): > 0 sigmoid, 0 step, -1 half-wave, other linear.
    shift : int
        Octave shift: 0 (16 kHz, default), -1 (8 kHz), -2 (4 kHz).

    Returns
    -------
    ndarray, float64, shape (N, 128) or (B, N, 128)
        ``N = ceil(n / frame_len)`` frames, channels low to high frequency
        (CF = ``440 * 2**((k - 31)/24 + shift)`` Hz, k = 1..128).

    Raises
    ------
    ParameterError
        Non-numeric or complex input, NaN/inf, fewer samples than one frame, more than 2 dimensions,
        unsupported ``shift``, negative ``tc_ms``.

    Notes
    -----
    Reproduces the toolbox exactly, quirks included: the input is zero-padded to ``N * frame_len``
    and then its **last sample is set to 0** (MATLAB's ``x(N * L_frm) = 0``), even when no padding
    was needed. Matches the toolbox's outputs to ~1e-10 relative (tests/test_auditory_parity.py).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(16000) / 16000
    >>> wav2aud(np.sin(2 * np.pi * 1000 * t)).shape
    (100, 128)
    """
    params = AuditoryParams(frame_ms=frame_ms, tc_ms=tc_ms, fac=fac, shift=shift)
    batch = as_signal(x, params)
    single = np.ndim(x) == 1
    L = params.frame_len
    n_frames = params.n_frames(batch.shape[1])
    out = np.empty((batch.shape[0], n_frames, N_CHANNELS))
    padded = np.zeros(n_frames * L)
    for i, row in enumerate(batch):
        padded[: row.size] = row
        padded[row.size :] = 0.0
        padded[-1] = 0.0  # NSL quirk: x(N * L_frm) = 0 zeroes the last sample even without padding
        out[i] = _run_forward(padded, params, n_frames)
    return out[0] if single else out


def cochlear_response(x, *, channels=None, shift: int = 0) -> np.ndarray:
    """Raw cochlear filter outputs ``lfilter(B_k, A_k, x)`` for chosen channels (for plots/debugging).

    Parameters
    ----------
    x : array_like, shape (n,)
    channels : sequence of int, optional
        0-based channels (0..128); default all 129.
    shift : int
        Only validates the rate; the filters are defined in normalised frequency.

    Returns
    -------
    ndarray, shape (n, len(channels))
    """
    from scipy.signal import lfilter

    from .filterbank import cochlear_filterbank

    params = AuditoryParams(frame_ms=1, tc_ms=0, fac=-2, shift=shift)
    sig = as_signal(x, params)
    if sig.shape[0] != 1:
        raise ParameterError(f"cochlear_response takes one waveform (n,), got shape {np.shape(x)}")
    bank = cochlear_filterbank()
    chans = range(len(bank)) if channels is None else list(channels)
    cols = []
    for ch in chans:
        if not 0 <= int(ch) < len(bank):
            raise ParameterError(f"channel {ch} out of range: expected 0..{len(bank) - 1}")
        f = bank[int(ch)]
        cols.append(lfilter(f.b, f.a, sig[0]))
    return np.stack(cols, axis=1)

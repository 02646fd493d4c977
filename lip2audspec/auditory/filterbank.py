"""The NSL cochlear filter bank (COCHBA, from the toolbox's ``aud24.mat``).

129 IIR band-pass filters, 24 per octave, centre frequencies ``440 * 2**((k - 31) / 24)`` Hz for
1-based channel ``k`` at 16 kHz (times ``2**shift`` at other rates). Channel 129 only serves as the
upper neighbour of channel 128 in the lateral inhibition, so spectrograms have 128 channels.

The coefficients ship as package data (``data/cochba.npy``), extracted from the MIT-licensed
naplib-python wheel and bit-identical to NSL's ``aud24.mat`` (see ``NOTICE``). Credits: NSL
Auditory-Cortical MATLAB Toolbox, Neural Systems Laboratory, University of Maryland.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..errors import ParameterError

__all__ = [
    "N_CHANNELS",
    "CochlearFilter",
    "load_cochba",
    "cochlear_filterbank",
    "center_frequencies",
    "frequency_responses",
]

#: Channels in an auditory spectrogram (COCHBA has one more, the top neighbour).
N_CHANNELS = 128


@functools.lru_cache(maxsize=1)
def _cochba() -> np.ndarray:
    with resources.files(__package__).joinpath("data/cochba.npy").open("rb") as fh:
        arr = np.load(fh)
    arr.setflags(write=False)
    return arr


def load_cochba() -> np.ndarray:
    """Return the raw COCHBA matrix, complex128, shape (26, 129) (read-only).

    Row 0: real = IIR order ``p`` of each channel, imag = channel norm. Rows 1..p+1: real = numerator
    ``B``, imag = denominator ``A`` (``A[0] == 1``). MATLAB's row ``r`` is row ``r - 1`` here.
    """
    return _cochba()


@dataclass(frozen=True)
class CochlearFilter:
    """One channel of the cochlear filter bank.

    Attributes
    ----------
    channel : int
        0-based channel index (0..128); NSL's channel ``channel + 1``.
    b, a : ndarray, shape (order + 1,)
        IIR numerator and denominator (``a[0] == 1``), for ``scipy.signal.lfilter(b, a, x)``.
    norm : float
        The channel's norm from COCHBA's header row.
    cf_hz : float
        Centre frequency at 16 kHz (``shift = 0``).
    """

    channel: int
    b: np.ndarray
    a: np.ndarray
    norm: float
    cf_hz: float

    @property
    def order(self) -> int:
        return len(self.a) - 1


def cochlear_filterbank() -> list[CochlearFilter]:
    """All 129 NSL cochlear filters, low to high frequency.

    Returns
    -------
    list of CochlearFilter, length 129

    Examples
    --------
    >>> bank = cochlear_filterbank()
    >>> len(bank), bank[0].order, round(bank[59].cf_hz)
    (129, 22, 1017)
    """
    c = load_cochba()
    cf = center_frequencies(include_top=True)
    bank = []
    for ch in range(c.shape[1]):
        p = int(round(c[0, ch].real))
        b = c[1 : p + 2, ch].real.copy()
        a = c[1 : p + 2, ch].imag.copy()
        bank.append(CochlearFilter(channel=ch, b=b, a=a, norm=float(c[0, ch].imag), cf_hz=float(cf[ch])))
    return bank


def center_frequencies(*, shift: int = 0, include_top: bool = False) -> np.ndarray:
    """Centre frequencies (Hz) of the spectrogram channels: ``440 * 2**((k - 31)/24 + shift)``.

    Parameters
    ----------
    shift : int
        Octave shift (sample rate ``16000 * 2**shift``).
    include_top : bool
        Also return the 129th (top neighbour) channel.

    Returns
    -------
    ndarray, shape (128,) or (129,)

    Examples
    --------
    >>> cf = center_frequencies()
    >>> round(float(cf[0]), 1), round(float(cf[-1]), 1)
    (185.0, 7246.3)
    """
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)):
        raise ParameterError(f"shift must be an integer octave shift, got {shift!r}")
    k = np.arange(1, N_CHANNELS + 1 + int(include_top))
    return 440.0 * 2.0 ** ((k - 31) / 24.0 + shift)


def frequency_responses(*, n_freqs: int = 2048, shift: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude responses of the 128 spectrogram channels (for plots).

    Parameters
    ----------
    n_freqs : int
        Frequency points between 0 and Nyquist.
    shift : int
        Octave shift (sample rate ``16000 * 2**shift``).

    Returns
    -------
    freqs_hz : ndarray, shape (n_freqs,)
    mag : ndarray, shape (128, n_freqs)
        ``|H(f)|`` of each channel.
    """
    from scipy.signal import freqz

    if not isinstance(n_freqs, (int, np.integer)) or n_freqs < 2:
        raise ParameterError(f"n_freqs must be an integer >= 2, got {n_freqs!r}")
    sr = 16000.0 * 2.0**shift
    mags = []
    w = None
    for f in cochlear_filterbank()[:N_CHANNELS]:
        w, h = freqz(f.b, f.a, worN=int(n_freqs), fs=sr)
        mags.append(np.abs(h))
    return w, np.array(mags)

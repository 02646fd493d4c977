"""Frame-rate audio features for the lip-sync expert: MFCC (as the original SyncNet) or the auditory target.

:func:`mfcc` follows ``python_speech_features.mfcc`` with its defaults, which the reference SyncNet
(``joonson/syncnet_python``) uses: 25 ms Hamming-free (rectangular) frames every 10 ms, pre-emphasis 0.97,
512-point FFT power spectrum, 26 triangular mel filters over 0 .. sr/2, log, DCT-II (orthonormal), 13
coefficients, sinusoidal lifter 22, and the 0th coefficient replaced by the log frame energy. One
difference, on purpose: the signal is padded by ``(win - hop) / 2`` samples in front, so that frame ``i``
is *centred* on the 10 ms hop ``i`` (``python_speech_features`` starts frame ``i`` at ``i * hop``, 7.5 ms
later); exactly ``4`` frames then fall on each 40 ms video frame.

:func:`sync_audio_features` gives either kind on the video's time grid, ``(n_video_frames * 4, F)``.
"""

from __future__ import annotations

import numpy as np

from ..config import is_int, is_real
from ..errors import DataError, ParameterError

__all__ = ["mfcc", "mel_filterbank", "sync_audio_features", "FEATURE_KINDS"]

#: audio feature kinds of the lip-sync expert and their width per frame
FEATURE_KINDS = {"mfcc": 13, "audspec": 128}


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def mel_filterbank(*, n_filters: int = 26, n_fft: int = 512, sr: int = 16000, low_hz: float = 0.0,
                   high_hz: float | None = None) -> np.ndarray:
    """Triangular mel filters on FFT bins, as ``python_speech_features.get_filterbanks``.

    Returns
    -------
    ndarray, shape (n_filters, n_fft // 2 + 1)
    """
    high_hz = sr / 2 if high_hz is None else high_hz
    mels = np.linspace(_hz_to_mel(low_hz), _hz_to_mel(high_hz), n_filters + 2)
    bins = np.floor((n_fft + 1) * _mel_to_hz(mels) / sr).astype(int)
    fb = np.zeros((n_filters, n_fft // 2 + 1))
    for j in range(n_filters):
        a, b, c = bins[j], bins[j + 1], bins[j + 2]
        for i in range(a, b):
            fb[j, i] = (i - a) / max(b - a, 1)
        for i in range(b, c):
            fb[j, i] = (c - i) / max(c - b, 1)
    return fb


def mfcc(audio, *, sr: int = 16000, n_frames: int | None = None, win_ms: float = 25.0, hop_ms: float = 10.0,
         n_ceps: int = 13, n_filters: int = 26, n_fft: int = 512, preemph: float = 0.97, lifter: int = 22,
         append_energy: bool = True) -> np.ndarray:
    """MFCC of a mono signal, one frame per ``hop_ms`` centred on each hop (see the module docstring).

    Parameters
    ----------
    audio : array_like, shape (n,)
        Mono signal at ``sr`` Hz (float; any scale).
    sr : int
        Sample rate in Hz.
    n_frames : int, optional
        Frames wanted (the signal is zero-padded or cut); default ``ceil(n / hop)``.
    win_ms, hop_ms : float
        Frame length and hop in milliseconds (25 and 10).
    n_ceps, n_filters, n_fft, preemph, lifter, append_energy
        As ``python_speech_features.mfcc`` (13, 26, 512, 0.97, 22, True).

    Returns
    -------
    ndarray, float32, shape (n_frames, n_ceps)

    Raises
    ------
    ParameterError
        Not a 1-D finite signal, or invalid settings.

    Examples
    --------
    >>> mfcc(np.random.default_rng(0).standard_normal(16000), sr=16000).shape
    (100, 13)
    """
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ParameterError(f"mfcc expects a 1-D (mono) signal, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("mfcc: the signal holds NaN or infinite samples")
    if not is_int(sr) or sr < 1000:
        raise ParameterError(f"mfcc: sr must be an integer sample rate in Hz (>= 1000), got {sr!r}")
    if not (is_real(win_ms) and is_real(hop_ms) and 0 < hop_ms <= win_ms):
        raise ParameterError(f"mfcc: need 0 < hop_ms <= win_ms, got hop_ms={hop_ms!r}, win_ms={win_ms!r}")
    win, hop = int(round(win_ms * sr / 1000)), int(round(hop_ms * sr / 1000))
    if win > n_fft:
        raise ParameterError(f"mfcc: the frame ({win} samples) is longer than n_fft={n_fft}")
    if n_frames is None:
        n_frames = int(np.ceil(len(x) / hop))
    if not is_int(n_frames) or n_frames < 1:
        raise ParameterError(f"mfcc: n_frames must be a positive integer, got {n_frames!r}")
    x = np.append(x[:1], x[1:] - preemph * x[:-1]) if len(x) else x
    front = (win - hop) // 2
    need = front + (n_frames - 1) * hop + win
    x = np.pad(x, (front, 0))
    x = np.pad(x, (0, max(0, need - len(x))))[:need]
    idx = np.arange(win)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = x[idx]
    power = np.abs(np.fft.rfft(frames, n_fft)) ** 2 / n_fft
    eps = np.finfo(np.float64).eps
    energy = np.maximum(power.sum(axis=1), eps)
    fb = np.maximum(power @ mel_filterbank(n_filters=n_filters, n_fft=n_fft, sr=sr).T, eps)
    logfb = np.log(fb)
    # DCT-II, orthonormal
    k = np.arange(n_filters)
    basis = np.cos(np.pi * np.arange(n_ceps)[:, None] * (2 * k[None, :] + 1) / (2 * n_filters))
    scale = np.full(n_ceps, np.sqrt(2.0 / n_filters))
    scale[0] = np.sqrt(1.0 / n_filters)
    ceps = logfb @ (basis * scale[:, None]).T
    if lifter > 0:
        ceps *= 1 + (lifter / 2.0) * np.sin(np.pi * np.arange(n_ceps) / lifter)
    if append_energy:
        ceps[:, 0] = np.log(energy)
    return ceps.astype(np.float32)


def sync_audio_features(audio, *, kind: str, n_video_frames: int, sr: int = 16000, fps: float = 25.0,
                        target_config=None) -> np.ndarray:
    """Audio features on the video's time grid, ``4`` frames (10 ms) per video frame (25 fps).

    Parameters
    ----------
    audio : array_like, shape (n,)
        Mono speech at ``sr`` Hz, starting with the video's first frame.
    kind : {"mfcc", "audspec"}
        :func:`mfcc`, or the compressed auditory spectrogram of the prepared datasets
        (:func:`lip2audspec.data.targets.auditory_target`, 16 kHz, about 1-2 s per 3 s clip on one core).
    n_video_frames : int
        Video frames to cover (the audio is zero-padded or cut to their duration).
    sr : int
        Sample rate of ``audio`` (the auditory spectrogram needs its own rate, 16 kHz by default).
    fps : float
        Video frame rate (25: 4 feature frames per video frame at 10 ms).
    target_config : TargetConfig, optional
        For ``"audspec"``: the preparation's target settings (default :class:`~lip2audspec.data.targets.TargetConfig`).

    Returns
    -------
    ndarray, float32, shape (n_video_frames * 4, F)
        ``F = 13`` (MFCC) or ``128`` (auditory spectrogram).

    Raises
    ------
    ParameterError
        Unknown kind, a rate the auditory spectrogram does not use, or a frame rate without a whole
        number of 10 ms frames per video frame.
    DataError
        NaN or infinite samples.
    """
    if kind not in FEATURE_KINDS:
        raise ParameterError(f"audio feature kind must be one of {sorted(FEATURE_KINDS)}, got {kind!r}")
    if not is_int(n_video_frames) or n_video_frames < 1:
        raise ParameterError(f"n_video_frames must be a positive integer, got {n_video_frames!r}")
    k = 1000.0 / fps / 10.0
    if abs(k - round(k)) > 1e-9:
        raise ParameterError(f"a video frame at {fps:g} fps does not span a whole number of 10 ms audio frames")
    k = int(round(k))
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1:
        raise ParameterError(f"audio must be 1-D (mono), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise DataError("the audio holds NaN or infinite samples")
    n = n_video_frames * k
    if kind == "mfcc":
        return mfcc(x, sr=sr, n_frames=n)
    from .targets import TargetConfig, auditory_target

    cfg = target_config or TargetConfig()
    if sr != cfg.auditory.sr:
        raise ParameterError(f"the auditory spectrogram needs audio at {cfg.auditory.sr} Hz, got {sr} Hz")
    return auditory_target(x, n_video_frames=int(n_video_frames), config=cfg)

"""Speech from a video file's own audio track (real GRID ``.mpg`` files carry the camera's MP2 audio).

Decoded with PyAV (``av``, which ships its own FFmpeg), so any audio codec FFmpeg reads works: MP2 (GRID),
AAC, MP3, PCM ... Every decoded frame is converted to planar float64 by PyAV's ``AudioResampler`` at the
track's own rate and channel layout (no rate change there); channels are averaged to mono and the rate is
changed with :func:`lip2audspec.auditory.io.resample` (``scipy.signal.resample_poly``), exactly as
:func:`lip2audspec.auditory.read_wav` does for wav files, so both sources go through the same resampler.

Public API
----------
probe_container_audio(path) -> ContainerAudio or None
    Rate, channels, duration and codec of the first audio track; None when the file has none.
read_container_audio(path, *, sr=16000) -> ndarray
    Mono float64 in [-1, 1] at ``sr`` Hz.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..auditory.io import resample
from ..errors import DataError, ParameterError

__all__ = ["ContainerAudio", "probe_container_audio", "read_container_audio", "NO_AUDIO_HINT"]

#: what to do about a video without an audio track (part of the error message)
NO_AUDIO_HINT = "the speech must come from separate wav files: pass --audio-source wav with a wav folder (e.g. audio_25k/s1/*.wav)"


@dataclass(frozen=True)
class ContainerAudio:
    """The first audio track of a media file (:func:`probe_container_audio`).

    Attributes
    ----------
    path : Path
    rate : int
        Sample rate in Hz.
    channels : int
    duration : float
        Seconds, from the stream or container header (``nan`` when neither declares one).
    codec : str
        FFmpeg codec name (``"mp2"``, ``"aac"``, ...).
    """

    path: Path
    rate: int
    channels: int
    duration: float
    codec: str


def _open(path):
    import av

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no video file at {p}")
    try:
        return p, av.open(str(p))
    except av.FFmpegError as exc:  # the base of PyAV's errors (InvalidDataError, ...)
        raise DataError(f"cannot open {p} as a media file: {exc}") from None


def probe_container_audio(path) -> ContainerAudio | None:
    """Describe the first audio track of a video (or any media) file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ContainerAudio or None
        None when the file has no audio stream.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataError
        The file is not a media file FFmpeg can open.
    """
    p, container = _open(path)
    with container:
        if not container.streams.audio:
            return None
        s = container.streams.audio[0]
        if s.duration is not None and s.time_base is not None:
            duration = float(s.duration * s.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6  # AV_TIME_BASE
        else:
            duration = float("nan")
        ctx = s.codec_context
        return ContainerAudio(path=p, rate=int(ctx.sample_rate or s.rate or 0), channels=int(ctx.channels or 0),
                              duration=duration, codec=str(ctx.name))


def read_container_audio(path, *, sr: int = 16000) -> np.ndarray:
    """Decode the first audio track of a video file to mono float64 at ``sr`` Hz.

    Parameters
    ----------
    path : str or Path
        A video (or audio) file with an audio track, e.g. a GRID ``.mpg`` (MP2, 44.1 kHz stereo).
    sr : int
        Output sample rate in Hz.

    Returns
    -------
    ndarray, float64, shape (n,)
        Channel mean, in [-1, 1], ``n = round(n_source * sr / rate)``.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataError
        The file has no audio track, the track does not decode, or it decodes to no samples or to
        non-finite values.

    Examples
    --------
    >>> x = read_container_audio("grid/s1/bbaf2n.mpg", sr=16000)   # doctest: +SKIP
    >>> x.shape                                                      # doctest: +SKIP
    (48000,)
    """
    import av

    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < 1:
        raise ParameterError(f"sr must be a positive integer (Hz), got {sr!r}")
    p, container = _open(path)
    with container:
        if not container.streams.audio:
            raise DataError(f"video {p} has no audio track; {NO_AUDIO_HINT}")
        stream = container.streams.audio[0]
        chunks, rate = [], None
        try:
            for frame in container.decode(stream):
                if rate is None:
                    rate = int(frame.sample_rate)
                    # planar float64 at the track's own rate and layout: only the sample format changes
                    conv = av.AudioResampler(format="dblp", layout=frame.layout.name, rate=rate)
                for out in conv.resample(frame):
                    chunks.append(out.to_ndarray())
            if rate is not None:
                for out in conv.resample(None):  # flush
                    chunks.append(out.to_ndarray())
        except (av.FFmpegError, ValueError) as exc:
            raise DataError(f"the audio track of {p} does not decode: {exc}") from None
    if not chunks or sum(c.shape[-1] for c in chunks) == 0:
        raise DataError(f"the audio track of {p} decodes to no samples")
    x = np.concatenate(chunks, axis=-1).mean(axis=0)
    if not np.all(np.isfinite(x)):
        raise DataError(f"the audio track of {p} decodes to non-finite values (NaN or inf)")
    if rate != sr:
        x = resample(x, sr_in=rate, sr_out=int(sr))
    return np.clip(x, -1.0, 1.0)

"""Auditory targets for lip-to-speech training (the audio side of a GRID clip).

Audio is resampled to the rate the auditory parameters imply (16 kHz for Lip2AudSpec), cut or
zero-padded to the video's duration, turned into an auditory spectrogram with ``wav2aud``
([10 10 -2 0] by default) and post-processed as in the paper:

* ``drop_first = 2``: the first 2 spectrogram frames (the cochlear filters' onset transient) are
  dropped; the end is padded by repeating the last frame so that the target keeps exactly
  ``frames_per_video_frame`` frames per video frame. This advances the target by 20 ms relative to
  the video, as the paper's code did;
* ``power = 0.3``: amplitude compression ``spec ** 0.3`` (undo with :func:`decompress`).

With 10 ms frames and 25 fps video each video frame maps to 4 spectrogram frames: video frame ``i``
covers target frames ``4 i .. 4 i + 3``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..auditory import AuditoryParams, read_wav, wav2aud
from ..config import Config
from ..errors import DataError, ParameterError
from .audio import read_container_audio

__all__ = ["TargetConfig", "auditory_target", "audio_for_target", "clip_audio", "compress", "decompress", "spectrogram_from_target"]


@dataclass(frozen=True)
class TargetConfig(Config):
    """How the auditory target of a clip is made.

    Parameters
    ----------
    auditory : AuditoryParams
        wav2aud parameters (default Lip2AudSpec's [10 10 -2 0]).
    fps : float
        Video frame rate (GRID: 25).
    drop_first : int
        Spectrogram frames dropped at the start (paper: 2); the end is padded with the last frame.
    power : float
        Compression exponent (paper: 0.3); 1 disables compression.
    max_length_error_s : float
        Audio may differ from the video duration by at most this much (else the clip is invalid).
    """

    auditory: AuditoryParams = field(default_factory=AuditoryParams)
    fps: float = 25.0
    drop_first: int = 2
    power: float = 0.3
    max_length_error_s: float = 0.1

    def __post_init__(self):
        if isinstance(self.auditory, dict):
            object.__setattr__(self, "auditory", AuditoryParams.from_dict(self.auditory))
        if not isinstance(self.auditory, AuditoryParams):
            raise ParameterError(f"auditory must be AuditoryParams or a dict, got {type(self.auditory).__name__}")
        if not (isinstance(self.fps, (int, float)) and self.fps > 0):
            raise ParameterError(f"fps must be > 0, got {self.fps!r}")
        ratio = 1000.0 / self.fps / self.auditory.frame_ms
        if abs(ratio - round(ratio)) > 1e-9 or round(ratio) < 1:
            raise ParameterError(
                f"a video frame ({1000 / self.fps:g} ms) must span a whole number of spectrogram frames "
                f"({self.auditory.frame_ms:g} ms); choose frame_ms dividing {1000 / self.fps:g}"
            )
        if isinstance(self.drop_first, bool) or not isinstance(self.drop_first, int) or self.drop_first < 0:
            raise ParameterError(f"drop_first must be an integer >= 0, got {self.drop_first!r}")
        if not (isinstance(self.power, (int, float)) and 0 < self.power <= 1):
            raise ParameterError(f"power must be in (0, 1], got {self.power!r}")
        if not self.max_length_error_s >= 0:
            raise ParameterError(f"max_length_error_s must be >= 0, got {self.max_length_error_s!r}")

    @property
    def frames_per_video_frame(self) -> int:
        return int(round(1000.0 / self.fps / self.auditory.frame_ms))


def compress(spec, *, power: float = 0.3) -> np.ndarray:
    """Amplitude compression ``spec ** power`` (spec >= 0)."""
    return np.power(np.maximum(spec, 0.0), power)


def decompress(spec, *, power: float = 0.3) -> np.ndarray:
    """Undo :func:`compress`: ``max(spec, 0) ** (1 / power)``."""
    return np.power(np.maximum(spec, 0.0), 1.0 / power)


def audio_for_target(path, *, n_video_frames: int, config: TargetConfig, source: str = "wav") -> np.ndarray:
    """Read a clip's speech at the auditory rate, checked and fitted to ``n_video_frames / fps`` seconds.

    Parameters
    ----------
    path : str or Path
        The clip's wav file (``source="wav"``) or its video file (``source="video"``: the speech is the
        video's own audio track, :func:`lip2audspec.data.audio.read_container_audio`).
    n_video_frames : int
        Video frames of the clip; the audio is cut or zero-padded to their duration.
    config : TargetConfig
    source : {"wav", "video"}
        Which kind of file ``path`` is (:data:`lip2audspec.data.dataset.AUDIO_SOURCES`).

    Returns
    -------
    ndarray, float64, shape (round(n_video_frames / fps * sr),)
        Mono audio at ``config.auditory.sr``.

    Raises
    ------
    DataError
        Unreadable file, no audio track, NaN audio, or a duration off by more than
        ``config.max_length_error_s``.
    """
    sr = config.auditory.sr
    if source == "wav":
        x, _ = read_wav(path, sr=sr)
    elif source == "video":
        x = read_container_audio(path, sr=sr)
    else:
        raise ParameterError(f"source must be 'wav' or 'video' (the file holding the speech), got {source!r}")
    want = int(round(n_video_frames / config.fps * sr))
    if abs(len(x) - want) > config.max_length_error_s * sr:
        raise DataError(f"audio {path} lasts {len(x) / sr:.3f} s; the video lasts {want / sr:.3f} s")
    return np.pad(x, (0, max(0, want - len(x))))[:want]


def clip_audio(paths, *, source: str, n_video_frames: int, config: TargetConfig) -> np.ndarray:
    """The speech of a GRID clip from the file ``source`` names (:func:`audio_for_target`).

    Parameters
    ----------
    paths : ClipPaths
        From :meth:`lip2audspec.corpora.grid.GridLayout.clip_paths`.
    source : {"wav", "video"}
        ``paths.audio`` (a separate wav) or ``paths.video`` (the video's own audio track).
    n_video_frames : int
    config : TargetConfig

    Returns
    -------
    ndarray, float64, shape (round(n_video_frames / fps * sr),)

    Raises
    ------
    DataError
        The file is missing or its audio is unusable.
    """
    path = paths.video if source == "video" else paths.audio
    if path is None:
        kind = "video file" if source == "video" else "wav file"
        raise DataError(f"{kind} of {paths.speaker}/{paths.utt_id} missing (audio source {source!r})")
    return audio_for_target(path, n_video_frames=n_video_frames, config=config, source=source)


def auditory_target(audio, *, n_video_frames: int, config: TargetConfig | None = None) -> np.ndarray:
    """Compressed auditory spectrogram aligned to the video: (n_video_frames * k, 128) float32.

    Parameters
    ----------
    audio : array_like, shape (n,)
        Audio at ``config.auditory.sr`` covering the clip (see :func:`audio_for_target`).
    n_video_frames : int
        Video frames of the clip (GRID: 75).
    config : TargetConfig, optional

    Returns
    -------
    ndarray, float32, shape (n_video_frames * k, 128)
        ``k = config.frames_per_video_frame`` (4 for 10 ms frames at 25 fps).

    Examples
    --------
    >>> import numpy as np
    >>> auditory_target(np.random.default_rng(0).standard_normal(48000) * 0.1, n_video_frames=75).shape
    (300, 128)
    """
    config = config or TargetConfig()
    if isinstance(n_video_frames, bool) or not isinstance(n_video_frames, (int, np.integer)) or n_video_frames < 1:
        raise ParameterError(f"n_video_frames must be a positive integer, got {n_video_frames!r}")
    p = config.auditory
    n_out = int(n_video_frames) * config.frames_per_video_frame
    x = np.asarray(audio, dtype=np.float64)
    need = n_out * p.frame_len
    x = np.pad(x, (0, max(0, need - len(x))))[:need]
    spec = wav2aud(x, **p.to_dict())
    if config.drop_first:
        d = min(config.drop_first, spec.shape[0] - 1)
        spec = np.concatenate([spec[d:], np.repeat(spec[-1:], d, axis=0)])
    return compress(spec, power=config.power).astype(np.float32)


def spectrogram_from_target(target, *, config: TargetConfig | None = None) -> np.ndarray:
    """Undo the target post-processing: an auditory spectrogram aligned with the audio, ready for aud2wav.

    Decompresses (``** (1 / power)``, negatives clipped to 0) and delays by ``drop_first`` frames again
    (the first frame is repeated in front, the last ``drop_first`` frames fall off), so that frame ``j``
    describes the audio of frame ``j`` as :func:`~lip2audspec.auditory.wav2aud` would.

    Parameters
    ----------
    target : array_like, shape (N, 128)
        A target or a model's prediction of one.

    Returns
    -------
    ndarray, float64, shape (N, 128)
    """
    config = config or TargetConfig()
    spec = decompress(np.asarray(target, dtype=np.float64), power=config.power)
    d = min(config.drop_first, spec.shape[0] - 1)
    if d:
        spec = np.concatenate([np.repeat(spec[:1], d, axis=0), spec[:-d]])
    return spec

"""Write a video with its audio track (PyAV, the FFmpeg bindings), and read the track back.

:func:`write_av` encodes RGB frames as H.264 (``yuv420p``; MPEG-4 part 2 when the FFmpeg build has no
H.264 encoder) and mono audio as AAC into one mp4 (or mkv/mov) file, written atomically.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..fileio import atomic_path

__all__ = ["write_av"]


def _video_codec(av) -> str:
    for name in ("libx264", "h264", "mpeg4"):
        try:
            av.codec.Codec(name, "w")
            return name
        except Exception:  # noqa: BLE001 - codec missing in this FFmpeg build
            continue
    raise DataError("this PyAV/FFmpeg build has no H.264 or MPEG-4 encoder")


def write_av(path, frames, *, fps: float, audio=None, sr: int | None = None) -> Path:
    """Encode ``frames`` (and ``audio``) into a video file.

    Parameters
    ----------
    path : str or Path
        Output file (``.mp4``, ``.mkv`` or ``.mov``).
    frames : ndarray, uint8, shape (T, H, W, 3)
        RGB frames; odd sizes are padded by one pixel (H.264 in 4:2:0 needs even sides).
    fps : float
        Frame rate (rounded to a fraction with denominator <= 1001).
    audio : ndarray, shape (n,), optional
        Mono audio in [-1, 1] (float) at ``sr``.
    sr : int, optional
        Audio sample rate (required with ``audio``).

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        Bad frames, rate or audio.
    """
    import av

    path = Path(path)
    if path.suffix.lower() not in (".mp4", ".mkv", ".mov"):
        raise ParameterError(f"output must be .mp4, .mkv or .mov, got {path.name!r}")
    f = np.asarray(frames)
    if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3 or len(f) == 0:
        raise ParameterError(f"frames must be uint8 RGB of shape (T, H, W, 3) with T >= 1, got {f.dtype} {f.shape}")
    if not np.isfinite(fps) or fps <= 0:
        raise ParameterError(f"fps must be a positive number, got {fps!r}")
    if f.shape[1] % 2 or f.shape[2] % 2:
        f = np.pad(f, ((0, 0), (0, f.shape[1] % 2), (0, f.shape[2] % 2), (0, 0)), mode="edge")
    if audio is not None:
        a = np.asarray(audio, np.float64)
        if a.ndim != 1 or not np.all(np.isfinite(a)):
            raise ParameterError(f"audio must be a finite mono signal (1-D), got shape {a.shape}")
        if not isinstance(sr, (int, np.integer)) or sr < 1000:
            raise ParameterError(f"sr must be the audio sample rate in Hz (>= 1000), got {sr!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(float(fps)).limit_denominator(1001)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format={".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}[path.suffix.lower()]) as out:
            vs = out.add_stream(_video_codec(av), rate=rate)
            vs.width, vs.height, vs.pix_fmt = f.shape[2], f.shape[1], "yuv420p"
            ast = None
            if audio is not None:
                ast = out.add_stream("aac", rate=int(sr))
                ast.layout = "mono"
            for frame in f:
                for packet in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    out.mux(packet)
            for packet in vs.encode():
                out.mux(packet)
            if ast is not None:
                pcm = np.clip(a, -1.0, 1.0).astype(np.float32)[None, :]
                block = 1024
                for i in range(0, pcm.shape[1], block):
                    chunk = np.ascontiguousarray(pcm[:, i:i + block])
                    af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                    af.sample_rate = int(sr)
                    af.pts = i
                    af.time_base = Fraction(1, int(sr))
                    for packet in ast.encode(af):
                        out.mux(packet)
                for packet in ast.encode():
                    out.mux(packet)
    return path

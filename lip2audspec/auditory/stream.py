"""Inversion of spectrograms of any length in bounded memory, and a streaming wav writer.

:func:`aud2wav` keeps the lateral-inhibition output of every channel for the whole signal
(``N * frame_len * 128 * 8`` bytes: 49 MB for 3 s, 29 GB for 30 minutes at 16 kHz). :func:`aud2wav_stream`
inverts overlapping chunks of the spectrogram instead (default 4 s, 0.5 s overlap) and joins the chunks'
waveforms with an equal-power cross-fade over the middle third of each overlap (their phases are
unrelated, so a linear fade would dip in level); the outer thirds skip the cochlear filters' start-up
transient at a chunk's edges. A spectrogram of at most one chunk is one :func:`aud2wav` call, the same
result as calling it directly.

:class:`WavStreamWriter` writes such a waveform piece by piece and peak-normalises it at the end (a second
pass over a float64 scratch file beside the output), so the file equals ``write_wav(path, peak_normalize(x))``.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..fileio import atomic_path
from ..seeding import as_rng
from .aud2wav import aud2wav
from .params import AuditoryParams

__all__ = ["DEFAULT_CHUNK_FRAMES", "DEFAULT_OVERLAP_FRAMES", "aud2wav_stream", "aud2wav_chunked", "WavStreamWriter"]

#: Default chunk and overlap of :func:`aud2wav_stream`, in spectrogram frames (10 ms): 4 s and 0.5 s.
DEFAULT_CHUNK_FRAMES = 400
DEFAULT_OVERLAP_FRAMES = 48


def aud2wav_stream(spec_blocks, *, chunk: int = DEFAULT_CHUNK_FRAMES, overlap: int = DEFAULT_OVERLAP_FRAMES,
                   n_iter: int = 10, frame_ms: float = 10, tc_ms: float = 10, fac: float = -2, shift: int = 0,
                   rng=0, on_chunk=None):
    """:func:`~lip2audspec.auditory.aud2wav` on overlapping chunks of a stream of spectrogram frames.

    Parameters
    ----------
    spec_blocks : iterable of array_like, shape (n_i, 128)
        Consecutive blocks of the auditory spectrogram (non-negative).
    chunk, overlap : int
        Spectrogram frames per chunk and shared by consecutive chunks (default 400 and 48: 4 s and
        0.48 s at 10 ms frames). Memory is about ``chunk * frame_len * 128 * 8`` bytes (66 MB).
    n_iter, frame_ms, tc_ms, fac, shift
        As :func:`~lip2audspec.auditory.aud2wav`.
    rng : int, numpy.random.Generator or None
        Randomness of aud2wav's restarts: one generator used by the chunks in turn (reproducible).
    on_chunk : callable, optional
        Called with each chunk's :class:`~lip2audspec.auditory.Aud2WavResult` (e.g. to collect errors).

    Yields
    ------
    ndarray, float64
        Consecutive pieces of the waveform (``frame_len`` samples per spectrogram frame in all), each
        chunk's best iterate (``x_best``), cross-faded.

    Raises
    ------
    ParameterError
        A chunk that is all zeros (nothing to invert), bad parameters.
    """
    from ..chunking import stream_chunks

    L = AuditoryParams(frame_ms=frame_ms, tc_ms=tc_ms, fac=fac, shift=shift).frame_len
    gen = as_rng(rng)

    def invert(spec):
        if not np.any(spec):
            return np.zeros(spec.shape[0] * L)  # a silent stretch (e.g. no speech predicted) stays silent
        res = aud2wav(spec, n_iter=n_iter, frame_ms=frame_ms, tc_ms=tc_ms, fac=fac, shift=shift, rng=gen)
        if on_chunk is not None:
            on_chunk(res)
        return res.x_best

    yield from stream_chunks(spec_blocks, invert, chunk=chunk, overlap=overlap, ratio=L, fade="equal_power")


def aud2wav_chunked(spec, *, chunk: int = DEFAULT_CHUNK_FRAMES, overlap: int = DEFAULT_OVERLAP_FRAMES,
                    **kwargs) -> np.ndarray:
    """:func:`aud2wav_stream` on one spectrogram (N, 128) -> waveform (N * frame_len,).

    Examples
    --------
    >>> from lip2audspec.auditory import wav2aud
    >>> spec = wav2aud(np.random.default_rng(0).standard_normal(16000))
    >>> aud2wav_chunked(spec, chunk=40, overlap=12, n_iter=2).shape
    (16000,)
    """
    spec = np.asarray(spec, dtype=np.float64)
    if spec.ndim != 2 or spec.shape[0] == 0:
        raise ParameterError(f"spec must have shape (N, 128) with N >= 1, got {spec.shape}")
    if not np.any(spec):
        raise ParameterError("spectrogram is all zeros: nothing to invert")
    return np.concatenate(list(aud2wav_stream([spec], chunk=chunk, overlap=overlap, **kwargs)))


class WavStreamWriter:
    """Write a mono waveform piece by piece as a peak-normalised 16-bit wav, in bounded memory.

    Pieces go to a float64 scratch file beside ``path``; :meth:`close` scales the whole signal so its
    peak is ``peak`` (like :func:`~lip2audspec.auditory.peak_normalize`) and writes the wav atomically in
    blocks. Use as a context manager; an exception inside discards the output.

    Examples
    --------
    >>> with WavStreamWriter("out.wav", sr=16000) as w:           # doctest: +SKIP
    ...     for piece in aud2wav_stream(blocks):
    ...         w.write(piece)
    """

    BLOCK = 1 << 20

    def __init__(self, path, *, sr: int, peak: float = 0.99):
        if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
            raise ParameterError(f"sr must be a positive integer sample rate in Hz, got {sr!r}")
        if not 0 < peak <= 1:
            raise ParameterError(f"peak must be in (0, 1], got {peak!r}")
        self.path, self.sr, self.peak = Path(path), int(sr), float(peak)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.f32")
        self._f = open(self._scratch, "wb")
        self.n_samples, self.max_abs = 0, 0.0

    def write(self, x) -> None:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1:
            raise ParameterError(f"a piece must be 1-D, got shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ParameterError("audio holds NaN or infinite samples; cannot write a wav")
        if x.size:
            self.max_abs = max(self.max_abs, float(np.max(np.abs(x))))
            self._f.write(x.astype("<f8").tobytes())
            self.n_samples += x.size

    def close(self) -> Path:
        """Normalise and write the wav; returns its path."""
        if self._f is None:
            return self.path
        self._f.close()
        self._f = None
        try:
            if self.n_samples == 0:
                raise ParameterError(f"no audio was written to {self.path}")
            gain = self.peak / self.max_abs if self.max_abs > 0 else 1.0
            with atomic_path(self.path, suffix=".wav") as tmp:
                with open(self._scratch, "rb") as src, wave.open(str(tmp), "wb") as w:
                    w.setnchannels(1)
                    w.setsampwidth(2)
                    w.setframerate(self.sr)
                    while True:
                        buf = src.read(8 * self.BLOCK)
                        if not buf:
                            break
                        x = np.frombuffer(buf, "<f8") * gain
                        w.writeframes(np.round(np.clip(x, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes())
        finally:
            self._scratch.unlink(missing_ok=True)
        return self.path

    def abort(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        self._scratch.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False

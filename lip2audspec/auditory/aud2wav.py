"""``aud2wav``: waveform from an auditory spectrogram (NSL aud2wav.m v2.00 and aud2wavi.m).

The inverse is iterative: each iteration runs the forward cochlea on the current guess, rescales every
channel frame by frame toward the target spectrogram, filters each channel back through its cochlear
filter time-reversed (the adjoint), divides by the norm of channel 129, and sums the channels; the next
guess is 1.01 times that sum. The phase of the original is not recovered (only the auditory spectrum
is matched). Reference: NSL Auditory-Cortical MATLAB Toolbox, Neural Systems Laboratory, University of
Maryland (T. Chi, P. Ru, S. A. Shamma).
"""

from __future__ import annotations

import logging
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

from ..errors import ParameterError
from ..seeding import as_rng
from . import _kernels
from .filterbank import center_frequencies
from .params import AuditoryParams, as_spectrogram

__all__ = ["Aud2WavResult", "aud2wav", "aud2wav_many", "aud2wavi", "compile_kernels", "default_threads", "unitseq",
           "warm_up"]

log = logging.getLogger(__name__)

#: lowest channels aud2wavi builds its initial guess from (NSL aud2wavi: ``v5(:, 1:48)``)
AUD2WAVI_CHANNELS = 48


class Aud2WavResult(NamedTuple):
    """Result of :func:`aud2wav`; unpacks like MATLAB's ``[x0, xmin, errv]``.

    Attributes
    ----------
    x : ndarray, shape (N * frame_len,)
        The final iterate (after the last update; never scored), NSL's ``x0`` output.
    x_best : ndarray, shape (N * frame_len,)
        The scored iterate with the smallest relative error, NSL's ``xmin``.
    errors : ndarray, shape (n_iter, 2)
        Per iteration ``[relative %, absolute %]`` spectrogram error of the iterate entering it, rounded
        to 2 decimals as NSL prints them (``errv``). Relative error rescales the spectrogram to the
        target's mean first.
    """

    x: np.ndarray
    x_best: np.ndarray
    errors: np.ndarray

    @property
    def restarts(self) -> tuple:
        """0-based iterations after which NSL's blow-up rule restarted from noise (empty: none).

        Iteration ``i`` restarts when its relative error exceeds the smallest earlier one by more than 100
        (percentage points), the rule :func:`aud2wav` applies to the rounded values stored in ``errors``.
        """
        err = np.asarray(self.errors, dtype=np.float64)[:, 0]
        if err.size < 2:
            return ()
        best_before = np.fmin.accumulate(err)[:-1]  # NaN errors never become the minimum
        return tuple(int(i) + 1 for i in np.flatnonzero(err[1:] - 100 > best_before))


def unitseq(x) -> np.ndarray:
    """Zero mean, unit (sample, N-1) standard deviation: NSL ``unitseq``.

    Examples
    --------
    >>> y = unitseq([1.0, 2.0, 3.0])
    >>> float(y.mean()), float(y.std(ddof=1))
    (0.0, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    sd = x.std(ddof=1)
    if not np.isfinite(sd) or sd == 0:
        raise ParameterError("cannot normalise a constant or too-short sequence (standard deviation is 0)")
    return x / sd


def aud2wavi(spec, *, frame_ms: float = 10, shift: int = 0) -> np.ndarray:
    """Initial guess for :func:`aud2wav` (NSL ``aud2wavi``): cosines at the centre frequencies of the
    48 lowest channels, amplitude-modulated frame by frame by those channels, summed and normalised.

    Parameters
    ----------
    spec : array_like, shape (N, 128)
        Auditory spectrogram (non-negative).
    frame_ms : float
        Frame length in ms used to make ``spec``.
    shift : int
        Octave shift (sample rate ``16000 * 2**shift``).

    Returns
    -------
    ndarray, shape (N * frame_len,)
        Zero-mean, unit-variance waveform.

    Examples
    --------
    >>> import numpy as np
    >>> aud2wavi(np.ones((5, 128))).shape
    (800,)
    """
    params = AuditoryParams(frame_ms=frame_ms, tc_ms=0, fac=-2, shift=shift)
    v5 = as_spectrogram(spec)
    L = params.frame_len
    n = v5.shape[0] * L
    # MATLAB: CF = cochfil(1:128, shft) / SF (cycles per sample); x = cos(2*pi*(CF(m) * (1:L)))
    cf = center_frequencies(shift=params.shift) / params.sr
    t = np.arange(1, n + 1, dtype=np.float64)  # 1-based sample index, as MATLAB's (1:L)
    x0 = np.zeros(n)
    for m in range(AUD2WAVI_CHANNELS):
        x0 = x0 + np.repeat(v5[:, m], L) * np.cos(2 * np.pi * (cf[m] * t))
    return unitseq(x0)


def _as_iterations(n_iter) -> int:
    if isinstance(n_iter, bool) or not isinstance(n_iter, numbers.Integral):
        if isinstance(n_iter, float) and n_iter.is_integer():
            return int(n_iter)
        raise ParameterError(f"n_iter must be a non-negative integer number of iterations, got {n_iter!r}")
    if n_iter < 0:
        raise ParameterError(f"n_iter must be >= 0, got {n_iter}")
    return int(n_iter)


def _matlab_round2(v: float) -> float:
    """MATLAB ``round(v * 10000) / 100`` for v >= 0 (percent with 2 decimals, halves away from zero)."""
    return float(np.floor(v * 10000.0 + 0.5) / 100.0)


#: default bound (MiB) on what one aud2wav call keeps of the forward pass for the inverse (y3 of every
#: chunk it fits, ~1.04 MiB per 1000 samples: a 3 s clip at 16 kHz needs 52 MiB, the default holds 15 s)
DEFAULT_MEMORY_MB = 256
#: chunks per hand-over between the two threads of the inverse (the lower channels wait for the upper)
_GROUP_CHUNKS = 8
#: first channel block (8 channels each) of the upper thread: balances the filter orders of the blocks
#: (forward: blocks 0..6 vs 6..16; inverse: 0..5 vs 6..15) and the per-channel stages
_SPLIT_BLOCK = 6

_pool = None
_pool_lock = threading.Lock()


def _executor():
    """A process-wide one-thread pool for the upper half of the channels (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aud2wav")
        return _pool


def default_threads() -> int:
    """Threads :func:`aud2wav` uses by default: 2 when this process may run on 2 or more CPUs, else 1."""
    try:
        n_cpu = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        n_cpu = os.cpu_count() or 1
    return 2 if n_cpu >= 2 else 1


def _as_threads(threads) -> int:
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads not in (1, 2):
        raise ParameterError(f"threads must be 1, 2 or None (automatic), got {threads!r}")
    return int(threads)


def _as_memory_mb(memory_mb) -> float:
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, numbers.Real) or not memory_mb >= 0:
        raise ParameterError(f"memory_mb must be a non-negative number of MiB, got {memory_mb!r}")
    return float(memory_mb)


def _aligned_empty(shape, *, align: int = 64) -> np.ndarray:
    """Uninitialised float64 array whose data starts on an ``align``-byte boundary (for the kernels'
    streaming stores, which need aligned rows)."""
    n = int(np.prod(shape))
    if n == 0:
        return np.empty(shape)
    raw = np.empty(n + align // 8)
    start = (-raw.ctypes.data % align) // 8
    out = raw[start : start + n].reshape(shape)
    if out.ctypes.data % align or not out.flags.c_contiguous:  # pragma: no cover - numpy guarantees 8
        raise RuntimeError("could not align the aud2wav buffer")
    return out


class _IterationRunner:
    """Buffers and threads of the aud2wav iterations of one spectrogram.

    One iteration is :func:`_kernels.aud2wav_forward` then :func:`_kernels.aud2wav_backward`. With two
    threads the channel blocks are split at :data:`_SPLIT_BLOCK`: both threads run their forward half
    at once; the inverse sums the channels from the highest, so the upper thread runs ahead, group of
    :data:`_GROUP_CHUNKS` chunks by group, and the lower thread continues each group's partial sums once
    the upper one has handed it over. Every floating-point operation happens in the same order as
    with one thread, so the result does not depend on ``threads``.
    """

    def __init__(self, n: int, target: np.ndarray, params: AuditoryParams, *, threads: int, memory_mb: float):
        self.n = n
        self.target = target
        self.params = params
        self.threads = threads
        self.B, self.A, self.border, norm = _kernels.block_coefficients()
        self.w = np.array([1.0 / norm])
        self.mode = _kernels.haircell_mode(params.fac)
        self.lowpass = params.fac != -2
        mp = self.B.shape[1]
        chunk = _kernels.CHUNK
        self.n_chunks = -(-n // chunk)
        per_chunk = chunk * _kernels.N_OUT * 8
        n_store = min(self.n_chunks, int(memory_mb * 2**20 // per_chunk))
        self.c_store = self.n_chunks - n_store
        self.D = _aligned_empty((n_store, chunk, _kernels.N_OUT))
        self.part = np.empty((self.n_chunks, chunk, _kernels.LANES))
        n_fwd_blocks = self.border.shape[0]
        n_inv_blocks = _kernels.N_OUT // _kernels.LANES
        if threads == 1:
            self.halves = [(0, n_fwd_blocks, 0, n_inv_blocks)]
        else:
            self.halves = [(_SPLIT_BLOCK, n_fwd_blocks, _SPLIT_BLOCK, n_inv_blocks), (0, _SPLIT_BLOCK, 0, _SPLIT_BLOCK)]
        shape_z = (self.c_store,) + self.B.shape
        self.ck = [(np.empty(shape_z), np.empty((self.c_store, mp))) for _ in self.halves]
        bounds = list(range(self.n_chunks, 0, -_GROUP_CHUNKS)) + [0]
        self.groups = list(zip(bounds[:-1], bounds[1:]))  # (c_hi, c_lo), from the end

    def _forward(self, x, half, v5_new, s, absmin, maxp):
        p = self.params
        ck_z, ck_mem = self.ck[half]
        blo, bhi = self.halves[half][:2]
        _kernels.aud2wav_forward(
            x, self.target, self.B, self.A, self.border, self.mode, p.fac, self.lowpass, p.beta, p.alpha,
            p.frame_len, blo, bhi, v5_new, s, absmin, maxp, self.D, self.c_store, ck_z, ck_mem,
        )

    def _backward(self, x, half, s, absmin, maxp, Zb, c_hi, c_lo, y_cum):
        p = self.params
        ck_z, ck_mem = self.ck[half]
        blo, bhi = self.halves[half][2:]
        _kernels.aud2wav_backward(
            x, self.B, self.A, self.border, self.mode, p.fac, self.lowpass, p.beta, p.frame_len, blo, bhi,
            s, absmin, maxp, self.D, self.c_store, ck_z, ck_mem, Zb, self.part, self.w, c_hi, c_lo,
            half == 0, y_cum,
        )

    def run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One iteration on the guess ``x``: returns ``(v5_new, y_cum)``, the guess's spectrogram (N, 128)
        and the inverse's channel sum (n,)."""
        n_frames = self.target.shape[0]
        v5_new = np.empty((n_frames, _kernels.N_OUT))
        s = np.empty((n_frames, _kernels.N_OUT))
        absmin = np.zeros(_kernels.N_OUT)
        maxp = np.zeros(_kernels.N_OUT)
        y_cum = np.empty(self.n)
        zb = [np.zeros(self.B.shape) for _ in self.halves]
        if self.threads == 1:
            self._forward(x, 0, v5_new, s, absmin, maxp)
            self._backward(x, 0, s, absmin, maxp, zb[0], self.n_chunks, 0, y_cum)
            return v5_new, y_cum
        done = [threading.Event() for _ in self.groups]

        def upper():
            try:
                self._forward(x, 0, v5_new, s, absmin, maxp)
                for g, (c_hi, c_lo) in enumerate(self.groups):
                    self._backward(x, 0, s, absmin, maxp, zb[0], c_hi, c_lo, y_cum)
                    done[g].set()
            finally:
                for ev in done:  # never leave the lower half waiting (the error is raised below)
                    ev.set()

        future = _executor().submit(upper)
        try:
            self._forward(x, 1, v5_new, s, absmin, maxp)
            for g, (c_hi, c_lo) in enumerate(self.groups):
                done[g].wait()
                if future.done() and future.exception() is not None:
                    break
                self._backward(x, 1, s, absmin, maxp, zb[1], c_hi, c_lo, y_cum)
        finally:
            future.result()  # re-raises the upper half's error
        return v5_new, y_cum


def aud2wav(
    spec,
    *,
    x0=None,
    n_iter: int = 10,
    frame_ms: float = 10,
    tc_ms: float = 10,
    fac: float = -2,
    shift: int = 0,
    rng=0,
    progress: bool = False,
    threads: int | None = None,
    memory_mb: float = DEFAULT_MEMORY_MB,
) -> Aud2WavResult:
    """Reconstruct a waveform from an auditory spectrogram (NSL ``aud2wav``).

    Parameters
    ----------
    spec : array_like, shape (N, 128)
        Target auditory spectrogram, non-negative, made with the same parameters.
    x0 : array_like, "random" or None
        Starting guess. None (default): :func:`aud2wavi`. ``"random"``: uniform noise normalised with
        :func:`unitseq`, as the toolbox does for an empty ``x0``. An array is zero-padded or truncated
        to ``N * frame_len`` samples.
    n_iter : int
        Iterations (the toolbox has no default; its demo uses 10). 0 returns the starting guess.
    frame_ms, tc_ms, fac, shift
        The parameters ``spec`` was made with (see :func:`lip2audspec.auditory.wav2aud`).
    rng : int, numpy.random.Generator or None
        Randomness for ``x0="random"`` and for NSL's restart from noise when an iteration blows up.
        Default 0: repeated calls give the same result. Pass another non-negative int, or a Generator
        (its state advances), for other draws; None draws a fresh seed from the OS (opt-in, not
        reproducible). The restarts that ran are in :attr:`Aud2WavResult.restarts`.
    progress : bool
        Show a progress bar with the current error.
    threads : {1, 2} or None
        Threads for this clip (None: :func:`default_threads`, 2 on a machine with 2 or more CPUs). The
        result is bit-identical whatever the value; use 1 when clips already run in parallel (see
        :func:`aud2wav_many`).
    memory_mb : float
        Bound in MiB on what an iteration keeps of its forward pass for the inverse (default 256: all
        of a clip up to ~15 s at 16 kHz). Chunks beyond it, from the start of the clip, are recomputed
        from checkpoints instead (slower, same result); 0 recomputes every chunk.

    Returns
    -------
    Aud2WavResult
        ``(x, x_best, errors)``: final iterate, best scored iterate, error curve (n_iter, 2) in %.
        Play ``x_best``; its scale is arbitrary (normalise before writing).

    Raises
    ------
    ParameterError
        Wrong shape (not (N, 128)), negative or non-finite values, non-integer ``n_iter``, bad
        parameters, an ``rng`` that is not None, a non-negative int or a Generator.

    Notes
    -----
    Matches the toolbox's error curves to the printed 2 decimals and its iterates to ~1e-9
    (tests/test_auditory_parity.py), and the pre-issue-17 kernel bit for bit (tests/test_aud2wav_speed.py).
    Memory: the lateral-inhibition output y3 of the stored chunks, ``CHUNK * 136 * 8`` bytes per 512
    samples (52 MiB for 3 s at 16 kHz), at most ``memory_mb``, plus O(N) for the rest. Toolbox quirks kept: the
    error is scored on the iterate *entering* an iteration, so ``x`` is never scored; with a step hair
    cell (fac = 0) every iterate is first normalised with :func:`unitseq`; the frame length is the
    rounded ``frame_ms * 2**(4 + shift)`` (MATLAB would fail on a non-integer one).

    Examples
    --------
    >>> import numpy as np
    >>> from lip2audspec.auditory import wav2aud
    >>> rng = np.random.default_rng(0)
    >>> spec = wav2aud(rng.standard_normal(3200))
    >>> res = aud2wav(spec, n_iter=3)
    >>> res.x_best.shape, res.errors.shape
    ((3200,), (3, 2))
    """
    params = AuditoryParams(frame_ms=frame_ms, tc_ms=tc_ms, fac=fac, shift=shift)
    v5 = as_spectrogram(spec)
    n_iter = _as_iterations(n_iter)
    if not np.any(v5):
        raise ParameterError("spectrogram is all zeros: nothing to invert")
    rng = as_rng(rng)
    L = params.frame_len
    n_frames = v5.shape[0]
    n = n_frames * L
    if x0 is None:
        x = aud2wavi(v5, frame_ms=frame_ms, shift=shift)
    elif isinstance(x0, str):
        if x0 != "random":
            raise ParameterError(f"x0 must be None, 'random' or an array, got {x0!r}")
        x = unitseq(rng.random(n) - 0.5)
    else:
        guess = np.asarray(x0)
        if guess.dtype.kind not in "iuf" or guess.ndim != 1 or guess.size == 0:
            raise ParameterError(f"x0 must be a non-empty 1-D real array, got dtype {guess.dtype} shape {guess.shape}")
        guess = guess.astype(np.float64)
        if not np.all(np.isfinite(guess)):
            raise ParameterError("x0 contains NaN or infinite samples")
        x = np.zeros(n)
        x[: min(n, guess.size)] = guess[:n]
    x = np.ascontiguousarray(x)

    mode = _kernels.haircell_mode(params.fac)
    runner = _IterationRunner(n, v5, params, threads=_as_threads(threads), memory_mb=_as_memory_mb(memory_mb))
    v5_mean = v5.mean()
    v5_sum2 = np.sum(v5**2)
    x_best, e_min = x, np.inf
    errors = np.zeros((n_iter, 2))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_iter, desc="aud2wav", unit="it")
    for it in range(n_iter):
        if mode == _kernels.HC_STEP:
            x = unitseq(x)  # NSL: "normalization (Norm(0, 1))" for fac == 0
        v5_new, y_cum = runner.run(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            v5_r = v5_new / v5_new.mean() * v5_mean  # relative: rescaled to the target's mean
            err = _matlab_round2(np.sum((v5_r - v5) ** 2) / v5_sum2)
        era = _matlab_round2(np.sum((v5_new - v5) ** 2) / v5_sum2)
        errors[it] = err, era
        if err < e_min:  # minimum error found (compared after rounding, as NSL does)
            e_min, x_best = err, x
        elif err - 100 > e_min:  # blow up: restart from noise shaped by the current sign (NSL)
            log.info("aud2wav: iteration %d blew up (error %.2f%%); restarting from noise", it + 1, err)
            y_cum = unitseq(np.sign(y_cum) + rng.random(n))
        x = y_cum * 1.01  # pseudo-normalisation (NSL)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(err=f"{err:.2f}%")
    if bar is not None:
        bar.close()
    return Aud2WavResult(x, x_best, errors)


def aud2wav_many(specs, *, workers: int | None = None, rng=0, **kwargs) -> list[Aud2WavResult]:
    """:func:`aud2wav` of several spectrograms at once: one clip per thread, each single-threaded.

    Each result equals ``aud2wav(spec, rng=..., **kwargs)`` called alone (bit for bit); the clips only
    share the CPUs. For many clips of similar length this keeps both cores busier than splitting each
    clip's channels (no hand-over waits).

    Parameters
    ----------
    specs : sequence of array_like, each shape (N_i, 128)
        Target auditory spectrograms (lengths may differ).
    workers : int, optional
        Threads (default :func:`default_threads`).
    rng : int, None or sequence
        One seed (or None) used for every clip, as a loop of :func:`aud2wav` calls would, or one entry
        per clip (int, None or its own numpy Generator). A single Generator is refused: the threads
        would draw from it in a racy order.
    **kwargs
        The other keyword arguments of :func:`aud2wav` (``threads`` is fixed to 1).

    Returns
    -------
    list of Aud2WavResult, in the order of ``specs``

    Examples
    --------
    >>> import numpy as np
    >>> from lip2audspec.auditory import wav2aud
    >>> rng = np.random.default_rng(0)
    >>> specs = [wav2aud(rng.standard_normal(1600 * k)) for k in (1, 2)]
    >>> [r.x_best.shape for r in aud2wav_many(specs, n_iter=2)]
    [(1600,), (3200,)]
    """
    specs = list(specs)
    if "threads" in kwargs:
        raise ParameterError("aud2wav_many runs each clip on one thread; do not pass threads")
    if workers is None:
        workers = default_threads()
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    if isinstance(rng, np.random.Generator):
        raise ParameterError("pass one seed, or one Generator per clip, not a single shared Generator")
    if rng is None or isinstance(rng, numbers.Integral):
        rngs = [rng] * len(specs)
    else:
        rngs = list(rng)
        if len(rngs) != len(specs):
            raise ParameterError(f"rng has {len(rngs)} entries for {len(specs)} spectrograms")
    if not specs:
        return []
    if workers == 1 or len(specs) == 1:
        return [aud2wav(s, rng=r, threads=1, **kwargs) for s, r in zip(specs, rngs)]
    with ThreadPoolExecutor(max_workers=min(int(workers), len(specs)), thread_name_prefix="aud2wav_many") as ex:
        return list(ex.map(lambda sr: aud2wav(sr[0], rng=sr[1], threads=1, **kwargs), zip(specs, rngs)))


def _run_tiny_aud2wav() -> None:
    """One aud2wav iteration on a 2-frame spectrogram: compiles (or loads) the kernels every call uses."""
    spec = np.zeros((2, 128))
    spec[:, 20] = 1.0
    aud2wav(spec, n_iter=1, threads=1, frame_ms=10, tc_ms=10, fac=-2)


def warm_up(*, background: bool = True):
    """Compile (or load from numba's cache) the aud2wav kernels now, on a tiny spectrogram.

    A first :func:`aud2wav` in a process with an empty numba cache spends seconds compiling. Called in
    the background at the start of a program that will invert (``lip2audspec reconstruct`` does), the
    compile's LLVM work runs while the main thread imports TensorFlow and loads the model; a later
    :func:`aud2wav` waits for it (numba's compiler lock) instead of compiling again.

    Parameters
    ----------
    background : bool
        Run in a daemon thread (returned) instead of now.

    Returns
    -------
    threading.Thread or None
        None when run in the foreground, or when the environment variable ``LIP2AUDSPEC_WARMUP=0``
        turns the warm-up off.
    """

    def work():
        try:
            _run_tiny_aud2wav()
        except Exception:  # pragma: no cover - a failure shows again, with its message, in the real call
            log.debug("aud2wav warm-up failed", exc_info=True)

    if os.environ.get("LIP2AUDSPEC_WARMUP") == "0":  # off (benchmarks/bench_cold_start.py compares)
        return None
    if not background:
        work()
        return None
    thread = threading.Thread(target=work, name="aud2wav-warm-up", daemon=True)
    thread.start()
    return thread


def compile_kernels() -> dict:
    """Compile every wav2aud / aud2wav kernel into numba's on-disk cache now, in the foreground.

    A process whose numba cache is empty spends about as much CPU compiling the kernels as everything
    else of a first ``lip2audspec reconstruct`` (TensorFlow's import included); ``lip2audspec compile``
    (run by ``make`` after installing) pays that once, so that later processes load the machine code
    instead. The cache is numba's (``__pycache__`` beside the package, or ``NUMBA_CACHE_DIR``); it is
    specific to this CPU and numba version, and numba recompiles by itself when either changes.

    Returns
    -------
    dict
        ``seconds`` (wall time of the compile or cache load) and ``cache`` (the cache folder, when numba
        reports one).

    Examples
    --------
    >>> compile_kernels()["seconds"] >= 0                              # doctest: +SKIP
    True
    """
    import time

    from .wav2aud import wav2aud

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    wav2aud(rng.standard_normal(1600))
    _run_tiny_aud2wav()
    cache = getattr(getattr(_kernels.aud2wav_forward, "_cache", None), "_cache_path", None)
    return {"seconds": time.perf_counter() - t0, "cache": str(cache) if cache else None}

"""Compiled (numba) kernels of wav2aud / aud2wav.

Structure. Time is cut into chunks of ``CHUNK`` samples. For each chunk:

1. the cochlear filter bank runs block by block (8 adjacent channels per block, explicit SIMD, states in
   registers; :mod:`._simd`), writing the filter outputs of the chunk into a (CHUNK, 136) buffer that
   stays in L2 cache;
2. the remaining stages run sample by sample as loops over the channels, in natural channel order, which
   LLVM vectorises: hair cell, membrane low-pass, lateral inhibition (channel k minus channel k + 1),
   half-wave rectifier, leaky integration, and frame sampling.

No (samples x channels) array is built by wav2aud. Channels are 0-based here: channel ``ch`` is NSL's
``ch + 1``; channel 128 (NSL's 129) is only the upper neighbour of channel 127; columns 129..135 are zero
padding up to a multiple of 8 lanes.

Multiply-adds are fused (FMA); results differ from a plain lfilter port by ~1e-16 relative per
operation, and match the NSL toolbox to ~5e-10 (tests/test_auditory_parity.py).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from ._simd import LANES, ORDERS, PMAX, block_iir, block_iir_sum_scaled, store_fence, stream_y3
from .filterbank import load_cochba

#: samples per chunk (the chunk buffer, CHUNK x 136 float64 = 557 kB, stays in L2)
CHUNK = 512
#: spectrogram channels (the 129th COCHBA channel is only the top neighbour)
N_OUT = 128

# hair-cell modes (NSL ``sigmoid``)
HC_LINEAR, HC_SIGMOID, HC_STEP, HC_HALFWAVE = 0, 1, 2, 3

_JIT = dict(cache=True, nogil=True, fastmath={"contract"})


def haircell_mode(fac: float) -> int:
    """NSL's hair-cell nonlinearity for ``fac``: > 0 sigmoid, 0 step, -1 half-wave, otherwise linear."""
    if fac > 0:
        return HC_SIGMOID
    if fac == 0:
        return HC_STEP
    if fac == -1:
        return HC_HALFWAVE
    return HC_LINEAR


@functools.lru_cache(maxsize=1)
def block_coefficients():
    """COCHBA rearranged for the kernels.

    Returns
    -------
    B, A : ndarray, shape (PMAX + 1, MP)
        ``B[i, ch]``, ``A[i, ch]``: coefficient ``i`` of channel ``ch`` (0..128); zero beyond the
        channel's order and in the padding columns 129..MP-1 (``MP`` = 136).
    border : ndarray of int64, shape (MP // 8,)
        IIR order each 8-channel block runs: the largest order in the block. Zero coefficients of the
        lower-order lanes keep their extra states exactly 0.
    norm : float
        Norm of channel 129 (NSL's aud2wav divides every channel by it).
    """
    c = load_cochba()
    n_ch = c.shape[1]
    mp = -(-n_ch // LANES) * LANES
    orders = np.round(c[0].real).astype(np.int64)
    if orders.max() > PMAX or orders.min() < 1:
        raise RuntimeError(f"COCHBA orders {orders.min()}..{orders.max()} outside the kernel's 1..{PMAX}")
    B = np.zeros((PMAX + 1, mp))
    A = np.zeros((PMAX + 1, mp))
    for ch in range(n_ch):
        p = orders[ch]
        B[: p + 1, ch] = c[1 : p + 2, ch].real
        A[: p + 1, ch] = c[1 : p + 2, ch].imag
    border = np.array([orders[k : min(k + LANES, n_ch)].max() for k in range(0, mp, LANES)], np.int64)
    if not set(border.tolist()) <= set(ORDERS):
        raise RuntimeError(f"block orders {sorted(set(border.tolist()))} not all compiled ({ORDERS})")
    for arr in (B, A, border):
        arr.setflags(write=False)
    return B, A, border, float(c[0, n_ch - 1].imag)


@njit(**_JIT)
def _filter_chunk(x, Y, B, A, Z, border, m, blo, bhi):
    """Cochlear filters of blocks ``blo .. bhi-1`` over ``m`` samples of ``x`` into ``Y``."""
    for k in range(blo, bhi):
        block_iir(x, Y, B, A, Z, k, m, border[k])


@njit(inline="always", **_JIT)
def _haircell(y, mode, fac, lowpass, beta, mem, lo, hi):
    """Hair cell in place on channels ``lo .. hi-1``: ionic channels (NSL ``sigmoid``), then the
    membrane low-pass ``filter(1, [1 -beta])`` unless the hair cell is the linear fac = -2."""
    if mode == 1:
        for ch in range(lo, hi):
            y[ch] = 1.0 / (1.0 + np.exp(-y[ch] / fac))
    elif mode == 2:
        for ch in range(lo, hi):
            y[ch] = 1.0 if y[ch] > 0.0 else 0.0
    elif mode == 3:
        for ch in range(lo, hi):
            y[ch] = y[ch] if y[ch] > 0.0 else 0.0
    if lowpass:
        for ch in range(lo, hi):
            mem[ch] = y[ch] + beta * mem[ch]
            y[ch] = mem[ch]


@njit(inline="always", **_JIT)
def _integrate(y, acc, alpha, lo, hi):
    """Lateral inhibition against the next-higher channel, half-wave rectifier and leaky integration
    ``filter(1, [1 -alpha])`` of one sample on channels ``lo .. hi-1`` (alpha == 0: frame sum, for
    tc = 0)."""
    if alpha != 0.0:
        for ch in range(lo, hi):
            acc[ch] = max(y[ch] - y[ch + 1], 0.0) + alpha * acc[ch]
    else:
        for ch in range(lo, hi):
            acc[ch] += max(y[ch] - y[ch + 1], 0.0)


@njit(inline="always", **_JIT)
def _emit_frame(acc, alpha, L, out_row, lo, hi):
    """Frame value at the frame's last sample (MATLAB's ``y5(L_frm * (1:N))``), or the frame mean."""
    if alpha != 0.0:
        for ch in range(lo, hi):
            out_row[ch] = acc[ch]
    else:
        for ch in range(lo, hi):
            out_row[ch] = acc[ch] / L
            acc[ch] = 0.0


@njit(**_JIT)
def wav2aud_kernel(x, B, A, border, mode, fac, lowpass, beta, alpha, L, out):
    """Fill ``out`` (N, 128) with the auditory spectrogram of ``x`` (contiguous, length N * L)."""
    n = x.shape[0]
    mp = B.shape[1]
    Z = np.zeros(B.shape)
    Y = np.empty((CHUNK, mp))
    mem = np.zeros(mp)
    acc = np.zeros(N_OUT)
    k = 0
    f = 0
    for t0 in range(0, n, CHUNK):
        m = min(CHUNK, n - t0)
        _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, 0, border.shape[0])
        for j in range(m):
            y = Y[j]
            _haircell(y, mode, fac, lowpass, beta, mem, 0, mp)
            _integrate(y, acc, alpha, 0, N_OUT)
            k += 1
            if k == L:
                k = 0
                _emit_frame(acc, alpha, L, out[f], 0, N_OUT)
                f += 1


@njit(inline="always", **_JIT)
def _scaled_y3(y, out, s_frame, mode, absmin, maxp, lo, hi):
    """aud2wav's modified lateral-inhibition output of one sample on channels ``lo .. hi-1``
    (``s_frame``: the frame's scales)."""
    if mode == 0:
        for ch in range(lo, hi):
            out[ch] = (y[ch] - y[ch + 1]) * s_frame[ch]
    else:
        for ch in range(lo, hi):
            v = y[ch] - y[ch + 1]
            out[ch] = v * s_frame[ch] if v >= 0.0 else v / absmin[ch] * maxp[ch]




@njit(**_JIT)
def aud2wav_forward(x, target, B, A, border, mode, fac, lowpass, beta, alpha, L, blo, bhi,
                    v5_new, s, absmin, maxp, D, c_store, ck_z, ck_mem):
    """Forward half of one aud2wav iteration (NSL aud2wav v2.00) on channel blocks ``blo .. bhi-1``.

    Runs the cochlea of the guess ``x`` (contiguous, length N * L) for the channels ``8 blo ..
    min(8 bhi, 128) - 1`` (filtering block ``bhi`` too, whose first channel is the top neighbour) and
    writes, for those channels only: ``v5_new`` (N, 128), the scales ``s`` (N, 128) = target / vx
    (2 where vx == 0 < target, 1 where both are 0) and, for nonlinear hair cells, ``absmin`` = |min y3|
    and ``maxp`` = max over the signal of y3 * s where y3 >= 0 (both must come in zeroed).

    What the inverse needs is kept rather than recomputed: for chunks ``c >= c_store`` the lateral
    inhibition before the rectifier, ``y3``, goes to ``D[c - c_store]`` (CHUNK, 128; rows 64-byte
    aligned) with streaming stores (row ``j`` is sample ``j`` of the chunk); for the earlier chunks the filter and membrane
    states at the chunk start go to ``ck_z[c]``, ``ck_mem[c]`` so that :func:`aud2wav_backward` can
    recompute them (the memory bound: ``D`` holds ``len(D) * CHUNK * 128 * 8`` bytes).
    """
    n = x.shape[0]
    nb = border.shape[0]
    mp = B.shape[1]
    lo = blo * LANES
    hi = min(bhi * LANES, N_OUT)
    fhi = min(bhi + 1, nb)
    yhi = fhi * LANES
    n_chunks = (n + CHUNK - 1) // CHUNK
    Z = np.zeros(B.shape)
    Y = np.empty((CHUNK, mp))
    mem = np.zeros(mp)
    acc = np.zeros(N_OUT)
    fmax = np.full(N_OUT, -1.0)  # largest non-negative y3 in the current frame (-1: none yet)
    k = 0
    f = 0
    for c in range(n_chunks):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        if c < c_store:
            ck_z[c] = Z
            ck_mem[c] = mem
        _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, blo, fhi)
        for j in range(m):
            y = Y[j]
            _haircell(y, mode, fac, lowpass, beta, mem, lo, yhi)
            if c >= c_store:
                stream_y3(D[c - c_store], j, y, lo, hi)
            if mode != 0:
                # extrema of y3; branch-free so that LLVM vectorises it: a negative y3 can lift fmax
                # above its -1 start but never to >= 0, and -y3 <= 0 never lifts absmin
                for ch in range(lo, hi):
                    d = y[ch] - y[ch + 1]
                    fmax[ch] = max(fmax[ch], d)
                    absmin[ch] = max(absmin[ch], -d)
            _integrate(y, acc, alpha, lo, hi)
            k += 1
            if k == L:
                k = 0
                _emit_frame(acc, alpha, L, v5_new[f], lo, hi)
                for ch in range(lo, hi):
                    vx = v5_new[f, ch]
                    tg = target[f, ch]
                    if vx != 0.0:
                        sc = tg / vx
                    elif tg != 0.0:
                        sc = 2.0  # "double it for now" (NSL)
                    else:
                        sc = 1.0
                    s[f, ch] = sc
                    if fmax[ch] >= 0.0:  # s >= 0, so max(y3 * s) over the frame = s * max(y3)
                        maxp[ch] = max(maxp[ch], fmax[ch] * sc)
                    fmax[ch] = -1.0
                f += 1
    store_fence()


@njit(**_JIT)
def aud2wav_backward(x, B, A, border, mode, fac, lowpass, beta, L, blo, bhi, s, absmin, maxp,
                     D, c_store, ck_z, ck_mem, Zb, part, w, c_hi, c_lo, first, y_cum):
    """Inverse half of one aud2wav iteration on chunks ``c_hi - 1`` down to ``c_lo`` and channel
    blocks ``bhi - 1`` down to ``blo`` (``bhi <= 16``), after :func:`aud2wav_forward` of the same blocks.

    Each channel's modified y3 (``y3 * s``; for nonlinear hair cells a negative y3 maps to
    ``y3 / |min y3| * max(y3 * s)``) is filtered time-reversed with its own cochlear filter (states
    ``Zb``, kept across calls), times ``w[0]`` = 1 / norm of channel 129, and accumulated into the
    per-lane partial sums ``part[c]`` (CHUNK, 8), blocks from the highest: ``first`` zeroes them first
    (the caller that owns the highest blocks). With ``blo == 0`` the lanes are summed into ``y_cum``
    (length N * L). Stored chunks (``c >= c_store``) are scaled in place in ``D``; earlier ones are
    recomputed from the forward's checkpoints. The order of every floating-point operation is that of
    the single-pass kernel, so splitting the blocks between two threads changes no bit.
    """
    n = x.shape[0]
    nb = border.shape[0]
    mp = B.shape[1]
    lo = blo * LANES
    hi = bhi * LANES
    fhi = min(bhi + 1, nb)
    yhi = fhi * LANES
    recompute = c_lo < c_store
    Z = np.zeros(B.shape if recompute else (1, 1))
    Y = np.empty((CHUNK if recompute else 1, mp))
    # modified y3 of a chunk that is not a stored linear one, row j = sample j; it goes through the
    # same scaled filter with scale 1.0 (x * 1.0 == x exactly), so one filter variant serves all paths
    Xn = np.zeros((CHUNK, N_OUT))
    ones = np.ones((1, N_OUT))
    frow = np.empty(CHUNK, np.int64)
    mem = np.zeros(mp)
    for c in range(c_hi - 1, c_lo - 1, -1):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        pc = part[c]
        if first:
            pc[:m] = 0.0
        if c >= c_store and mode == 0:  # y3 * s straight from the store into the filters
            src, scale = D[c - c_store], s
            for j in range(m):
                frow[j] = (t0 + j) // L
        else:
            if c >= c_store:  # nonlinear hair cell: negative y3 maps by the channel's extrema
                Dc = D[c - c_store]
                for j in range(m):
                    sf = s[(t0 + j) // L]
                    dj = Dc[j]
                    xr = Xn[j]
                    for ch in range(lo, hi):
                        v = dj[ch]
                        xr[ch] = v * sf[ch] if v >= 0.0 else v / absmin[ch] * maxp[ch]
            else:  # recompute the chunk's y3 from its checkpoint
                Z[:, :] = ck_z[c]
                mem[:] = ck_mem[c]
                _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, blo, fhi)
                for j in range(m):
                    y = Y[j]
                    _haircell(y, mode, fac, lowpass, beta, mem, lo, yhi)
                    _scaled_y3(y, Xn[j], s[(t0 + j) // L], mode, absmin, maxp, lo, hi)
            src, scale = Xn, ones
            frow[:m] = 0
        for kb in range(bhi - 1, blo - 1, -1):
            block_iir_sum_scaled(src, pc, B, A, Zb, kb, m, border[kb], w, scale, frow)
        if blo == 0:
            for r in range(m):
                tot = 0.0
                for lane in range(LANES - 1, -1, -1):
                    tot += pc[r, lane]
                y_cum[t0 + m - 1 - r] = tot

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

from ._simd import LANES, PMAX, block_iir, block_iir_sum
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
    for arr in (B, A, border):
        arr.setflags(write=False)
    return B, A, border, float(c[0, n_ch - 1].imag)


@njit(**_JIT)
def _filter_chunk(x, Y, B, A, Z, border, m, n_blocks):
    """Cochlear filters of the first ``n_blocks`` blocks over ``m`` samples of ``x`` into ``Y``."""
    for k in range(n_blocks):
        block_iir(x, Y, B, A, Z, k, m, border[k])


@njit(inline="always", **_JIT)
def _haircell(y, mode, fac, lowpass, beta, mem):
    """Hair cell in place: ionic channels (NSL ``sigmoid``), then the membrane low-pass
    ``filter(1, [1 -beta])`` unless the hair cell is the linear fac = -2."""
    n = y.shape[0]
    if mode == 1:
        for ch in range(n):
            y[ch] = 1.0 / (1.0 + np.exp(-y[ch] / fac))
    elif mode == 2:
        for ch in range(n):
            y[ch] = 1.0 if y[ch] > 0.0 else 0.0
    elif mode == 3:
        for ch in range(n):
            y[ch] = y[ch] if y[ch] > 0.0 else 0.0
    if lowpass:
        for ch in range(n):
            mem[ch] = y[ch] + beta * mem[ch]
            y[ch] = mem[ch]


@njit(inline="always", **_JIT)
def _integrate(y, acc, alpha):
    """Lateral inhibition against the next-higher channel, half-wave rectifier and leaky integration
    ``filter(1, [1 -alpha])`` of one sample (alpha == 0: frame sum, for tc = 0)."""
    if alpha != 0.0:
        for ch in range(N_OUT):
            acc[ch] = max(y[ch] - y[ch + 1], 0.0) + alpha * acc[ch]
    else:
        for ch in range(N_OUT):
            acc[ch] += max(y[ch] - y[ch + 1], 0.0)


@njit(inline="always", **_JIT)
def _emit_frame(acc, alpha, L, out_row):
    """Frame value at the frame's last sample (MATLAB's ``y5(L_frm * (1:N))``), or the frame mean."""
    if alpha != 0.0:
        for ch in range(N_OUT):
            out_row[ch] = acc[ch]
    else:
        for ch in range(N_OUT):
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
        _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, border.shape[0])
        for j in range(m):
            y = Y[j]
            _haircell(y, mode, fac, lowpass, beta, mem)
            _integrate(y, acc, alpha)
            k += 1
            if k == L:
                k = 0
                _emit_frame(acc, alpha, L, out[f])
                f += 1


@njit(inline="always", **_JIT)
def _scaled_y3(y, out, s_frame, mode, absmin, maxp):
    """aud2wav's modified lateral-inhibition output of one sample (``s_frame``: the frame's scales)."""
    if mode == 0:
        for ch in range(N_OUT):
            out[ch] = (y[ch] - y[ch + 1]) * s_frame[ch]
    else:
        for ch in range(N_OUT):
            v = y[ch] - y[ch + 1]
            out[ch] = v * s_frame[ch] if v >= 0.0 else v / absmin[ch] * maxp[ch]


@njit(**_JIT)
def aud2wav_kernel(x, target, B, A, border, norm, mode, fac, lowpass, beta, alpha, L, v5_new, y_cum):
    """One aud2wav iteration (NSL aud2wav v2.00) for the guess ``x`` (contiguous, length N * L).

    Forward: the cochlea of ``x`` gives ``v5_new`` (N, 128). Per channel and frame the scale
    ``s = target / vx`` (2 where vx == 0 < target, 1 where both are 0) is applied to y3 (lateral
    inhibition before the rectifier); for nonlinear hair cells negative y3 maps to
    ``y3 / |min y3| * max(y3 * s)`` instead. Inverse: each channel's modified y3 is filtered
    time-reversed with its own cochlear filter, divided by ``norm`` and summed over channels into
    ``y_cum`` (length N * L).

    Memory stays O(chunk): the forward pass keeps the filter and membrane states at every chunk start,
    and the inverse, walking the chunks backwards, recomputes each chunk's y3 from its checkpoint
    instead of storing y3 for the whole signal. The channel sum is fused into the inverse filter as
    8 per-lane partial sums (a reassociation of MATLAB's sequential channel loop, ~1e-16 relative),
    and the division by ``norm`` is a multiplication by its reciprocal (<= 1 ulp per term).
    """
    n = x.shape[0]
    mp = B.shape[1]
    n_chunks = (n + CHUNK - 1) // CHUNK
    Z = np.zeros(B.shape)
    Y = np.empty((CHUNK, mp))
    mem = np.zeros(mp)
    ck_z = np.empty((n_chunks, B.shape[0], mp))
    ck_mem = np.empty((n_chunks, mp))
    acc = np.zeros(N_OUT)
    s = np.empty((v5_new.shape[0], N_OUT))
    fmax = np.full(N_OUT, -1.0)  # largest non-negative y3 in the current frame (-1: none yet)
    maxp = np.zeros(N_OUT)  # max over the signal of y3 * s where y3 >= 0
    absmin = np.zeros(N_OUT)  # |min y3| over the negative y3
    k = 0
    f = 0
    for c in range(n_chunks):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        ck_z[c] = Z
        ck_mem[c] = mem
        _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, border.shape[0])
        for j in range(m):
            y = Y[j]
            _haircell(y, mode, fac, lowpass, beta, mem)
            # extrema of y3 = lateral inhibition before the rectifier; branch-free so that LLVM
            # vectorises it: a negative y3 can lift fmax above its -1 start but never to >= 0, and
            # -y3 <= 0 never lifts absmin, so both keep their meaning
            for ch in range(N_OUT):
                d = y[ch] - y[ch + 1]
                fmax[ch] = max(fmax[ch], d)
                absmin[ch] = max(absmin[ch], -d)
            _integrate(y, acc, alpha)
            k += 1
            if k == L:
                k = 0
                _emit_frame(acc, alpha, L, v5_new[f])
                for ch in range(N_OUT):
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
    # inverse, chunks from the last: row r of a chunk is sample t0 + m - 1 - r (time reversed)
    Zb = np.zeros(B.shape)
    Xin = np.zeros((CHUNK, mp))  # columns 128.. stay 0: channel 129 and the padding contribute nothing
    part = np.empty((CHUNK, LANES))
    w = np.array([1.0 / norm])
    for c in range(n_chunks - 1, -1, -1):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        Z[:, :] = ck_z[c]
        mem[:] = ck_mem[c]
        _filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, border.shape[0])
        # row r of Xin is sample t0 + m - 1 - r (time reversed)
        if mode == 0 and not lowpass:
            for j in range(m):
                fr = (t0 + j) // L
                r = m - 1 - j
                for ch in range(N_OUT):
                    Xin[r, ch] = (Y[j, ch] - Y[j, ch + 1]) * s[fr, ch]
        else:
            for j in range(m):
                y = Y[j]
                _haircell(y, mode, fac, lowpass, beta, mem)
                _scaled_y3(y, Xin[m - 1 - j], s[(t0 + j) // L], mode, absmin, maxp)
        part[:m] = 0.0
        for kb in range(N_OUT // LANES - 1, -1, -1):
            block_iir_sum(Xin, part, B, A, Zb, kb, m, border[kb], w)
        for r in range(m):
            tot = 0.0
            for lane in range(LANES - 1, -1, -1):
                tot += part[r, lane]
            y_cum[t0 + m - 1 - r] = tot

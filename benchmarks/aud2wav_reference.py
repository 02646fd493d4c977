"""The aud2wav iteration kernel as it was before issue 17 (frozen): the reference that the new kernel
must match array-for-array (tests/test_aud2wav_speed.py) and the "today" of the speed ratio
(benchmarks/bench_auditory.py).

It runs the cochlear filter bank three times per iteration: forward, forward again per chunk from a
checkpoint (walking backwards), and the time-reversed inverse. The stage helpers are the package's own
(lip2audspec.auditory._kernels), so only the order of the passes is frozen here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from lip2audspec.auditory import _kernels as K
from lip2audspec.auditory._simd import LANES, block_iir_sum

CHUNK = K.CHUNK
N_OUT = K.N_OUT


@njit(cache=True, nogil=True, fastmath={"contract"})
def reference_aud2wav_kernel(x, target, B, A, border, norm, mode, fac, lowpass, beta, alpha, L, v5_new, y_cum):
    """One aud2wav iteration, pre-issue-17 (see lip2audspec.auditory.aud2wav for the arguments)."""
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
    fmax = np.full(N_OUT, -1.0)
    maxp = np.zeros(N_OUT)
    absmin = np.zeros(N_OUT)
    k = 0
    f = 0
    for c in range(n_chunks):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        ck_z[c] = Z
        ck_mem[c] = mem
        K._filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, 0, border.shape[0])
        for j in range(m):
            y = Y[j]
            K._haircell(y, mode, fac, lowpass, beta, mem, 0, mp)
            for ch in range(N_OUT):
                d = y[ch] - y[ch + 1]
                fmax[ch] = max(fmax[ch], d)
                absmin[ch] = max(absmin[ch], -d)
            K._integrate(y, acc, alpha, 0, N_OUT)
            k += 1
            if k == L:
                k = 0
                K._emit_frame(acc, alpha, L, v5_new[f], 0, N_OUT)
                for ch in range(N_OUT):
                    vx = v5_new[f, ch]
                    tg = target[f, ch]
                    if vx != 0.0:
                        sc = tg / vx
                    elif tg != 0.0:
                        sc = 2.0
                    else:
                        sc = 1.0
                    s[f, ch] = sc
                    if fmax[ch] >= 0.0:
                        maxp[ch] = max(maxp[ch], fmax[ch] * sc)
                    fmax[ch] = -1.0
                f += 1
    Zb = np.zeros(B.shape)
    Xin = np.zeros((CHUNK, mp))
    part = np.empty((CHUNK, LANES))
    w = np.array([1.0 / norm])
    for c in range(n_chunks - 1, -1, -1):
        t0 = c * CHUNK
        m = min(CHUNK, n - t0)
        Z[:, :] = ck_z[c]
        mem[:] = ck_mem[c]
        K._filter_chunk(x[t0 : t0 + m], Y, B, A, Z, border, m, 0, border.shape[0])
        if mode == 0 and not lowpass:
            for j in range(m):
                fr = (t0 + j) // L
                r = m - 1 - j
                for ch in range(N_OUT):
                    Xin[r, ch] = (Y[j, ch] - Y[j, ch + 1]) * s[fr, ch]
        else:
            for j in range(m):
                y = Y[j]
                K._haircell(y, mode, fac, lowpass, beta, mem, 0, mp)
                K._scaled_y3(y, Xin[m - 1 - j], s[(t0 + j) // L], mode, absmin, maxp, 0, N_OUT)
        part[:m] = 0.0
        for kb in range(N_OUT // LANES - 1, -1, -1):
            block_iir_sum(Xin, part, B, A, Zb, kb, m, border[kb], w)
        for r in range(m):
            tot = 0.0
            for lane in range(LANES - 1, -1, -1):
                tot += part[r, lane]
            y_cum[t0 + m - 1 - r] = tot

"""Straightforward per-channel ``scipy.signal.lfilter`` port of NSL wav2aud / aud2wav.

This is the *baseline* that ``bench_auditory.py`` measures lip2audspec's kernels against, and an
independent oracle for tests (``tests/test_auditory_kernels.py``): one ``lfilter`` call per cochlear
channel, then the hair cell, lateral inhibition and leaky integration on whole arrays, exactly as the
MATLAB code reads. It is deliberately simple and slow; do not use it in the package.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from lip2audspec.auditory.filterbank import load_cochba


def _coefs(cochba, ch):
    p = int(round(cochba[0, ch].real))
    return cochba[1 : p + 2, ch].real, cochba[1 : p + 2, ch].imag


def _haircell(y1, fac):
    if fac > 0:
        return 1.0 / (1.0 + np.exp(-y1 / fac))
    if fac == 0:
        return (y1 > 0).astype(np.float64)
    if fac == -1:
        return np.maximum(y1, 0.0)
    return y1


def baseline_wav2aud(x, paras):
    frame_ms, tc_ms, fac, shift = paras
    cochba = load_cochba()
    m = cochba.shape[1]
    L = int(round(frame_ms * 2 ** (4 + shift)))
    alpha = np.exp(-1 / (tc_ms * 2 ** (4 + shift))) if tc_ms else 0.0
    beta = np.exp(-1 / (0.5 * 2 ** (4 + shift)))
    n = -(-len(x) // L)
    xp = np.zeros(n * L)
    xp[: len(x)] = x
    xp[-1] = 0.0
    v5 = np.zeros((n, m - 1))

    def stage(ch):
        b, a = _coefs(cochba, ch)
        y2 = _haircell(lfilter(b, a, xp), fac)
        if fac != -2:
            y2 = lfilter([1.0], [1.0, -beta], y2)
        return y2

    y2_h = stage(m - 1)
    for ch in range(m - 2, -1, -1):
        y2 = stage(ch)
        y4 = np.maximum(y2 - y2_h, 0.0)
        y2_h = y2
        if alpha:
            v5[:, ch] = lfilter([1.0], [1.0, -alpha], y4)[L - 1 :: L]
        else:
            v5[:, ch] = y4.reshape(n, L).mean(axis=1)
    return v5


def _unitseq(x):
    x = x - x.mean()
    return x / x.std(ddof=1)


def baseline_aud2wav(v5, x0, paras, n_iter, rng=None):
    """Returns (xout, xmin, errv) like ``[x0, xmin, errv] = aud2wav(v5, x0, [paras iter 0 0])``."""
    frame_ms, tc_ms, fac, shift = paras
    rng = np.random.default_rng(rng)
    cochba = load_cochba()
    m = cochba.shape[1]
    L = int(round(frame_ms * 2 ** (4 + shift)))
    alpha = np.exp(-1 / (tc_ms * 2 ** (4 + shift))) if tc_ms else 0.0
    beta = np.exp(-1 / (0.5 * 2 ** (4 + shift)))
    norm = cochba[0, m - 1].imag
    n = v5.shape[0]
    x0 = np.zeros(n * L) if x0 is None else np.asarray(x0, float).copy()
    x0 = np.concatenate([x0, np.zeros(max(0, n * L - len(x0)))])[: n * L]
    v5_mean, v5_sum2 = v5.mean(), np.sum(v5**2)
    xmin, emin, errv = x0, np.inf, []
    for _ in range(n_iter):
        if fac == 0:
            x0 = _unitseq(x0)
        v5_new = np.zeros_like(v5)
        b, a = _coefs(cochba, m - 1)
        y2_h = _haircell(lfilter(b, a, x0), fac)
        if fac != -2:
            y2_h = lfilter([1.0], [1.0, -beta], y2_h)
        y_cum = np.zeros(n * L)
        for ch in range(m - 2, -1, -1):
            b, a = _coefs(cochba, ch)
            y2 = _haircell(lfilter(b, a, x0), fac)
            if fac != -2:
                y2 = lfilter([1.0], [1.0, -beta], y2)
            y3 = y2 - y2_h
            y4 = np.maximum(y3, 0.0)
            if alpha:
                vx = lfilter([1.0], [1.0, -alpha], y4)[L - 1 :: L]
            else:
                vx = y4.reshape(n, L).mean(axis=1)
            v5_new[:, ch] = vx
            tgt = v5[:, ch]
            s = np.where(vx != 0, tgt / np.where(vx != 0, vx, 1.0), np.where(tgt != 0, 2.0, 1.0))
            s = np.repeat(s, L)
            if fac == -2:
                y1 = y3 * s
            else:
                y1 = np.empty_like(y3)
                pos = y3 >= 0
                y1[pos] = y3[pos] * s[pos]
                maxp = y1[pos].max() if pos.any() else 0.0
                neg = ~pos
                if neg.any():
                    y1[neg] = y3[neg] / abs(y3[neg].min()) * maxp
            y2_h = y2
            y_cum = y_cum + lfilter(b, a, y1[::-1])[::-1] / norm
        v5_r = v5_new / v5_new.mean() * v5_mean
        err = np.floor(np.sum((v5_r - v5) ** 2) / v5_sum2 * 10000 + 0.5) / 100
        era = np.floor(np.sum((v5_new - v5) ** 2) / v5_sum2 * 10000 + 0.5) / 100
        errv.append((err, era))
        if err < emin:
            emin, xmin = err, x0
        elif err - 100 > emin:
            y_cum = _unitseq(np.sign(y_cum) + rng.random(y_cum.shape))
        x0 = y_cum * 1.01
    return x0, xmin, np.array(errv)

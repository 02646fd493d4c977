"""The compiled kernels against a plain per-channel scipy.signal.lfilter port (benchmarks/lfilter_baseline.py)
on cases the NSL reference does not cover: other rates, frame lengths, chunk boundaries, batches."""

import sys
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.auditory import aud2wav, wav2aud
from lip2audspec.auditory._kernels import CHUNK

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from lfilter_baseline import baseline_aud2wav, baseline_wav2aud  # noqa: E402


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize(
    "n,paras",
    [
        (CHUNK * 3 + 17, (10, 10, -2, 0)),
        (CHUNK - 5, (8, 8, -2, 0)),
        (4000, (5, 4, -1, -2)),
        (6001, (16, 64, 0.05, -1)),
        (2 * CHUNK, (8, 0, -2, -1)),
        (3333, (7.3, 3, -3, 0)),  # 'other' fac: linear hair cell but with the membrane low-pass
    ],
)
def test_wav2aud_matches_lfilter_port(rng, n, paras):
    x = rng.standard_normal(n)
    ours = wav2aud(x, frame_ms=paras[0], tc_ms=paras[1], fac=paras[2], shift=paras[3])
    ref = baseline_wav2aud(x, paras)
    assert ours.shape == ref.shape
    assert _rel(ours, ref) < 1e-9


def test_last_sample_is_zeroed_even_without_padding(rng):
    x = rng.standard_normal(1600)  # exactly 10 frames of 160 samples
    x2 = x.copy()
    x2[-1] = 123.0  # NSL overwrites the last sample, so its value must not matter
    np.testing.assert_array_equal(wav2aud(x), wav2aud(x2))
    x3 = x.copy()
    x3[-2] = 123.0
    assert not np.array_equal(wav2aud(x), wav2aud(x3))


def test_batch_equals_single(rng):
    xb = rng.standard_normal((3, 2500))
    out = wav2aud(xb)
    assert out.shape == (3, 16, 128)
    for i in range(3):
        np.testing.assert_array_equal(out[i], wav2aud(xb[i]))


def test_output_is_non_negative_and_tracks_frequency():
    sr = 16000
    t = np.arange(sr) / sr
    lo = wav2aud(np.sin(2 * np.pi * 300 * t)).mean(axis=0)
    hi = wav2aud(np.sin(2 * np.pi * 3000 * t)).mean(axis=0)
    assert lo.min() >= 0 and hi.min() >= 0
    assert np.argmax(lo) < np.argmax(hi)
    from lip2audspec.auditory import center_frequencies

    cf = center_frequencies()
    assert abs(np.log2(cf[np.argmax(lo)] / 300)) < 0.3
    assert abs(np.log2(cf[np.argmax(hi)] / 3000)) < 0.3


@pytest.mark.parametrize("paras", [(8, 8, -2, 0), (10, 10, -1, 0), (8, 0, 0.1, 0), (4, 4, 0, -1)])
def test_aud2wav_matches_lfilter_port(rng, paras):
    x = rng.standard_normal(CHUNK + 900)
    kw = dict(frame_ms=paras[0], tc_ms=paras[1], fac=paras[2], shift=paras[3])
    spec = wav2aud(x, **kw)
    x0 = rng.standard_normal(spec.shape[0] * 128)
    ours = aud2wav(spec, x0=x0, n_iter=4, **kw)
    ref = baseline_aud2wav(spec, x0, paras, 4)
    np.testing.assert_array_equal(np.round(ours.errors, 2), np.round(ref[2], 2))
    assert _rel(ours.x, ref[0]) < 1e-7
    assert _rel(ours.x_best, ref[1]) < 1e-7


def test_aud2wav_reduces_error_and_is_deterministic(rng):
    x = rng.standard_normal(4800)
    spec = wav2aud(x)
    a = aud2wav(spec, n_iter=15, x0="random", rng=3)
    b = aud2wav(spec, n_iter=15, x0="random", rng=3)
    np.testing.assert_array_equal(a.x_best, b.x_best)
    assert a.errors[-1, 0] < 0.5 * a.errors[0, 0]
    assert a.errors[:, 0].min() == a.errors[np.argmin(a.errors[:, 0]), 0]


def test_aud2wav_zero_iterations_returns_start():
    spec = np.ones((4, 128))
    res = aud2wav(spec, n_iter=0)
    assert res.errors.shape == (0, 2)
    np.testing.assert_array_equal(res.x, res.x_best)

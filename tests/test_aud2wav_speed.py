"""Issue 17: the faster aud2wav (forward y3 kept instead of recomputed, channel blocks split over two
threads, clips in parallel) gives the same bits as the kernel it replaced (benchmarks/aud2wav_reference.py,
checked once against the pre-issue code) for every hair cell, thread count and memory bound."""

import sys
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.auditory import _kernels, aud2wav, aud2wav_many, wav2aud
from lip2audspec.auditory.params import AuditoryParams
from lip2audspec.errors import ParameterError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from aud2wav_reference import reference_aud2wav_kernel  # noqa: E402

A2W = sys.modules["lip2audspec.auditory.aud2wav"]
# more chunks than one hand-over group of the two threads, and a partial last chunk
N_SAMPLES = _kernels.CHUNK * (A2W._GROUP_CHUNKS + 3) + 333


def _reference_iteration(x, target, p):
    B, A, border, norm = _kernels.block_coefficients()
    v5_new = np.empty_like(target)
    y_cum = np.zeros(len(x))
    reference_aud2wav_kernel(x, target, B, A, border, norm, _kernels.haircell_mode(p.fac), p.fac, p.fac != -2,
                             p.beta, p.alpha, p.frame_len, v5_new, y_cum)
    return v5_new, y_cum


@pytest.mark.parametrize("paras", [(10, 10, -2, 0), (8, 0, 0.1, 0), (10, 10, -1, 0), (4, 4, 0, -1), (7, 3, -3, 0)])
def test_iteration_is_array_equal_to_the_old_kernel(rng, paras):
    p = AuditoryParams(frame_ms=paras[0], tc_ms=paras[1], fac=paras[2], shift=paras[3])
    target = wav2aud(rng.standard_normal(N_SAMPLES), **p.to_dict())
    n = target.shape[0] * p.frame_len
    guess = rng.standard_normal(n)
    ref_v5, ref_y = _reference_iteration(guess, target, p)
    per_chunk_mb = _kernels.CHUNK * _kernels.N_OUT * 8 / 2**20
    for threads in (1, 2):
        for memory_mb in (0.0, 3 * per_chunk_mb, 256.0):  # recompute all, a few stored, all stored
            runner = A2W._IterationRunner(n, target, p, threads=threads, memory_mb=memory_mb)
            v5_new, y_cum = runner.run(guess)
            assert np.array_equal(v5_new, ref_v5), (threads, memory_mb)
            assert np.array_equal(y_cum, ref_y), (threads, memory_mb)
    assert runner.c_store == 0 and A2W._IterationRunner(n, target, p, threads=1, memory_mb=0).c_store == runner.n_chunks


def test_whole_inversion_does_not_depend_on_threads_or_memory(rng):
    spec = wav2aud(rng.standard_normal(N_SAMPLES))
    base = aud2wav(spec, n_iter=4, threads=1)
    for kw in ({"threads": 2}, {"threads": 2, "memory_mb": 1}, {"threads": 1, "memory_mb": 0}):
        other = aud2wav(spec, n_iter=4, **kw)
        np.testing.assert_array_equal(other.x, base.x)
        np.testing.assert_array_equal(other.x_best, base.x_best)
        np.testing.assert_array_equal(other.errors, base.errors)


def test_many_clips_equal_one_by_one(rng):
    specs = [wav2aud(rng.standard_normal(k * 1600)) for k in (3, 5, 4)]
    many = aud2wav_many(specs, n_iter=3, rng=[1, 2, 3], workers=2)
    for spec, seed, res in zip(specs, (1, 2, 3), many):
        one = aud2wav(spec, n_iter=3, rng=seed)
        np.testing.assert_array_equal(res.x_best, one.x_best)
        np.testing.assert_array_equal(res.errors, one.errors)
    assert aud2wav_many([], n_iter=1) == []


@pytest.mark.parametrize("kw", [{"threads": 3}, {"threads": 0}, {"threads": 1.5}, {"memory_mb": -1}, {"memory_mb": "a"}])
def test_bad_settings_are_refused(kw):
    with pytest.raises(ParameterError):
        aud2wav(np.ones((5, 128)), n_iter=1, **kw)


def test_many_refuses_a_shared_generator_and_mismatched_seeds():
    specs = [np.ones((5, 128))] * 2
    with pytest.raises(ParameterError, match="Generator"):
        aud2wav_many(specs, rng=np.random.default_rng(0))
    with pytest.raises(ParameterError, match="entries"):
        aud2wav_many(specs, rng=[1])
    with pytest.raises(ParameterError, match="threads"):
        aud2wav_many(specs, threads=2)

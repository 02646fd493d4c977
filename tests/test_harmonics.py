"""Harmonics of a steady voice in the auditory spectrogram (lip2audspec.auditory.harmonics)."""

import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.auditory import center_frequencies, wav2aud
from lip2audspec.auditory.harmonics import estimate_f0, harmonic_ripple, impose_harmonics


def _voice(f0, seconds=1.0, sr=16000):
    """A harmonic complex at f0 (1/k amplitudes up to 7 kHz): a steady voiced sound."""
    t = np.arange(int(seconds * sr)) / sr
    return sum(np.cos(2 * np.pi * f0 * k * t) / k for k in range(1, int(7000 / f0)))


def test_ripple_peaks_on_the_resolved_harmonics():
    cf = center_frequencies()
    r = harmonic_ripple(120.0)
    assert r.shape == (128,) and 0.8 < r.mean() < 1.2 and not r.flags.writeable
    assert harmonic_ripple(120) is r  # cached
    for k in range(2, 8):  # 240 ... 840 Hz: one ridge per harmonic, a trough half-way between
        on = int(np.argmin(np.abs(cf - k * 120)))
        off = int(np.argmin(np.abs(cf - (k + 0.5) * 120)))
        assert r[on - 1: on + 2].max() > 1.3 and r[off] < 0.7 < r[on - 1: on + 2].max(), k
    assert np.all(np.abs(r[cf > 3500] - 1) < 0.35)  # unresolved up high: the envelope is left alone
    assert not np.allclose(harmonic_ripple(100.0), r)


def test_impose_harmonics_multiplies_by_the_ripple(rng):
    spec = rng.random((5, 128))
    np.testing.assert_array_equal(impose_harmonics(spec, 107.0, strength=0), spec)
    np.testing.assert_allclose(impose_harmonics(spec, 107.0), spec * harmonic_ripple(107.0))
    np.testing.assert_allclose(impose_harmonics(spec, 107.0, strength=0.5), spec * harmonic_ripple(107.0) ** 0.5)
    for bad in (0, -5, np.nan, "107", True, 5000.0):  # 5000 Hz: above a quarter of 16 kHz
        with pytest.raises(ParameterError, match="f0_hz"):
            impose_harmonics(spec, bad)
    with pytest.raises(ParameterError, match="strength"):
        impose_harmonics(spec, 107.0, strength=-1)
    with pytest.raises(ParameterError, match="negative"):
        impose_harmonics(-spec, 107.0)
    with pytest.raises(ParameterError, match="shape"):
        impose_harmonics(spec[:, :64], 107.0)


def test_estimate_f0_reads_the_pitch_off_auditory_spectrograms():
    for f0 in (95.0, 150.0, 220.0):
        assert abs(estimate_f0(wav2aud(_voice(f0)), step_hz=2) - f0) <= 2, f0
    # several clips (a list), silence among them is left out
    mixed = [wav2aud(_voice(130.0, 0.5)), np.zeros((40, 128)), wav2aud(_voice(130.0, 0.5))]
    assert abs(estimate_f0(mixed, step_hz=2) - 130.0) <= 2
    with pytest.raises(ParameterError, match="10 frames"):
        estimate_f0(np.zeros((50, 128)))
    with pytest.raises(ParameterError, match="fmax_hz"):
        estimate_f0(np.ones((50, 128)), fmin_hz=200, fmax_hz=100)
    with pytest.raises(ParameterError, match="at least one"):
        estimate_f0([])
    with pytest.raises(ParameterError, match="smooth_channels"):
        estimate_f0(wav2aud(_voice(130.0, 0.5)), smooth_channels=0)


def test_voice_f0_of_a_prepared_dataset(tiny_runs, tmp_path):
    """``evaluate --voice-f0 auto`` takes the pitch from the training targets: a speaking pitch, not a grid edge."""
    from lip2audspec.evaluation.evaluate import evaluate, voice_f0_of_dataset

    f0 = voice_f0_of_dataset(tiny_runs["data"])
    assert 75 < f0 < 295 and voice_f0_of_dataset(tiny_runs["data"], max_clips=3) > 0
    with pytest.raises(ParameterError, match="no split 'seen/nothing'"):
        voice_f0_of_dataset(tiny_runs["data"], split="seen/nothing")
    with pytest.raises(ParameterError, match="voice_f0"):
        evaluate(tiny_runs["lip"], tiny_runs["data"], out=tmp_path / "r", voice_f0="high")

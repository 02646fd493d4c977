import numpy as np
import pytest

from lip2audspec.auditory import N_CHANNELS, center_frequencies, cochlear_filterbank, frequency_responses, load_cochba
from lip2audspec.errors import ParameterError


def test_cochba_package_data_is_the_toolbox_filter_set(nsl_ref):
    ours = load_cochba()
    ref = np.load(nsl_ref / "cochba_aud24.npy")
    assert ours.dtype == np.complex128 and ours.shape == (26, 129)
    assert np.array_equal(ours, ref)  # bit-identical to aud24.mat


def test_filterbank_structure():
    bank = cochlear_filterbank()
    assert len(bank) == N_CHANNELS + 1
    orders = [f.order for f in bank]
    assert min(orders) == 7 and max(orders) == 24
    for f in bank:
        assert f.a[0] == 1.0 and len(f.b) == len(f.a)
        assert np.all(np.abs(np.roots(f.a)) < 1.0)  # every filter is stable
    assert bank[-1].norm == pytest.approx(4.3595, abs=1e-4)


def test_center_frequencies_match_toolbox(nsl_ref):
    ref = np.load(nsl_ref / "cf_hz_16k.npy")
    np.testing.assert_allclose(center_frequencies(include_top=True), ref, rtol=1e-12)
    np.testing.assert_allclose(center_frequencies(shift=-1), ref[:128] / 2, rtol=1e-12)


def test_frequency_responses_peak_near_centre_frequency():
    f, mag = frequency_responses(n_freqs=4096)
    cf = center_frequencies()
    assert mag.shape == (128, 4096)
    peaks = f[np.argmax(mag, axis=1)]
    # the asymmetric cochlear filters peak within a quarter octave of their CF
    assert np.all(np.abs(np.log2(peaks[10:] / cf[10:])) < 0.25)


def test_center_frequencies_rejects_bad_shift():
    with pytest.raises(ParameterError, match="shift"):
        center_frequencies(shift=0.5)

import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.auditory import AuditoryParams, aud2wav, aud2wavi, wav2aud


@pytest.mark.parametrize(
    "x,match",
    [
        (np.array(["a", "b"] * 200), "numeric"),
        (np.ones(400, dtype=complex), "complex"),
        (np.r_[np.ones(399), np.nan], "NaN"),
        (np.r_[np.ones(399), np.inf], "NaN or infinite"),
        (np.array([]), "empty"),
        (np.ones(100), "shorter than one frame"),
        (np.ones((2, 2, 400)), "3-D"),
        ([[1.0, 2.0], [3.0]], "array-like"),
    ],
)
def test_wav2aud_bad_signals(x, match):
    with pytest.raises(ParameterError, match=match):
        wav2aud(x)


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(shift=1), "unsupported shift"),
        (dict(shift=0.5), "shift"),
        (dict(tc_ms=-1), "tc_ms"),
        (dict(frame_ms=0), "frame_ms"),
        (dict(frame_ms=0.01), "shorter than one sample"),
        (dict(fac=np.nan), "fac"),
        (dict(fac="linear"), "fac"),
    ],
)
def test_wav2aud_bad_parameters(kw, match):
    with pytest.raises(ParameterError, match=match):
        wav2aud(np.ones(1600), **kw)


def test_parameter_error_is_value_error():
    assert issubclass(ParameterError, ValueError)


@pytest.mark.parametrize(
    "spec,match",
    [
        (np.ones((10, 127)), r"shape \(frames, 128\)"),
        (np.ones(128), r"shape \(frames, 128\)"),
        (-np.ones((10, 128)), "negative"),
        (np.full((10, 128), np.nan), "NaN"),
        (np.ones((10, 128), dtype=complex), "complex"),
        (np.zeros((0, 128)), "no frames"),
        (np.zeros((3, 128)), "all zeros"),
    ],
)
def test_aud2wav_bad_spectrograms(spec, match):
    with pytest.raises(ParameterError, match=match):
        aud2wav(spec, n_iter=1)


@pytest.mark.parametrize("n_iter", [2.5, "10", -1, True])
def test_aud2wav_bad_iterations(n_iter):
    with pytest.raises(ParameterError, match="n_iter"):
        aud2wav(np.ones((4, 128)), n_iter=n_iter)


def test_aud2wav_bad_start():
    with pytest.raises(ParameterError, match="x0"):
        aud2wav(np.ones((4, 128)), x0="zeros", n_iter=1)
    with pytest.raises(ParameterError, match="x0"):
        aud2wav(np.ones((4, 128)), x0=np.ones((2, 2)), n_iter=1)


def test_aud2wavi_rejects_negative():
    with pytest.raises(ParameterError, match="negative"):
        aud2wavi(-np.ones((3, 128)))


def test_params_properties_and_round_trip():
    p = AuditoryParams(frame_ms=8, tc_ms=8, fac=-2, shift=-1)
    assert p.sr == 8000 and p.frame_len == 64
    assert AuditoryParams.from_dict(p.to_dict()) == p
    assert AuditoryParams(frame_ms=2.5, shift=-2).frame_len == 10  # MATLAB round of 2.5*4 = 10
    assert AuditoryParams(frame_ms=0.5 / 16 * 3, shift=0).frame_len == 2  # round(1.5) = 2, halves away from 0

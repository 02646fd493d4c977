import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.evaluation import corr2d, frame_correlation_np


def test_corr2d_matches_definition(rng):
    a = rng.random((30, 128))
    b = a + 0.5 * rng.random((30, 128))
    expect = np.corrcoef(a.ravel(), b.ravel())[0, 1]
    assert corr2d(a, b) == pytest.approx(expect, rel=1e-12)
    assert corr2d(a, 3 * a + 2) == pytest.approx(1.0)
    assert corr2d(a, np.ones_like(a)) == 0.0


def test_frame_correlation(rng):
    a = rng.random((10, 128))
    assert frame_correlation_np(a, a) == pytest.approx(1.0)
    assert frame_correlation_np(a, -a) == pytest.approx(-1.0)
    per = [np.corrcoef(x, y)[0, 1] for x, y in zip(a, a[::-1])]
    assert frame_correlation_np(a, a[::-1]) == pytest.approx(np.mean(per))


def test_metric_errors():
    with pytest.raises(ParameterError, match="same"):
        corr2d(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ParameterError, match="NaN"):
        corr2d(np.array([1.0, np.nan]), np.array([1.0, 2.0]))

"""Shared fixtures: seeded RNG and the NSL reference folder (../shared/nsl_reference)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NSL_REF = Path(os.environ.get("LIP2AUDSPEC_NSL_REFERENCE", ROOT.parent / "shared" / "nsl_reference"))


@pytest.fixture
def rng():
    return np.random.default_rng(20180415)


@pytest.fixture(scope="session")
def nsl_ref() -> Path:
    if not (NSL_REF / "README.md").is_file():
        pytest.skip(f"NSL reference data not found at {NSL_REF} (set LIP2AUDSPEC_NSL_REFERENCE)")
    return NSL_REF

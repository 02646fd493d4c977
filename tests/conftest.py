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


# ---------------------------------------------------------------------------------------------------------------
# Synthetic GRID-format corpus (lip2audspec.data.synthetic), generated once per test session.
TINY_GRID_SEED = 7


@pytest.fixture(scope="session")
def tiny_grid(tmp_path_factory) -> Path:
    """A small synthetic GRID corpus: 2 speakers x 4 utterances, one clip corrupted, seed 7.

    Layout: ``s{N}/*.mpg``, ``audio_25k/s{N}/*.wav``, ``audio_16k/s{N}/*.wav``, ``alignments/s{N}/*.align``,
    ``mouth_params/s{N}/*.csv``, ``manifest.json`` (its ``corrupted`` list names the damaged clip).
    Treat it as read-only; copy it to modify.
    """
    from lip2audspec.data.synthetic import generate_corpus

    out = tmp_path_factory.mktemp("tiny_grid") / "grid"
    generate_corpus(out, speakers=2, utterances=4, seed=TINY_GRID_SEED, corrupt_fraction=0.125, workers=2, progress=False)
    return out

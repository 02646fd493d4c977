"""Shared fixtures: seeded RNG and the NSL reference folder (../shared/nsl_reference)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# The command-line tools turn TensorFlow's oneDNN kernels on unless this is set (lip2audspec.cli._runner); the
# suite keeps one setting for itself and every subprocess it starts, so fresh-process reload checks compare
# like with like. Off (TensorFlow's own default in this build) unless the caller chose.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

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
# Synthetic GRID-format corpus (lip2audspec.corpora.synthetic), generated once per test session.
TINY_GRID_SEED = 7


@pytest.fixture(scope="session")
def tiny_grid(tmp_path_factory) -> Path:
    """A small synthetic GRID corpus: 2 speakers x 4 utterances, one clip corrupted, seed 7.

    Layout: ``s{N}/*.mpg``, ``audio_25k/s{N}/*.wav``, ``audio_16k/s{N}/*.wav``, ``alignments/s{N}/*.align``,
    ``mouth_params/s{N}/*.csv``, ``manifest.json`` (its ``corrupted`` list names the damaged clip).
    Treat it as read-only; copy it to modify.
    """
    from lip2audspec.corpora.synthetic import generate_corpus

    out = tmp_path_factory.mktemp("tiny_grid") / "grid"
    generate_corpus(out, speakers=2, utterances=4, seed=TINY_GRID_SEED, corrupt_fraction=0.125, workers=2, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_runs(tiny_grid, tmp_path_factory):
    """tiny_grid prepared with 48x48 haar crops, plus 1-epoch small-preset autoencoder and lip network runs.

    Returns a dict with ``data`` (prepared folder), ``ae`` and ``lip`` (run folders). Quality is poor
    (one epoch): use it to exercise code paths, not to judge results.
    """
    from lip2audspec.data.crop import CropConfig
    from lip2audspec.data.prepare import PrepareConfig, prepare_grid
    from lip2audspec.training import TrainConfig, train_autoencoder, train_lipnet

    root = tmp_path_factory.mktemp("tiny_runs")
    data = root / "prepared"
    prepare_grid(tiny_grid, data, config=PrepareConfig(crop=CropConfig(method="haar", size=48), fractions=(0.5, 0.25, 0.25)),
                 progress=False)
    tc = TrainConfig(epochs=1, verbose=0, tensorboard=False)
    train_autoencoder(data, root / "ae", train_config=tc)
    train_lipnet(data, root / "lip", train_config=tc, autoencoder_run=root / "ae")
    return {"data": data, "ae": root / "ae", "lip": root / "lip"}

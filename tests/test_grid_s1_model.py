"""The bundled ``grid-s1`` model: its files match its card, and it still scores what the card says.

The card's ``fixture_check`` holds the figures the shipped weights got (at bundling time, by
``benchmarks/bench_real_grid.py``) on the test-split clips of the real s1 fixture in
``../shared/real_grid/s1_fixture``; here they are measured again and must agree within the card's
tolerance. A lip network of the same configuration with random weights must fail the same check.
"""

import os
from pathlib import Path

import numpy as np
import pytest

from lip2audspec import pretrained
from lip2audspec.errors import ModelError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid")) / "s1_fixture" / "s1"
NAME = "grid-s1"

pytestmark = pytest.mark.skipif(NAME not in pretrained.available(), reason=f"no bundled {NAME} model in this checkout")


def _check(scores: dict, card: dict) -> list:
    fx, tol = card["fixture_check"], card["fixture_check"]["tolerance"]
    return [f"{k} {scores[k]:.4f} vs card {fx[k]:.4f} (tolerance {tol[k]})" for k in ("corr2d", "stoi")
            if abs(scores[k] - fx[k]) > tol[k]]


def test_files_match_the_card():
    info = pretrained.info(NAME)
    assert {"ae/best.keras", "lip/best.keras", "crop_stats.json"} <= set(info["files"])
    assert "CC BY 4.0" in info["licence"] and "s1" in info["training_data"]
    card = pretrained.card(NAME)
    assert "GRID" in card and "CC BY 4.0" in card and "s1" in card
    model = pretrained.load(NAME)  # verifies every file's SHA-256 against the card
    assert model.lipnet.input_shape[2] == 48


def test_damaged_copy_is_refused(tmp_path):
    import shutil

    shutil.copytree(pretrained.path(NAME), tmp_path / NAME)
    weights = tmp_path / NAME / "lip" / "best.keras"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its model card"):
        pretrained.load(NAME, root=tmp_path)


@pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"real GRID fixture not found at {FIXTURE}")
def test_scores_on_the_fixture_test_clips_match_the_card():
    import keras

    from lip2audspec.evaluation.spectral import score_videos

    info = pretrained.info(NAME)
    fx = info["fixture_check"]
    videos = [FIXTURE / f"{i}.mpg" for i in fx["clips"]]
    assert len(videos) >= 8 and all(v.is_file() for v in videos)
    model = pretrained.load(NAME)
    rec = model.reconstructor(n_iter=fx["iterations"], seed=fx["seed"])
    scores = score_videos(rec, videos)
    assert not _check(scores, info), _check(scores, info)
    # the same check on a lip network with random weights (same configuration) must fail
    keras.utils.set_random_seed(0)
    rec.lipnet = type(rec.lipnet)(rec.lipnet.config)
    random_scores = score_videos(rec, videos[:3])
    assert _check(random_scores, info), random_scores
    assert np.isfinite(random_scores["corr2d"])

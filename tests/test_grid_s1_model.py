"""The bundled real-s1 models (``grid-s1``: window network + autoencoder; ``grid-s1-framesync``: a whole-clip
family predicting the spectrogram): their files match their cards, and they still score what the cards say.

Each card's ``fixture_check`` holds the figures the shipped weights got (at bundling time, by
``benchmarks/bench_real_grid.py`` / ``benchmarks/bundle_sequence_model.py``) on the test-split clips of the real s1 fixture in
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
NAMES = ("grid-s1", "grid-s1-framesync")


@pytest.fixture(params=NAMES)
def name(request):
    if request.param not in pretrained.available():
        pytest.skip(f"no bundled {request.param} model in this checkout")
    return request.param


def _check(scores: dict, card: dict) -> list:
    fx, tol = card["fixture_check"], card["fixture_check"]["tolerance"]
    return [f"{k} {scores[k]:.4f} vs card {fx[k]:.4f} (tolerance {tol[k]})" for k in ("corr2d", "stoi")
            if abs(scores[k] - fx[k]) > tol[k]]


def test_files_match_the_card(name):
    info = pretrained.info(name)
    weights = {"ae/best.keras", "lip/best.keras"} if name == "grid-s1" else {"lip/best.keras"}
    assert weights | {"crop_stats.json"} <= set(info["files"])
    assert "CC BY 4.0" in info["licence"] and "s1" in info["training_data"]
    card = pretrained.card(name)
    assert "GRID" in card and "CC BY 4.0" in card and "s1" in card
    model = pretrained.load(name)  # verifies every file's SHA-256 against the card
    assert model.lipnet.input_shape[2] == 48
    assert (model.autoencoder_run is None) == (name != "grid-s1")


def test_damaged_copy_is_refused(name, tmp_path):
    import shutil

    shutil.copytree(pretrained.path(name), tmp_path / name)
    weights = tmp_path / name / "lip" / "best.keras"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its model card"):
        pretrained.load(name, root=tmp_path)


@pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"real GRID fixture not found at {FIXTURE}")
def test_scores_on_the_fixture_test_clips_match_the_card(name):
    import keras

    from lip2audspec.evaluation.spectral import score_videos

    info = pretrained.info(name)
    fx = info["fixture_check"]
    videos = [FIXTURE / f"{i}.mpg" for i in fx["clips"]]
    assert len(videos) >= 8 and all(v.is_file() for v in videos)
    model = pretrained.load(name)
    rec = model.reconstructor(n_iter=fx["iterations"], seed=fx["seed"])
    scores = score_videos(rec, videos)
    assert not _check(scores, info), _check(scores, info)
    # the same check on a lip network with random weights (same configuration) must fail
    keras.utils.set_random_seed(0)
    rec.lipnet = type(rec.lipnet)(rec.lipnet.config)
    random_scores = score_videos(rec, videos[:3])
    assert _check(random_scores, info), random_scores
    assert np.isfinite(random_scores["corr2d"])

"""Run folders, models and datasets written by lip2audspec 0.1.0 (schema 1) load, resume and predict.

The fixtures in ``tests/data/legacy_v1`` were made by the code of commit 765f659 (see its README):
optimiser settings inside the model configs, no dataset spec in ``dataset.h5``.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.data.dataset import DatasetSpec, GridDataset
from lip2audspec.errors import ParameterError
from lip2audspec.inference import decode, encode, predict_windows
from lip2audspec.models import AutoencoderConfig, LipNetConfig
from lip2audspec.training import RunDir, TrainConfig, migrate_run_config, train_lipnet
from lip2audspec.training.runs import RUN_SCHEMA

LEGACY = Path(__file__).parent / "data" / "legacy_v1"


@pytest.fixture
def legacy(tmp_path):
    dst = tmp_path / "legacy"
    shutil.copytree(LEGACY, dst)
    return dst


def test_run_config_migrates_optimiser_settings(legacy):
    raw = json.loads((legacy / "ae" / "config.json").read_text())
    assert "schema" not in raw and raw["model"]["learning_rate"] == 1e-3  # really schema 1
    doc = RunDir(legacy / "ae").config()
    assert doc["schema"] == RUN_SCHEMA
    assert not {"learning_rate", "batch_size", "lr_factor", "lr_patience"} & set(doc["model"])
    tc = RunDir(legacy / "ae").train_config()
    assert (tc.learning_rate, tc.batch_size, tc.lr_factor, tc.lr_patience) == (1e-3, 64, 0.2, 4)
    lip = RunDir(legacy / "lip")
    assert isinstance(lip.model_config(), LipNetConfig) and lip.model_config().crop_size == 16
    assert lip.train_config().batch_size == 8
    assert json.loads((legacy / "ae" / "config.json").read_text()) == raw  # the file is not rewritten
    with pytest.raises(ParameterError, match="newer"):
        migrate_run_config({**doc, "schema": RUN_SCHEMA + 1})


def test_legacy_models_load_and_predict(legacy):
    ae = RunDir(legacy / "ae").load_model("best")
    assert isinstance(ae.config, AutoencoderConfig) and ae.config.bottleneck == 8
    with GridDataset(legacy / "prepared") as ds:
        spec = ds.array("spec", 0)
        crops = ds.array("crops", 0)
        stored = ds.array("bottleneck", 0)
    codes = encode(ae, spec)
    np.testing.assert_allclose(codes, stored, atol=1e-5)  # the codes the old code stored
    assert decode(ae, codes).shape == spec.shape
    lip = RunDir(legacy / "lip").load_model("best")
    assert predict_windows(lip, crops).shape == (300, 8)


def test_legacy_dataset_has_a_derived_spec(legacy):
    with GridDataset(legacy / "prepared" / "dataset.h5") as ds:
        spec = ds.spec
    assert isinstance(spec, DatasetSpec)
    assert (spec.crop_size, spec.n_frames, spec.frames_per_video_frame, spec.spec_channels) == (16, 75, 4, 128)
    assert spec.target_dim("bottleneck") == 8 and spec.prepare["crop"]["method"] == "haar"


def test_legacy_run_resumes(legacy):
    run = RunDir(legacy / "lip")
    tc = run.train_config().replace(epochs=3, verbose=0)
    res = train_lipnet(legacy / "prepared", run.path, train_config=tc, resume=True)
    assert res["epochs_done"] == 3 and len(res["history"]) == 1
    assert run.state()["epoch"] == 3
    # the optimiser settings the old run used are the ones it continued with
    assert abs(run.state()["learning_rate"] - 1e-3) < 1e-9

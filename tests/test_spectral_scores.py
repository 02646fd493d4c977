"""Spectrogram-domain scores of trained runs (tiny one-epoch runs: values are checked against a direct
computation, not for quality)."""

import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.data.dataset import GridDataset
from lip2audspec.evaluation import corr2d, frame_correlation_np, score_autoencoder, score_lipnet
from lip2audspec.inference import decode, encode, predict_windows
from lip2audspec.training import RunDir


def test_score_autoencoder_matches_a_direct_computation(tiny_runs):
    s = score_autoencoder(tiny_runs["ae"], tiny_runs["data"], split="test")
    ae = RunDir(tiny_runs["ae"]).load_model("best")
    with GridDataset(tiny_runs["data"] / "dataset.h5") as ds:
        spec = ds.array("spec", np.sort(ds.split("seen/test")))
    rec = decode(ae, encode(ae, spec))
    assert s["n_clips"] == len(spec) and s["n_frames"] == spec.shape[0] * spec.shape[1]
    assert s["frame_r"] == pytest.approx(frame_correlation_np(spec, rec), abs=1e-6)
    assert s["corr2d"] == pytest.approx(np.mean([corr2d(a, b) for a, b in zip(spec, rec)]), abs=1e-6)
    assert -1 <= s["frame_r_loud"] <= 1
    with pytest.raises(ParameterError, match="no split"):
        score_autoencoder(ae, tiny_runs["data"], split="unseen")


def test_score_lipnet_per_clip(tiny_runs):
    s = score_lipnet(tiny_runs["lip"], tiny_runs["ae"], tiny_runs["data"], split="seen/test", max_clips=1)
    assert s["n_clips"] == 1 and len(s["per_clip"]) == 1 and s["ms_per_clip"] > 0
    spk, uid, c = s["per_clip"][0]
    lip, ae = RunDir(tiny_runs["lip"]).load_model("best"), RunDir(tiny_runs["ae"]).load_model("best")
    with GridDataset(tiny_runs["data"] / "dataset.h5") as ds:
        i = int(np.sort(ds.split("seen/test"))[0])
        assert (ds.clip_speakers[i], ds.ids[i]) == (spk, uid)
        expected = corr2d(decode(ae, predict_windows(lip, ds.array("crops", i))), ds.array("spec", i))
    assert c == pytest.approx(expected, abs=1e-6) and s["corr2d"] == pytest.approx(c)

"""The SyncNet lip-sync expert: model, LSE-D / LSE-C, training CLI, ``lip2audspec sync``, prepare --sync-check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lip2audspec.data.audio_features import mfcc, sync_audio_features  # noqa: E402
from lip2audspec.data.sync_check import SyncCheckConfig, apply_sync_check, shift_target  # noqa: E402
from lip2audspec.errors import DataError, ParameterError  # noqa: E402
from lip2audspec.models.syncnet import SyncNet, SyncNetConfig, sync_bce_loss, syncnet_preset  # noqa: E402
from lip2audspec.sync import (  # noqa: E402
    NOT_COMPARABLE,
    SyncExpert,
    lse,
    lse_from_distances,
    offset_distances,
    shift_audio,
)

ROOT = Path(__file__).resolve().parents[1]
REAL_GRID = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid"))
FIXTURE = REAL_GRID / "s1_fixture"
# the fixture clips that are s1 test clips (never seen by the bundled expert)
TEST_CLIPS = ("bbaf5a", "lbad9a", "lrae3s")

#: a tiny SyncNet for the fast tests
TINY = SyncNetConfig(crop_size=16, video_filters=(4, 8), video_pool_after=(1, 2), audio_filters=(4, 8),
                     audio_pool_after=(1, 2), fc_units=16, embed_dim=8)


# ---------------------------------------------------------------------------------------------- LSE
def test_lse_on_a_hand_made_distance_matrix():
    """Means per shift, arg-min, lower-middle median: the reference's evaluate() by hand."""
    # 3 windows, vshift 2 (shifts -2..+2)
    d = np.array([[5.0, 4.0, 3.0, 1.0, 6.0],
                  [5.0, 2.0, 3.0, 1.0, 6.0],
                  [5.0, 3.0, 3.0, 1.0, 3.0]])
    s = lse_from_distances(d)
    # means: 5, 3, 3, 1, 5 -> min 1 at column 3 = shift +1; sorted 1 3 3 5 5 -> median 3
    np.testing.assert_allclose(s.mean_distances, [5, 3, 3, 1, 5])
    assert s.offset_frames == 1 and s.lse_d == pytest.approx(1.0) and s.lse_c == pytest.approx(2.0)
    assert s.n_windows == 3 and list(s.shifts) == [-2, -1, 0, 1, 2]
    # even number of shifts cannot happen; a wrong vshift is refused
    with pytest.raises(ParameterError):
        lse_from_distances(d[:, :4])
    with pytest.raises(ParameterError):
        lse_from_distances(d, vshift=3)
    with pytest.raises(DataError):
        lse_from_distances(np.full((2, 3), np.nan))


def test_offset_distances_pad_the_audio_with_zeros_and_sign_means_audio_late():
    rng = np.random.default_rng(0)
    n, D, late = 12, 6, 3
    v = rng.random((n, D))
    # audio late by 3 frames: the audio embedding of video window i sits at i + 3
    a = np.zeros((n, D))
    a[late:] = v[:-late]
    d = offset_distances(v, a, vshift=4)
    assert d.shape == (n, 9)
    # column j compares v_i with a_{i + j - 4}; outside the sequence a = 0, so the distance is ||v_i||
    np.testing.assert_allclose(d[0, 0], np.linalg.norm(v[0]))
    np.testing.assert_allclose(d[:n - late, 4 + late], 0.0, atol=1e-12)
    assert lse(v, a, vshift=4).offset_frames == late
    assert lse(a, v, vshift=4).offset_frames == -late  # the roles swapped: audio early
    with pytest.raises(ParameterError):
        offset_distances(v, a[:5])


def test_shift_audio_and_shift_target():
    x = np.arange(1, 9, dtype=float)
    np.testing.assert_array_equal(shift_audio(x, 1, sr=50, fps=25), [0, 0, 1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(shift_audio(x, -1, sr=50, fps=25), [3, 4, 5, 6, 7, 8, 0, 0])
    spec = np.arange(8.0)[:, None]
    np.testing.assert_array_equal(shift_target(spec, -1, frames_per_video_frame=2)[:, 0], [0, 0, 0, 1, 2, 3, 4, 5])
    # shifting the target by the detected offset undoes a delay of the audio
    delayed = shift_target(spec, -1, frames_per_video_frame=2)
    np.testing.assert_array_equal(shift_target(delayed, 1, frames_per_video_frame=2)[:5, 0], spec[:5, 0])


# ---------------------------------------------------------------------------------------------- features
def test_mfcc_shape_frames_and_errors():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(16000 * 3) * 0.1
    f = mfcc(x, sr=16000, n_frames=300)
    assert f.shape == (300, 13) and f.dtype == np.float32 and np.all(np.isfinite(f))
    # frame i is centred on hop i: a click at 1.0 s shows in frame 100's energy, not 97's
    y = np.zeros(16000 * 2)
    y[16000] = 1.0
    e = mfcc(y, sr=16000)[:, 0]
    assert np.argmax(e) in (99, 100, 101) and e[100] > e[96] + 5
    assert sync_audio_features(x, kind="mfcc", n_video_frames=75).shape == (300, 13)
    with pytest.raises(ParameterError):
        mfcc(np.zeros((2, 100)))
    with pytest.raises(ParameterError):
        sync_audio_features(x, kind="mel", n_video_frames=75)
    with pytest.raises(DataError):
        sync_audio_features(np.full(100, np.nan), kind="mfcc", n_video_frames=2)


# ---------------------------------------------------------------------------------------------- model
def test_syncnet_shapes_config_round_trip_and_presets():
    for feats in ("mfcc", "audspec"):
        c = TINY.replace(audio_features=feats)
        m = SyncNet(c)
        v = np.random.default_rng(0).random((3, *c.video_shape), dtype=np.float32)
        a = np.random.default_rng(1).random((3, *c.audio_shape), dtype=np.float32)
        ev, ea = m.infer((v, a))
        assert ev.shape == (3, 8) and ea.shape == (3, 8) and c.audio_shape == (20, 13 if feats == "mfcc" else 128)
        norms = np.linalg.norm(ev, axis=1)
        assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0)) and np.all(ev >= 0)
        assert SyncNetConfig.from_json(c.to_json()) == c
        assert SyncNet.from_config(m.get_config()).config == c
    assert syncnet_preset("small").crop_size == 48 and syncnet_preset("paper").embed_dim == 256
    assert syncnet_preset("small", audio_features="audspec").audio_dim == 128
    with pytest.raises(ParameterError):
        syncnet_preset("huge")
    with pytest.raises(ParameterError):
        SyncNetConfig(audio_features="mel")
    with pytest.raises(ParameterError):
        SyncNetConfig(video_filters=(4,), video_pool_after=(2,))


def test_sync_bce_loss_prefers_matching_pairs():
    e = np.eye(4, dtype=np.float32)
    same = float(sync_bce_loss(e, e, np.ones(4)))
    other = float(sync_bce_loss(e, np.roll(e, 1, axis=0), np.ones(4)))
    assert same < 1e-5 < 10 < other
    assert float(sync_bce_loss(e, np.roll(e, 1, axis=0), np.zeros(4))) < 1e-5


_LOAD = textwrap.dedent(
    """
    import sys, numpy as np, keras
    import lip2audspec.models as M
    m = keras.saving.load_model(sys.argv[1])
    assert type(m).__name__ == "SyncNet" and m.config == M.SyncNetConfig.load_json(sys.argv[2])
    z = np.load(sys.argv[3])
    v, a = m((z["v"], z["a"]), training=False)
    np.savez(sys.argv[4], v=np.asarray(v), a=np.asarray(a), ve=np.asarray(m.video_encoder(z["v"], training=False)))
    """
)


def test_syncnet_keras_reload_in_a_fresh_process(tmp_path):
    import keras

    m = SyncNet(TINY).compile_for_training(learning_rate=1e-3)
    rng = np.random.default_rng(2)
    for layer in m._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.moving_mean.assign(rng.normal(0, 0.1, layer.moving_mean.shape).astype(np.float32))
    v = rng.random((2, *TINY.video_shape), dtype=np.float32)
    a = rng.random((2, *TINY.audio_shape), dtype=np.float32)
    m.save(tmp_path / "m.keras")
    TINY.save_json(tmp_path / "c.json")
    np.savez(tmp_path / "x.npz", v=v, a=a)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-c", _LOAD, str(tmp_path / "m.keras"), str(tmp_path / "c.json"),
                          str(tmp_path / "x.npz"), str(tmp_path / "y.npz")], capture_output=True, text=True, env=env,
                         timeout=240)
    assert res.returncode == 0, res.stderr[-3000:]
    y = np.load(tmp_path / "y.npz")
    ev, ea = m((v, a), training=False)
    np.testing.assert_allclose(y["v"], np.asarray(ev), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y["a"], np.asarray(ea), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y["ve"], np.asarray(ev), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------------- training CLI
@pytest.fixture(scope="module")
def tiny_sync_run(tiny_runs, tmp_path_factory):
    """One epoch of ``lip2audspec train-sync`` (audspec features, tiny model) on the tiny prepared corpus."""
    from lip2audspec.cli.main import main

    root = tmp_path_factory.mktemp("sync_run")
    TINY.replace(audio_features="audspec", crop_size=48).save_json(root / "tiny.json")
    run = root / "run"
    rc = main(["train-sync", str(tiny_runs["data"]), "--run", str(run), "--features", "audspec", "--model-config",
               str(root / "tiny.json"), "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "8", "--verbose", "0",
               "--no-tensorboard"])
    assert rc == 0
    return run


def test_train_sync_cli_one_epoch_and_resume(tiny_sync_run, tiny_runs, capsys):
    from lip2audspec.cli.main import main
    from lip2audspec.training.runs import RunDir

    run = RunDir(tiny_sync_run)
    doc = run.config()
    assert doc["kind"] == "syncnet" and doc["model"]["audio_features"] == "audspec"
    assert run.state()["epoch"] == 1 and run.file("best.keras").is_file()
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(run.state()["logs"])
    assert main(["train-sync", "--resume", str(tiny_sync_run), "--epochs", "2", "--verbose", "0"]) == 0
    assert run.state()["epoch"] == 2
    # the expert of the run scores a prepared clip; the per-offset curve has 31 points
    expert = SyncExpert.load(tiny_sync_run)
    from lip2audspec.data.dataset import GridDataset

    with GridDataset(tiny_runs["data"]) as ds:
        crops, spec = ds.array("crops", 0), ds.array("spec", 0)
    s = expert.score(crops, spec)
    assert -15 <= s.offset_frames <= 15 and s.lse_c >= 0 and len(s.mean_distances) == 31
    assert s.n_windows == crops.shape[0] - 4
    with pytest.raises(DataError, match="at least 5"):
        expert.score(crops[:4], spec[:16])
    # the Wav2Lip-facing API: windows, embeddings and a differentiable loss
    vw = expert.video_windows(crops)
    aw = expert.audio_windows(spec, n_windows=len(vw))
    assert vw.shape == (len(crops) - 4, 5, 48, 48) and aw.shape == (len(crops) - 4, 20, 128)
    assert np.isfinite(float(expert.sync_loss(vw[:4], aw[:4])))
    # a run of another kind is refused
    from lip2audspec.errors import ModelError

    with pytest.raises(ModelError, match="not a SyncNet"):
        SyncExpert.load(tiny_runs["ae"])


def test_train_sync_mfcc_needs_features_first(tiny_runs, tmp_path):
    from lip2audspec.training.sync import train_syncnet

    with pytest.raises(DataError, match="add_sync_features"):
        train_syncnet(tiny_runs["data"], tmp_path / "r", model_config=TINY.replace(crop_size=48))


def test_prepare_sync_check_records_corrects_and_excludes(tmp_path):
    """apply_sync_check with a stand-in measurement: records, cache, correction, exclusion."""
    clips = [{"speaker": "s1", "id": f"c{i}", "crops": np.zeros((10, 4, 4), np.uint8),
              "spec": np.arange(40.0)[:, None]} for i in range(3)]
    fake = {"c0": (0, 0.5), "c1": (2, 0.5), "c2": (9, 0.01)}
    calls = []

    def measure(crops, spec, audio, clips=clips):
        cid = next(c["id"] for c in clips if c["spec"] is spec)
        calls.append(cid)
        off, conf = fake[cid]
        return {"offset_frames": off, "lse_d": 0.5, "lse_c": conf}

    cfg = SyncCheckConfig(expert="x", correct=True, max_offset=3, min_confidence=0.1)
    excluded = []
    kept, recs = apply_sync_check(clips, excluded, measure=measure, config=cfg, work=tmp_path, audio_for=None)
    assert [r["action"] for r in recs] == ["kept", "corrected", "excluded"]
    assert [c["id"] for c in kept] == ["c0", "c1"] and excluded[0]["stage"] == "sync"
    np.testing.assert_array_equal(kept[1]["spec"][:3, 0], [8, 9, 10])  # moved earlier by 2 frames x 4
    # cached per clip and expert: a rerun does not measure again
    kept2, _ = apply_sync_check(clips, [], measure=measure, config=cfg, work=tmp_path, audio_for=None)
    assert len(calls) == 3 and len(kept2) == 2


# ---------------------------------------------------------------------------------------------- sync CLI, bad input
@pytest.fixture(scope="module")
def fixture_clip():
    clip = FIXTURE / "s1" / f"{TEST_CLIPS[0]}.mpg"
    if not clip.is_file():
        pytest.skip(f"real GRID fixture not found at {FIXTURE} (set LIP2AUDSPEC_REAL_GRID)")
    return clip


def _bundled_or_skip():
    from lip2audspec.pretrained import bundles
    from lip2audspec.sync import DEFAULT_EXPERT

    if DEFAULT_EXPERT not in bundles.available():
        pytest.skip("no bundled lip-sync expert")


def test_sync_cli_on_a_real_grid_clip(fixture_clip, tmp_path, capsys):
    """The bundled expert finds a real s1 test clip in sync, and an 8-frame delay of its audio."""
    _bundled_or_skip()
    from lip2audspec.auditory import write_wav
    from lip2audspec.cli.main import main
    from lip2audspec.data.audio import read_container_audio

    png = tmp_path / "d.png"
    assert main(["sync", str(fixture_clip), "--json", "--plot", str(png)]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"offset_frames", "lse_d", "lse_c"} <= set(doc) and doc["note"] == NOT_COMPARABLE
    assert abs(doc["offset_frames"]) <= 1 and doc["lse_c"] > 0 and png.stat().st_size > 1000
    x = read_container_audio(fixture_clip, sr=16000)
    write_wav(tmp_path / "late.wav", shift_audio(x, 8, sr=16000), sr=16000)
    assert main(["sync", str(fixture_clip), "--audio", str(tmp_path / "late.wav"), "--json"]) == 0
    late = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert abs(late["offset_frames"] - 8) <= 1
    assert main(["sync", str(fixture_clip)]) == 0
    assert "not comparable" in capsys.readouterr().out


def test_sync_bad_inputs_give_one_clear_error(fixture_clip, tiny_sync_run, tmp_path, capsys):
    import cv2

    from lip2audspec.auditory import write_wav
    from lip2audspec.cli.main import main
    from lip2audspec.data.video import write_video

    frames = np.full((4, 64, 64), 128, np.uint8)
    write_video(tmp_path / "short.mp4", frames, fps=25)
    write_wav(tmp_path / "short.wav", np.zeros(1600), sr=16000)
    write_wav(tmp_path / "half.wav", np.zeros(16000), sr=16000)  # 1 s for a 3 s clip
    cases = {
        "short": ([str(tmp_path / "short.mp4"), "--audio", str(tmp_path / "short.wav")], "at least 5"),
        "no audio": ([str(tmp_path / "short.mp4")], None),
        "audio shorter": ([str(fixture_clip), "--audio", str(tmp_path / "half.wav")], "shorter than the video"),
        "missing": ([str(tmp_path / "nope.mp4")], None),
    }
    for name, (argv, msg) in cases.items():
        rc = main(["sync", *argv, "-m", str(tiny_sync_run)])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("lip2audspec sync: error:"), (name, err)
        if msg:
            assert msg in err[0], (name, err)
    # a video without an audio track, long enough
    write_video(tmp_path / "silent.mp4", np.full((10, 64, 64), 128, np.uint8), fps=25)
    rc = main(["sync", str(tmp_path / "silent.mp4"), "-m", str(tiny_sync_run)])
    assert rc == 2 and "no audio track" in capsys.readouterr().err
    assert cv2 is not None

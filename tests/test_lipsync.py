"""Wav2Lip (speech -> lips): face geometry, generator shapes/config/reload, training CLI, lipsync CLI, bad input.

Tiny configurations (32 px faces, a few filters) keep every test to a few seconds; the face dataset is built
once per session from the ``tiny_runs`` preparation of the synthetic fixture corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.data.faces import (blend_mask, crop_faces, face_boxes, mouth_boxes_from_faces, mouth_region,
                                    paste_faces)
from lip2audspec.errors import DataError, ModelError, ParameterError
from lip2audspec.evaluation.faces import mouth_openings, opening_scores, psnr, soft_mouth_openings, ssim
from lip2audspec.lipsync import LipSyncer, loop_indices
from lip2audspec.models.wav2lip import Wav2Lip, Wav2LipConfig, face_levels, mask_lower_half, wav2lip_preset
from lip2audspec.training.lipsync_data import FaceWindows, frame_audio_windows, load_faces, to_generator_inputs

TINY = dict(face_size=32, face_filters=(4, 8, 8, 16, 16, 16), audio_filters=(4, 8, 16), decoder_filters=(16, 16, 8, 8, 4),
            head_filters=4, residual=1, disc_weight=0.0, disc_filters=(4, 8))


def tiny_config(**kw) -> Wav2LipConfig:
    return Wav2LipConfig(**{**TINY, **kw})


# ----------------------------------------------------------------------------------------------- geometry
def test_face_box_puts_the_mouth_box_in_the_lower_half_centre():
    mouth = np.array([[100.0, 150.0, 140.0, 190.0], [90.5, 140.0, 130.5, 180.0]])
    faces = face_boxes(mouth)
    side = faces[:, 2] - faces[:, 0]
    np.testing.assert_allclose(side, 80.0)
    np.testing.assert_allclose(faces[:, 1] + side / 2, mouth[:, 1])  # mouth box top = face middle line
    np.testing.assert_allclose(faces[:, 3], mouth[:, 3])  # bottoms coincide
    np.testing.assert_allclose(mouth_boxes_from_faces(faces), mouth)
    with pytest.raises(ParameterError):
        face_boxes([[0, 0, 0, 10]])


def test_crop_then_paste_restores_the_frame_and_only_touches_the_lower_half(rng):
    frames = rng.integers(0, 255, (2, 120, 160, 3)).astype(np.uint8)
    frames = np.ascontiguousarray(np.repeat(np.repeat(frames[:, ::4, ::4], 4, 1), 4, 2))  # smooth enough to resample
    boxes = face_boxes([[60.0, 50.0, 100.0, 90.0]] * 2)
    faces = crop_faces(frames, boxes, size=64)
    assert faces.shape == (2, 64, 64, 3) and mouth_region(faces).shape == (2, 32, 32, 3)
    same = paste_faces(frames, faces, boxes)
    assert np.abs(same.astype(int) - frames).mean() < 6  # resampling error only
    white = paste_faces(frames, np.full_like(faces, 255), boxes)
    changed = np.any(white != frames, axis=(0, 3))
    ys, xs = np.nonzero(changed)
    assert ys.min() >= boxes[0, 1] + (boxes[0, 3] - boxes[0, 1]) / 2 - 1  # nothing above the face's middle line
    assert xs.min() >= boxes[0, 0] - 1 and xs.max() <= boxes[0, 2] + 1
    m = blend_mask(64)
    assert m[:32].max() == 0 and m[48, 32] == pytest.approx(1.0) and m.min() >= 0


def test_face_scores():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (3, 32, 32, 3)).astype(np.uint8)
    assert ssim(x, x) == pytest.approx(1.0) and psnr(x, x) == float("inf")
    assert ssim(x, 255 - x) < 0.2
    faces = np.full((4, 32, 32, 3), 180, np.uint8)
    for t in range(4):
        faces[t, 22: 22 + 2 * t, 12:20] = 10  # a dark opening growing frame by frame
    o = mouth_openings(faces)
    np.testing.assert_array_equal(o, [0, 16, 32, 48])
    assert opening_scores(o, 2 * o)["r"] == pytest.approx(1.0)
    assert np.isnan(opening_scores(np.zeros(4), o)["r"])
    soft = soft_mouth_openings(faces)
    assert opening_scores(soft, o)["r"] > 0.99 and soft[3] == pytest.approx(48, abs=2)  # follows the hard count
    blurry = np.full((4, 32, 32, 3), 180, np.uint8)
    for t in range(4):
        blurry[t, 22:26, 12:20] = 120 - 10 * t  # a darker band, never black: the hard count stays 0
    assert mouth_openings(blurry).max() == 0
    assert opening_scores(soft_mouth_openings(blurry), o)["r"] > 0.9  # the soft one is defined and follows it
    with pytest.raises(ParameterError, match="softness"):
        soft_mouth_openings(faces, softness=0)


def test_loop_indices_and_audio_windows():
    assert loop_indices(4, 9).tolist() == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    assert loop_indices(5, 3).tolist() == [0, 1, 2]  # trimmed
    assert loop_indices(3, 5, mode="none").tolist() == [0, 1, 2, 2, 2]
    with pytest.raises(ParameterError):
        loop_indices(3, 5, mode="pingpong")
    spec = np.arange(40.0)[:, None] * np.ones((1, 3))
    w = frame_audio_windows(spec, n_frames=10, k=4, frames=20)
    assert w.shape == (10, 20, 3)
    assert w[5, :, 0].tolist() == list(range(12, 32))  # centred on frame 5 (rows 20..23)
    assert w[0, :8, 0].tolist() == [0] * 8  # zero-padded before the clip
    with pytest.raises(ParameterError):
        frame_audio_windows(spec, n_frames=11, k=4)


# --------------------------------------------------------------------------------------------- the model
def test_config_round_trip_and_validation(tmp_path):
    for name in ("small", "paper"):
        c = wav2lip_preset(name)
        assert Wav2LipConfig.from_dict(c.to_dict()) == c
        assert Wav2LipConfig.load_json(c.save_json(tmp_path / f"{name}.json")) == c
    assert wav2lip_preset("paper").recon_weight == pytest.approx(0.9)
    assert face_levels(48) == [48, 24, 12, 6, 3, 1]
    with pytest.raises(ParameterError, match="face_filters needs 7"):
        Wav2LipConfig(face_filters=(16, 32))
    with pytest.raises(ParameterError, match="halve cleanly"):
        Wav2LipConfig(face_size=80)
    with pytest.raises(ParameterError, match="sync_weight"):
        Wav2LipConfig(sync_weight=0.5, disc_weight=0.5)
    with pytest.raises(ParameterError, match="unknown Wav2Lip preset"):
        wav2lip_preset("huge")


@pytest.mark.parametrize("kw", [{}, {"face_size": 48, "face_filters": (4, 8, 8, 16, 16, 16), "disc_weight": 0.07}])
def test_generator_shapes(kw):
    m = Wav2Lip(tiny_config(**kw))
    S = m.config.face_size
    faces = np.random.default_rng(0).random((2, 5, S, S, 6)).astype("float32")
    audio = np.random.default_rng(1).random((2, 5, 20, 128)).astype("float32")
    out = m.infer((faces, audio))
    assert out.shape == (2, 5, S, S, 3) and out.min() >= 0 and out.max() <= 1
    assert m.generate(faces[0], audio[0]).shape == (5, S, S, 3)
    assert (m.discriminator is not None) == (m.config.disc_weight > 0)
    with pytest.raises(ParameterError, match="faces must have shape"):
        m.generate(faces[0, :, :8], audio[0])
    with pytest.raises(ParameterError, match="audio must have shape"):
        m.generate(faces[0], audio[0, :3])


def test_generator_inputs_mask_the_lower_half():
    t = np.full((2, 8, 8, 3), 255, np.uint8)
    x = to_generator_inputs(t, t // 2)
    assert x.shape == (2, 8, 8, 6)
    assert x[:, :4, :, :3].min() == 1.0 and x[:, 4:, :, :3].max() == 0.0  # target: lower half masked
    np.testing.assert_allclose(x[..., 3:], 127 / 255)  # reference untouched
    assert mask_lower_half(np.ones((8, 8, 3)))[4:].max() == 0


def test_training_step_lowers_l1_and_the_gan_step_runs():
    import tensorflow as tf

    m = Wav2Lip(tiny_config(disc_weight=0.07)).compile_for_training(learning_rate=3e-3)
    rng = np.random.default_rng(0)
    y = rng.random((4, 5, 32, 32, 3)).astype("float32")
    x = (to_generator_inputs(y * 255, y * 255), rng.random((4, 5, 20, 128)).astype("float32"),
         rng.random((4, 20, 128)).astype("float32"))
    ds = tf.data.Dataset.from_tensors((x, y)).repeat(8)
    hist = m.fit(ds, epochs=2, verbose=0).history
    assert hist["l1"][1] < hist["l1"][0]
    assert hist["disc"][0] > 0 and hist["sync"][0] == 0  # no expert attached: no sync loss


def test_keras_file_reloads_in_a_fresh_process(tmp_path):
    m = Wav2Lip(tiny_config())
    faces = np.random.default_rng(0).random((1, 5, 32, 32, 6)).astype("float32")
    audio = np.random.default_rng(1).random((1, 5, 20, 128)).astype("float32")
    np.save(tmp_path / "faces.npy", faces)
    np.save(tmp_path / "audio.npy", audio)
    np.save(tmp_path / "want.npy", m.infer((faces, audio)))
    m.save(tmp_path / "m.keras")
    code = textwrap.dedent(f"""
        import numpy as np
        from lip2audspec.training.runs import load_keras_model
        m = load_keras_model({str(tmp_path / 'm.keras')!r})
        got = m.infer((np.load({str(tmp_path / 'faces.npy')!r}), np.load({str(tmp_path / 'audio.npy')!r})))
        np.testing.assert_allclose(got, np.load({str(tmp_path / 'want.npy')!r}), atol=1e-5)
        assert type(m).__name__ == "Wav2Lip" and m.config.face_size == 32
        print("ok")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().endswith("ok")


def test_expert_must_match_the_generator():
    class Cfg:
        window, audio_frames, audio_dim, audio_shape, audio_features = 5, 20, 13, (20, 13), "mfcc"

    class FakeExpert:
        config = Cfg()

    with pytest.raises(ModelError, match="audspec"):
        Wav2Lip(tiny_config()).attach_expert(FakeExpert())


# ----------------------------------------------------------------------------------------- data and CLIs
@pytest.fixture(scope="session")
def tiny_faces(tiny_runs, tmp_path_factory):
    from lip2audspec.training.lipsync_data import build_face_dataset

    return build_face_dataset(tiny_runs["data"], tmp_path_factory.mktemp("faces"), face_size=32)


def test_face_dataset_and_windows(tiny_faces):
    d = load_faces(tiny_faces, "seen/train")
    assert d.faces.shape[1:] == (75, 32, 32, 3) and d.spec.shape[1:] == (300, 128) and len(d) >= 1
    w = FaceWindows(d)
    (faces, audio, expert), target = w.draw(3, np.random.default_rng(0))
    assert faces.shape == (3, 5, 32, 32, 6) and audio.shape == (3, 5, 20, 128) and expert.shape == (3, 20, 128)
    assert target.shape == (3, 5, 32, 32, 3) and faces[:, :, 16:, :, :3].max() == 0
    both = load_faces([tiny_faces, tiny_faces], "seen/train")
    assert len(both) == 2 * len(d)
    with pytest.raises(DataError, match="no split"):
        load_faces(tiny_faces, "unseen/test")


@pytest.fixture(scope="session")
def tiny_lipsync_run(tiny_faces, tmp_path_factory):
    from lip2audspec.cli.main import main

    root = tmp_path_factory.mktemp("lipsync_run")
    tiny_config().save_json(root / "tiny.json")
    rc = main(["train-lipsync", str(tiny_faces.parent), "--run", str(root / "run"), "--model-config", str(root / "tiny.json"),
               "--epochs", "1", "--steps-per-epoch", "2", "--batch-size", "2", "--verbose", "0"])
    assert rc == 0
    return root / "run"


def test_train_lipsync_cli_one_epoch_and_resume(tiny_lipsync_run, capsys):
    from lip2audspec.cli.main import main
    from lip2audspec.training import RunDir

    run = RunDir(tiny_lipsync_run)
    doc = run.config()
    assert doc["kind"] == "wav2lip" and doc["model"]["face_size"] == 32 and doc["expert_run"] is None
    assert run.file("best.keras").is_file() and run.state()["epoch"] == 1
    assert main(["train-lipsync", "--resume", str(tiny_lipsync_run), "--epochs", "2", "--verbose", "0",
                 "--sync-start-step", "5"]) == 0  # a resumed run may change when its sync loss starts (recorded)
    assert run.state()["epoch"] == 2
    doc = run.config()
    assert doc["model"]["sync_start_step"] == 5 and doc["schedule_history"][0]["from_epoch"] == 1
    assert "2 epoch(s) done" in capsys.readouterr().out


def test_lipsync_cli_writes_an_mp4_with_audio(tiny_lipsync_run, tiny_grid, tmp_path, capsys):
    from lip2audspec.auditory import read_wav, write_wav
    from lip2audspec.cli.main import main
    from lip2audspec.data.audio import probe_container_audio, read_container_audio
    from lip2audspec.data.video import probe_video

    video = sorted((tiny_grid / "s1").glob("*.mpg"))[0]
    x, sr = read_wav(sorted((tiny_grid / "audio_16k" / "s2").glob("*.wav"))[0])
    speech = tmp_path / "speech.wav"
    x = np.concatenate([x, x[: sr // 2]])[: int(3.5 * sr)]
    write_wav(speech, x, sr=sr)  # 3.5 s: the 3 s face video must loop
    out = tmp_path / "out" / "talk.mp4"
    faces_png = tmp_path / "faces.png"
    assert main(["lipsync", str(video), str(speech), "-m", str(tiny_lipsync_run), "-o", str(out), "--detector", "haar",
                 "--faces", str(faces_png)]) == 0
    info = probe_video(out)
    assert info.frames == 88 and abs(info.fps - 25) < 0.01  # ceil(3.5 s x 25)
    track = probe_container_audio(out)
    assert track is not None and track.codec == "aac" and abs(track.duration - 3.5) < 0.1
    y = read_container_audio(out, sr=16000)
    assert np.abs(y).max() > 0.05  # the speech, not silence
    assert faces_png.is_file()
    assert "88 frames" in capsys.readouterr().out


def test_lipsync_api_returns_frames_and_keeps_the_upper_face(tiny_lipsync_run, tiny_grid):
    from lip2audspec.data.video import read_video

    video = read_video(sorted((tiny_grid / "s1").glob("*.mpg"))[0], gray=False, fps=25).frames
    syncer = LipSyncer.from_run(tiny_lipsync_run, detector="haar")
    res = syncer.sync(video[:20], np.random.default_rng(0).standard_normal(8000) * 0.1, sr=16000)
    assert res.frames.shape == (13, *video.shape[1:]) and res.faces.shape == (13, 32, 32, 3)
    b = res.boxes[0]
    px = (b[3] - b[1]) / 32  # one face pixel in source pixels (bilinear warps spread the mask by about one)
    top = int(b[1] + (b[3] - b[1]) / 2 - 2 * px)
    np.testing.assert_array_equal(res.frames[:, :max(top, 0)], video[res.source_index][:, :max(top, 0)])


@pytest.mark.parametrize("case", ["missing_video", "short_speech", "nan_speech", "no_face", "bad_suffix", "wrong_run"])
def test_lipsync_bad_inputs(case, tiny_lipsync_run, tiny_runs, tiny_grid, tmp_path, capsys):
    from lip2audspec.auditory import write_wav
    from lip2audspec.cli.main import main
    from lip2audspec.data.video import write_video

    video = sorted((tiny_grid / "s1").glob("*.mpg"))[0]
    speech = tmp_path / "s.wav"
    write_wav(speech, np.random.default_rng(0).standard_normal(16000) * 0.1, sr=16000)
    model, out = tiny_lipsync_run, tmp_path / "o.mp4"
    if case == "missing_video":
        video = tmp_path / "none.mp4"
    elif case == "short_speech":
        write_wav(speech, np.zeros(800), sr=16000)
    elif case == "nan_speech":
        syncer = LipSyncer.from_run(tiny_lipsync_run)
        with pytest.raises(DataError, match="NaN"):
            syncer.sync(np.zeros((5, 64, 64, 3), np.uint8), np.full(8000, np.nan), sr=16000)
        return
    elif case == "no_face":
        video = write_video(tmp_path / "black.avi", np.zeros((10, 96, 96, 3), np.uint8), fps=25)
    elif case == "bad_suffix":
        out = tmp_path / "o.wav"
    elif case == "wrong_run":
        model = tiny_runs["lip"]
    rc = main(["lipsync", str(video), str(speech), "-m", str(model), "-o", str(out), "--detector", "haar"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("lip2audspec lipsync: error:")
    want = {"missing_video": "No such file", "short_speech": "0.2 s", "no_face": "no face", "bad_suffix": ".mp4",
            "wrong_run": "not a Wav2Lip"}[case]
    assert want in err[0]
    assert not out.exists()


def test_train_lipsync_refuses_mismatched_faces(tiny_faces, tmp_path):
    from lip2audspec.training import TrainConfig
    from lip2audspec.training.lipsync import train_lipsync

    with pytest.raises(ParameterError, match="32 px faces"):
        train_lipsync(tiny_faces, tmp_path / "r", model_config=tiny_config(face_size=48, face_filters=(4, 8, 8, 16, 16, 16)),
                      train_config=TrainConfig(epochs=1, steps_per_epoch=1, batch_size=2, verbose=0))
    with pytest.raises(FileNotFoundError):
        train_lipsync(tmp_path / "nothing", tmp_path / "r2", model_config=tiny_config())
    assert json.dumps(tiny_config().to_dict())  # JSON-ready
    assert Path(tiny_faces).name == "faces.h5"


# ------------------------------------------------------------------------------- schedule: sync loss late
def _tiny_expert():
    from lip2audspec.models.syncnet import SyncNet, SyncNetConfig

    return SyncNet(SyncNetConfig(crop_size=16, video_filters=(4, 8), video_pool_after=(1, 2), audio_filters=(4, 8),
                                 audio_pool_after=(1, 2), fc_units=16, embed_dim=8, audio_features="audspec"))


def _objective_parts(hist, c):
    """Per epoch: (loss - L1 term) / sync_weight, i.e. how much of the sync loss the objective held (0 or sync)."""
    return (np.asarray(hist["loss"]) - c.recon_weight * np.asarray(hist["l1"])) / c.sync_weight


def test_sync_loss_enters_the_objective_at_sync_start_step_and_l1_weighs_the_lower_half():
    import tensorflow as tf

    c = tiny_config(sync_start_step=3, lower_weight=3.0)
    m = Wav2Lip(c).compile_for_training(learning_rate=1e-3).attach_expert(_tiny_expert())
    assert m.sync_from_step == 3
    assert Wav2Lip(tiny_config(sync_start_step=3, sync_start_below=1e-6)).sync_from_step == Wav2Lip.NEVER
    rng = np.random.default_rng(0)
    y = rng.random((2, 5, 32, 32, 3)).astype("float32")
    y[:, :, 16:] *= 0.2  # the lower half differs more from the (0.5-ish) first outputs
    x = (to_generator_inputs(y * 255, y * 255), rng.random((2, 5, 20, 128)).astype("float32"),
         rng.random((2, 20, 128)).astype("float32"))
    ds = tf.data.Dataset.from_tensors((x, y))
    hist = m.fit(ds.repeat(), steps_per_epoch=1, epochs=5, validation_data=ds, verbose=0).history
    sync = np.asarray(hist["sync"])
    assert sync.min() > 0  # the expert's BCE is computed and reported before the switch too
    held = _objective_parts(hist, c)
    np.testing.assert_allclose(held[:3], 0, atol=1e-5)  # steps 0, 1, 2: L1 alone
    np.testing.assert_allclose(held[3:], sync[3:], rtol=1e-4)  # from step 3 on: + 0.03 x sync
    # validation always weighs the sync loss as configured (checkpoint selection sees one objective)
    np.testing.assert_allclose(_objective_parts({"loss": hist["val_loss"], "l1": hist["val_l1"]}, c), hist["val_sync"],
                               rtol=1e-4)
    # weighted L1: lower half counts 3x -> l1 = (upper + 3 lower) / 4 per pixel row
    gen = np.asarray(m.infer(x[:2]))
    err = np.abs(gen - y)
    want = (err[:, :, :16].mean() + 3 * err[:, :, 16:].mean()) / 4
    parts = m.compute_losses(((x[0], x[1], x[2]), y), training=False)
    assert float(parts["l1"]) == pytest.approx(want, rel=1e-4)
    assert float(parts["l1_lower"]) == pytest.approx(err[:, :, 16:].mean(), rel=1e-4)
    with pytest.raises(ParameterError, match="lower_weight"):
        tiny_config(lower_weight=0.0)
    with pytest.raises(ParameterError, match="sync_start_step"):
        tiny_config(sync_start_step=-1)


def test_sync_schedule_waits_for_the_expert_threshold_is_recorded_and_survives_resume(tiny_faces, tmp_path):
    from lip2audspec.training import RunDir, TrainConfig
    from lip2audspec.training.lipsync import train_lipsync

    _tiny_expert().save(tmp_path / "expert.keras")
    # step 2 and a threshold that holds: switched on after epoch 2 (optimiser step 2), recorded, kept on resume
    c = tiny_config(sync_start_step=2, sync_start_below=50.0)
    assert Wav2Lip(c).sync_from_step == Wav2Lip.NEVER  # waits for the callback's verdict
    tc = TrainConfig(epochs=2, steps_per_epoch=1, batch_size=2, verbose=0, tensorboard=False)
    run = tmp_path / "run"
    h = train_lipsync(tiny_faces, run, model_config=c, expert_run=tmp_path / "expert.keras", train_config=tc)["history"]
    np.testing.assert_allclose(_objective_parts({k: [e[k] for e in h] for k in ("loss", "l1")}, c), 0, atol=1e-5)
    doc = RunDir(run).config()
    assert doc["model"]["sync_start_below"] == 50.0 and doc["sync_switch"]["step"] == 2
    assert doc["sync_switch"]["epoch"] == 2 and doc["sync_switch"]["val_sync"] < 50.0
    h = train_lipsync(None, run, resume=True, train_config=tc.replace(epochs=3))["history"]
    assert len(h) == 1
    held = _objective_parts({k: [e[k] for e in h] for k in ("loss", "l1")}, c)
    np.testing.assert_allclose(held, [h[0]["sync"]], rtol=1e-4)  # the resumed epoch trains with the sync loss
    assert RunDir(run).config()["sync_switch"]["step"] == 2  # recorded once
    with pytest.raises(ParameterError, match="already switched on"):
        train_lipsync(None, run, resume=True, train_config=tc.replace(epochs=4), sync_schedule={"sync_start_step": 9})


def test_train_lipsync_cli_schedule_flags(tiny_lipsync_run, tmp_path, capsys):
    from lip2audspec.cli.main import main

    rc = main(["train-lipsync", "--resume", str(tiny_lipsync_run), "--lower-weight", "5", "--epochs", "9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "keeps its loss" in err[0]
    from lip2audspec.cli.train_lipsync import _model_config

    class Args:
        model_config, preset = None, "small"

    c = _model_config(Args(), {"sync_start_step": 7, "sync_start_below": 0.75, "lower_weight": 2.0})
    assert (c.sync_start_step, c.sync_start_below, c.lower_weight, c.face_size) == (7, 0.75, 2.0, 64)


def test_train_lipsync_model_config_whole_or_changes(tmp_path):
    """``--model-config``: a whole Wav2Lip config replaces the preset; an object without "kind" changes only
    the fields it names (as train_main's); another kind or an unknown field is refused, naming the file."""
    import json

    from lip2audspec.cli.train_lipsync import _model_config
    from lip2audspec.errors import ParameterError
    from lip2audspec.models.wav2lip import wav2lip_preset

    class Args:
        preset = "small"

        def __init__(self, path):
            self.model_config = str(path)

    whole = tiny_config().save_json(tmp_path / "whole.json")
    assert _model_config(Args(whole)) == tiny_config()
    (tmp_path / "part.json").write_text(json.dumps({"lower_weight": 3.0}))
    assert _model_config(Args(tmp_path / "part.json"), {"sync_start_step": 7}) == wav2lip_preset("small").replace(
        lower_weight=3.0, sync_start_step=7)
    (tmp_path / "other.json").write_text(json.dumps({"kind": "framesync", "crop_size": 48}))
    with pytest.raises(ParameterError, match=r"other\.json: config is of kind 'framesync'"):
        _model_config(Args(tmp_path / "other.json"))
    (tmp_path / "typo.json").write_text(json.dumps({"face_sise": 48}))
    with pytest.raises(ParameterError, match="face_sise"):
        _model_config(Args(tmp_path / "typo.json"))

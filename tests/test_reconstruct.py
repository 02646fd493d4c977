"""Reconstruction from video files with (barely) trained small models."""

import numpy as np
import pytest

from lip2audspec import DataError, ParameterError
from lip2audspec.auditory import read_wav
from lip2audspec.cli.main import main
from lip2audspec.corpora.grid import GridLayout
from lip2audspec.data.targets import TargetConfig, auditory_target, spectrogram_from_target
from lip2audspec.data.video import read_video, write_video


def test_spectrogram_from_target_inverts_postprocessing(rng):
    x = rng.standard_normal(48000) * 0.1
    cfg = TargetConfig()
    from lip2audspec.auditory import wav2aud

    raw = wav2aud(x)
    back = spectrogram_from_target(auditory_target(x, n_video_frames=75, config=cfg), config=cfg)
    np.testing.assert_allclose(back[2:-2], raw[2:-2], rtol=1e-4, atol=1e-7)  # float32 target, 0.3 power


@pytest.fixture(scope="module")
def reconstructor(tiny_runs):
    from lip2audspec.reconstruct import Reconstructor

    return Reconstructor(tiny_runs["lip"], n_iter=3)


def test_reconstruct_grid_video(reconstructor, tiny_grid):
    layout = GridLayout.discover(tiny_grid)
    video = layout.clip_paths("s1", layout.utterances("s1")[0]).video
    out = reconstructor.from_video(video, speaker="s1")
    assert out.sr == 16000 and out.audio.shape == (48000,)
    assert out.spectrogram.shape == (300, 128) and out.codes.shape == (300, 32)
    assert np.isfinite(out.audio).all() and 0.9 < np.abs(out.audio).max() <= 0.99 + 1e-9
    assert set(out.timings) >= {"read", "crop", "lipnet", "decode", "aud2wav"}


def test_reconstruct_other_fps_and_size(reconstructor, tiny_grid, tmp_path):
    """A 30 fps, 1.5x larger mp4 of the same clip: resampled to 25 fps, same number of output frames."""
    import cv2

    layout = GridLayout.discover(tiny_grid)
    v = read_video(layout.clip_paths("s2", layout.utterances("s2")[0]).video, gray=False)
    idx = np.minimum(np.round(np.arange(90) * 25 / 30).astype(int), 74)
    frames = np.stack([cv2.resize(v.frames[i], (540, 432)) for i in idx])
    path = write_video(tmp_path / "clip30.mp4", frames, fps=30)
    out = reconstructor.from_video(path)
    assert out.audio.shape == (48000,)


def test_reconstruct_errors(reconstructor, tiny_runs, tmp_path):
    blank = write_video(tmp_path / "blank.mp4", np.full((40, 240, 320, 3), 90, np.uint8), fps=25)
    with pytest.raises(DataError, match="no face"):
        reconstructor.from_video(blank)
    short = write_video(tmp_path / "short.mp4", np.full((3, 240, 320, 3), 90, np.uint8), fps=25)
    with pytest.raises(DataError, match="too short"):
        reconstructor.from_video(short)
    (tmp_path / "junk.mp4").write_bytes(b"not a video")
    with pytest.raises(DataError):
        reconstructor.from_video(tmp_path / "junk.mp4")
    from lip2audspec.reconstruct import Reconstructor

    with pytest.raises(ParameterError, match="lip network run"):
        Reconstructor(tiny_runs["ae"])


def test_cli_reconstruct_single_and_batch(tiny_runs, tiny_grid, tmp_path, capsys):
    layout = GridLayout.discover(tiny_grid)
    video = layout.clip_paths("s1", layout.utterances("s1")[1]).video
    assert main(["reconstruct", str(video), "-m", str(tiny_runs["lip"]), "-o", str(tmp_path / "a.wav"),
                 "--iterations", "2", "--plot", str(tmp_path / "a.png")]) == 0
    x, sr = read_wav(tmp_path / "a.wav")
    assert sr == 16000 and len(x) == 48000 and (tmp_path / "a.png").is_file()
    # --voice-f0: the same clip with a steady voice imposed (other audio); a pitch out of range is a usage error
    assert main(["reconstruct", str(video), "-m", str(tiny_runs["lip"]), "-o", str(tmp_path / "v.wav"),
                 "--iterations", "2", "--voice-f0", "107"]) == 0
    v, _ = read_wav(tmp_path / "v.wav")
    assert v.shape == x.shape and not np.allclose(v, x, atol=1e-3)
    assert main(["reconstruct", str(video), "-m", str(tiny_runs["lip"]), "-o", str(tmp_path / "w.wav"),
                 "--voice-f0", "0"]) == 2 and not (tmp_path / "w.wav").exists()
    # batch over the speaker folder: the damaged clip of tiny_grid (if it is s1's) is reported, not fatal
    rc = main(["reconstruct", "--batch", str(tiny_grid / "s2"), "-m", str(tiny_runs["lip"]), "-o", str(tmp_path / "batch"),
               "--iterations", "2", "--quiet"])
    printed = capsys.readouterr().out
    wavs = sorted((tmp_path / "batch").glob("*.wav"))
    assert len(wavs) >= 3 and "videos reconstructed" in printed
    assert rc in (0, 1)
    assert main(["reconstruct", "-m", str(tiny_runs["lip"]), "-o", str(tmp_path / "x.wav")]) == 2


def test_crop_method_override(tiny_runs):
    from lip2audspec.reconstruct import Reconstructor

    rec = Reconstructor(tiny_runs["lip"], n_iter=1, crop_method="landmarks")
    assert rec.crop_config.method == "landmarks" and rec.crop_config.size == 48 and rec.crop_config.mask_boxes is None
    assert rec.crop_config.detect_every == 1  # a run prepared before the option: detect on every frame
    fast = Reconstructor(tiny_runs["lip"], n_iter=1, crop_method="landmarks", detect_every=5, landmark_step=3)
    assert (fast.crop_config.detect_every, fast.crop_config.landmark_step, fast.crop_config.size) == (5, 3, 48)
    with pytest.raises(ParameterError, match="detect_every"):
        Reconstructor(tiny_runs["lip"], n_iter=1, crop_method="haar", detect_every=5)

import numpy as np
import pytest

from lip2audspec import DataError, ParameterError
from lip2audspec.auditory import AuditoryParams, wav2aud, write_wav
from lip2audspec.data.inputs import (
    WindowConfig,
    context_windows,
    lip_inputs,
    normalize_frames,
    window_slices,
    window_starts,
)
from lip2audspec.data.targets import TargetConfig, audio_for_target, auditory_target, compress, decompress


def test_target_shape_alignment_and_postprocessing(rng):
    x = rng.standard_normal(48000) * 0.1
    cfg = TargetConfig()
    y = auditory_target(x, n_video_frames=75, config=cfg)
    assert y.shape == (300, 128) and y.dtype == np.float32 and cfg.frames_per_video_frame == 4
    raw = wav2aud(x)
    np.testing.assert_allclose(y[:-2], (raw[2:] ** 0.3).astype(np.float32), rtol=1e-6)  # first 2 frames dropped
    np.testing.assert_allclose(y[-2:], np.repeat(y[-3:-2], 2, axis=0))  # end padded with the last frame
    plain = auditory_target(x, n_video_frames=75, config=TargetConfig(drop_first=0, power=1.0))
    np.testing.assert_allclose(plain, raw.astype(np.float32), rtol=1e-6)


def test_target_follows_the_sound_in_time():
    sr = 16000
    x = np.zeros(48000)
    t = np.arange(1600) / sr
    x[24000:25600] = np.sin(2 * np.pi * 1000 * t)  # a tone burst in video frames 37.5..40
    y = auditory_target(x, n_video_frames=75, config=TargetConfig(drop_first=0))
    energy = y.sum(axis=1)
    on = np.flatnonzero(energy > 0.5 * energy.max())
    assert 148 <= on[0] <= 154 and 155 <= on[-1] <= 166  # 4 target frames per video frame


def test_compress_round_trip(rng):
    s = rng.random((10, 128))
    np.testing.assert_allclose(decompress(compress(s, power=0.3), power=0.3), s, rtol=1e-10)


def test_audio_for_target_checks_length(tmp_path, rng):
    write_wav(tmp_path / "ok.wav", rng.uniform(-0.5, 0.5, 75000), sr=25000)
    x = audio_for_target(tmp_path / "ok.wav", n_video_frames=75, config=TargetConfig())
    assert x.shape == (48000,)
    write_wav(tmp_path / "short.wav", rng.uniform(-0.5, 0.5, 50000), sr=25000)
    with pytest.raises(DataError, match="lasts 2.000 s"):
        audio_for_target(tmp_path / "short.wav", n_video_frames=75, config=TargetConfig())


def test_target_config_validation():
    with pytest.raises(ParameterError, match="whole number"):
        TargetConfig(auditory=AuditoryParams(frame_ms=16, tc_ms=8))  # 40 ms video frames / 16 ms = 2.5
    with pytest.raises(ParameterError, match="power"):
        TargetConfig(power=0)
    assert TargetConfig.from_dict(TargetConfig().to_dict()) == TargetConfig()
    assert TargetConfig(auditory=AuditoryParams(frame_ms=5, tc_ms=5)).frames_per_video_frame == 8


def test_normalize_and_channels():
    crops = np.stack([np.full((8, 8), v, np.uint8) for v in (10, 20, 20, 40)])
    crops[:, 0, 0] = 0  # give every frame a range
    f = normalize_frames(crops)
    assert f.min() == 0 and f.max() == 1 and f.dtype == np.float32
    assert np.all(f.reshape(4, -1).min(axis=1) == 0) and np.all(f.reshape(4, -1).max(axis=1) == 1)
    x = lip_inputs(crops)
    assert x.shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(x[0, ..., 1], 0)
    np.testing.assert_allclose(x[2, ..., 1], f[2] - f[1])
    np.testing.assert_allclose(x[3, ..., 2], (f[3] - f[2]) - (f[2] - f[1]))
    assert np.all(normalize_frames(np.zeros((2, 4, 4))) == 0)  # constant frames do not divide by 0
    with pytest.raises(ParameterError):
        normalize_frames(np.zeros((4, 4)))


def test_windows():
    assert window_starts(75, WindowConfig()).tolist() == list(range(0, 71, 5))
    assert len(window_starts(75, WindowConfig(window=5, hop=1))) == 71
    assert len(window_starts(3, WindowConfig())) == 0
    v, s = window_slices(10, config=WindowConfig())
    assert (v.start, v.stop, s.start, s.stop) == (10, 15, 40, 60)
    with pytest.raises(ParameterError):
        WindowConfig(window=0)


def test_context_windows(rng):
    crops = rng.integers(0, 256, (12, 6, 6), dtype=np.uint8)
    x = lip_inputs(crops)
    starts = [0, 3, 7]
    w0 = context_windows(crops, starts, window=5)
    np.testing.assert_array_equal(w0, np.stack([x[s : s + 5] for s in starts]))  # context 0: the paper's input
    w2 = context_windows(crops, starts, window=5, context=2)
    assert w2.shape == (3, 9, 6, 6, 3) and w2.dtype == np.float32
    # the clip's own frames get exactly their whole-clip inputs, context frames included
    np.testing.assert_array_equal(w2[1], x[1:10])
    np.testing.assert_array_equal(w2[2, :7], x[5:12])
    np.testing.assert_array_equal(w2[0, 2:], x[0:7])
    # past the ends: the first / last crop repeated, with zero differences
    np.testing.assert_array_equal(w2[0, :2, ..., 0], np.broadcast_to(x[0, ..., 0], (2, 6, 6)))
    assert np.all(w2[0, :3, ..., 1:] == 0)
    np.testing.assert_array_equal(w2[2, 7:, ..., 0], np.broadcast_to(x[11, ..., 0], (2, 6, 6)))
    assert np.all(w2[2, 7:, ..., 1] == 0) and np.all(w2[2, 8, ..., 2] == 0)
    np.testing.assert_array_equal(w2[2, 7, ..., 2], -x[11, ..., 1])  # 2nd difference as the signal stops
    assert context_windows(crops, [], window=5, context=1).shape == (0, 7, 6, 6, 3)
    with pytest.raises(ParameterError, match="context"):
        context_windows(crops, starts, window=5, context=-1)
    with pytest.raises(ParameterError, match="window starts"):
        context_windows(crops, [8], window=5)

"""Video decoding: probe/read on the synthetic GRID corpus, resampling to 25 fps, damaged files, frozen frames."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lip2audspec.corpora.grid import GridLayout
from lip2audspec.data.video import frozen_frames, probe_video, read_video, resample_indices, write_video
from lip2audspec.errors import DataError, ParameterError


def _manifest(root):
    return json.loads((root / "manifest.json").read_text())


def _clean_clip(root):
    m = _manifest(root)
    bad = {(c["speaker"], c["utt_id"]) for c in m["corrupted"]}
    spk = next(iter(m["speakers"]))
    utt = next(u for u in m["speakers"][spk]["utterances"] if (spk, u) not in bad)
    return GridLayout.discover(root).clip_paths(spk, utt).video


def _index_frames(n):
    """n frames 32x128 whose 8 black/white 16-px blocks spell the frame index in binary (survives lossy codecs)."""
    bits = (np.arange(n)[:, None] >> np.arange(8)[None, :]) & 1
    return (np.repeat(np.repeat(bits[:, None, :], 32, axis=1), 16, axis=2) * 255).astype(np.uint8)


def _decode_index(frames):
    bits = frames.reshape(len(frames), 32, 8, 16).mean(axis=(1, 3)) > 128
    return bits.astype(int) @ (1 << np.arange(8))


# ------------------------------------------------------------------------------------------------ corpus clips
def test_probe_and_read_clean_clip(tiny_grid):
    path = _clean_clip(tiny_grid)
    info = probe_video(path)
    assert (info.frames, info.fps, info.width, info.height) == (75, 25.0, 360, 288)
    assert info.complete and abs(info.duration - 3.0) < 1e-9
    v = read_video(path)
    assert v.frames.shape == (75, 288, 360) and v.frames.dtype == np.uint8 and v.fps == 25.0 and v.gray
    rgb = read_video(path, gray=False, max_frames=10)
    assert rgb.frames.shape == (10, 288, 360, 3) and rgb.frames.dtype == np.uint8
    # resampling 25 -> 25 is the identity
    v25 = read_video(path, fps=25, min_frames=75)
    assert np.array_equal(v25.frames, v.frames) and v25.source_frames == 75


def test_corrupted_clip_detected(tiny_grid):
    """The corpus' damaged clip fails the validity rule (75 frames at 25 fps) with a clear error."""
    (entry,) = _manifest(tiny_grid)["corrupted"]
    path = GridLayout.discover(tiny_grid).clip_paths(entry["speaker"], entry["utt_id"]).video
    kind = entry["kind"]
    if kind == "unreadable":
        with pytest.raises(DataError, match="cannot open|no frame"):
            probe_video(path)
    elif kind in ("truncated", "missing_frames"):
        info = probe_video(path)
        assert info.frames < 75
        with pytest.raises(DataError, match="too short"):
            read_video(path, fps=25, min_frames=75)
    else:  # frozen_frames
        a, b = entry["frozen"]
        assert set(range(a + 1, b)) <= set(frozen_frames(read_video(path).frames).tolist())


def test_clean_corpus_clips_have_no_frozen_frames(tiny_grid):
    layout = GridLayout.discover(tiny_grid)
    bad = {(c["speaker"], c["utt_id"]) for c in _manifest(tiny_grid)["corrupted"]}
    for spk in layout.speakers:
        for utt in layout.utterances(spk):
            if (spk, utt) not in bad:
                assert frozen_frames(read_video(layout.clip_paths(spk, utt).video).frames).size == 0, (spk, utt)


@pytest.mark.slow
def test_frozen_frames_on_corpus_corruption(tmp_path):
    """One clip with the corpus' own 'frozen_frames' corruption: frames a+1 .. b-1 repeat frame a."""
    from lip2audspec.corpora.synthetic import generate_clip, speaker_spec

    a, b = 20, 34
    generate_clip(tmp_path, spec=speaker_spec(1, seed=7), utt_id="bbaf2n", index=0, seed=7,
                  corruption={"speaker": "s1", "utt_id": "bbaf2n", "kind": "frozen_frames", "frozen": [a, b]})
    frames = read_video(tmp_path / "s1" / "bbaf2n.mpg").frames
    assert frames.shape[0] == 75
    assert frozen_frames(frames).tolist() == list(range(a + 1, b))


def test_frozen_frames_arrays():
    f = np.zeros((8, 6, 6), np.uint8)
    f[3:] = 50
    f[6:] = 90
    assert frozen_frames(f).tolist() == [1, 2, 4, 5, 7]
    # a key-frame refresh inside a frozen run (small change) is bridged; a real change is not
    g = np.repeat(np.arange(0, 200, 20, dtype=np.uint8)[:, None, None], 4, axis=1).repeat(4, axis=2)
    g[3:8] = g[3]
    g[5] = g[3] + 1
    assert frozen_frames(g).tolist() == [4, 5, 6, 7]
    assert frozen_frames(g, max_gap=0).tolist() == [4, 7]
    assert frozen_frames(f[:1]).size == 0
    with pytest.raises(ParameterError):
        frozen_frames(f, tol=-1)
    with pytest.raises(ParameterError):
        frozen_frames(f[0])


# ------------------------------------------------------------------------------------------------ resampling
@pytest.mark.parametrize("fps, n, suffix", [(30, 90, ".mp4"), (50, 150, ".mp4"), (30, 90, ".mpg"), (15, 45, ".mp4"),
                                            (30000 / 1001, 90, ".mp4")])
def test_read_resamples_to_25fps(tmp_path, fps, n, suffix):
    path = write_video(tmp_path / f"idx{suffix}", _index_frames(n), fps=fps)
    info = probe_video(path)
    assert info.frames == n and abs(info.fps - fps) < 1e-3
    v = read_video(path, fps=25)
    assert v.frames.shape == (75, 32, 128) and v.fps == 25.0 and v.source_frames == n
    src = _decode_index(v.frames)
    assert np.array_equal(src, resample_indices(n, fps_in=fps, fps_out=25))
    # timing: each output frame j (at j/25 s) shows the source frame nearest in time
    err = np.abs(src / fps - np.arange(75) / 25)
    assert err.max() <= 0.5 / fps + 1e-9
    assert np.all(np.diff(src) >= 0)
    if fps > 25:
        assert np.all(np.diff(src) >= 1)  # no repeats when slowing down
    # max_frames counts output frames and stops decoding early
    w = read_video(path, fps=25, max_frames=10)
    assert w.n_frames == 10 and np.array_equal(_decode_index(w.frames), src[:10]) and w.source_frames == src[9] + 1


def test_resample_indices_values():
    assert resample_indices(90, fps_in=30, fps_out=25)[:10].tolist() == [0, 1, 2, 4, 5, 6, 7, 8, 10, 11]
    assert resample_indices(150, fps_in=50, fps_out=25).tolist() == list(range(0, 150, 2))
    assert len(resample_indices(45, fps_in=15, fps_out=25)) == 75
    assert resample_indices(75, fps_in=25, fps_out=25).tolist() == list(range(75))
    assert resample_indices(0, fps_in=30, fps_out=25).size == 0
    with pytest.raises(ParameterError):
        resample_indices(10, fps_in=0, fps_out=25)


# ------------------------------------------------------------------------------------------------ damaged files
def test_missing_empty_garbage_files(tmp_path):
    with pytest.raises(DataError, match="no video file"):
        probe_video(tmp_path / "nope.mp4")
    with pytest.raises(DataError, match="no video file"):
        read_video(tmp_path / "nope.mpg")
    (tmp_path / "empty.mpg").write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        read_video(tmp_path / "empty.mpg")
    junk = np.random.default_rng(0).integers(1, 256, 50_000, dtype=np.uint8).tobytes()
    for name in ("junk.mp4", "junk.mpg", "junk.avi"):
        (tmp_path / name).write_bytes(junk)
        with pytest.raises(DataError):
            probe_video(tmp_path / name)
        with pytest.raises(DataError):
            read_video(tmp_path / name)
    with pytest.raises(DataError):
        read_video(tmp_path)  # a folder


def test_truncated_files(tmp_path):
    frames = _index_frames(75)
    mpg = write_video(tmp_path / "a.mpg", frames, fps=25)
    data = mpg.read_bytes()
    (tmp_path / "cut.mpg").write_bytes(data[: len(data) // 2])
    info = probe_video(tmp_path / "cut.mpg")
    assert 0 < info.frames < 75
    with pytest.raises(DataError, match="too short"):
        read_video(tmp_path / "cut.mpg", fps=25, min_frames=75)
    mp4 = write_video(tmp_path / "a.mp4", frames, fps=25)
    data = mp4.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 3])  # the index (moov) is at the end: unreadable
    with pytest.raises(DataError):
        read_video(tmp_path / "cut.mp4")


def test_write_video_roundtrip_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    rgb = np.zeros((5, 48, 64, 3), np.uint8)
    rgb[:, :, :32, 0] = 200  # red left half
    rgb[:, :, 32:, 2] = 200  # blue right half
    p = write_video(tmp_path / "c.avi", rgb, fps=12.5)
    v = read_video(p, gray=False)
    assert v.frames.shape == (5, 48, 64, 3) and abs(v.fps - 12.5) < 1e-6
    assert v.frames[0, 20, 10, 0] > 150 and v.frames[0, 20, 50, 2] > 150  # RGB order kept
    assert not list(tmp_path.glob(".c.*"))  # atomic: no temporary left
    gray = rng.integers(0, 255, (3, 32, 32), dtype=np.uint8)
    with pytest.raises(ParameterError, match="suffix"):
        write_video(tmp_path / "x.gif", gray, fps=25)
    with pytest.raises(ParameterError, match="MPEG-1"):
        write_video(tmp_path / "x.mpg", gray, fps=12)
    with pytest.raises(ParameterError, match="uint8"):
        write_video(tmp_path / "x.mp4", gray.astype(np.float32), fps=25)
    with pytest.raises(ParameterError, match="fps"):
        write_video(tmp_path / "x.mp4", gray, fps=0)
    with pytest.raises(ParameterError):
        read_video(p, fps=-25)
    with pytest.raises(ParameterError):
        read_video(p, max_frames=0)

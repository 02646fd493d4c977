"""Real GRID speaker s1 (``../shared/real_grid``, 43 clips; skipped where absent).

The clips are MPEG-1 ``.mpg`` files with the camera's MP2 audio track (no separate wav) and ``.align``
files; 5 of them decode to 74 frames instead of 75 (listed in ``s1_split.json``, ``decode_74_frames``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.corpora.grid import SILENCE_WORDS, align_to_seconds, read_align
from lip2audspec.data.audio import probe_container_audio, read_container_audio
from lip2audspec.errors import DataError
from lip2audspec.data.crop import CropConfig, HaarCropper, LandmarkCropper
from lip2audspec.data.dataset import GridDataset, read_split_file
from lip2audspec.data.prepare import PrepareConfig, prepare_grid
from lip2audspec.data.video import read_video

ROOT = Path(__file__).resolve().parents[1]
REAL_GRID = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid"))
FIXTURE = REAL_GRID / "s1_fixture"
SPLIT_FILE = REAL_GRID / "s1_split.json"
#: normal clips and two that decode to 74 frames, prepared in the fast tests
SOME = ("bbaf2n", "lbad9a", "pbai7a", "sgbc6n", "lrae3s", "sbbbzp")
SHORT = ("lrae3s", "sbbbzp")


@pytest.fixture(scope="module")
def fixture_dir() -> Path:
    if not (FIXTURE / "s1").is_dir():
        pytest.skip(f"real GRID fixture not found at {FIXTURE} (set LIP2AUDSPEC_REAL_GRID)")
    return FIXTURE


def _subset(src: Path, dst: Path, ids, *, align: bool = True) -> Path:
    """A GRID folder with clips ``ids`` of s1 copied from ``src``."""
    (dst / "s1").mkdir(parents=True)
    (dst / "alignments" / "s1").mkdir(parents=True)
    for i in ids:
        shutil.copy(src / "s1" / f"{i}.mpg", dst / "s1")
        if align:
            shutil.copy(src / "alignments" / "s1" / f"{i}.align", dst / "alignments" / "s1")
    return dst


# ---------------------------------------------------------------------------------------------- audio
def test_container_audio_is_the_speech_of_the_words(fixture_dir):
    """3 s at 16 kHz, audible, and louder inside the .align words than in the leading/trailing silence."""
    for uid in ("bbaf2n", "pbai7a", "lrae3s"):
        video = fixture_dir / "s1" / f"{uid}.mpg"
        info = probe_container_audio(video)
        assert info.codec == "mp2" and info.rate == 44100 and info.channels == 2
        x = read_container_audio(video, sr=16000)
        assert x.dtype == np.float64 and np.all(np.abs(x) <= 1)
        assert abs(len(x) / 16000 - 75 / 25) < 0.1
        assert np.sqrt(np.mean(x ** 2)) > 0.01
        rows = read_align(fixture_dir / "alignments" / "s1" / f"{uid}.align")
        spans = lambda keep: [(int(align_to_seconds(a) * 16000), int(align_to_seconds(b) * 16000))  # noqa: E731
                              for a, b, w in rows if keep(w)]
        words = np.concatenate([x[a:b] for a, b in spans(lambda w: w not in SILENCE_WORDS)])
        edges = [rows[0], rows[-1]]
        assert all(w == "sil" for _, _, w in edges)
        sil = np.concatenate([x[a:b] for a, b in spans(lambda w: w == "sil")])
        assert np.mean(words ** 2) > 10 * np.mean(sil ** 2), uid


def test_video_without_audio_track_is_one_clear_error(tmp_path):
    import cv2

    grid = tmp_path / "grid"
    (grid / "s1").mkdir(parents=True)
    wr = cv2.VideoWriter(str(grid / "s1" / "bbaf2n.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for _ in range(75):
        wr.write(np.zeros((48, 64, 3), np.uint8))
    wr.release()
    assert probe_container_audio(grid / "s1" / "bbaf2n.avi") is None
    with pytest.raises(DataError, match="has no audio track.*--audio-source wav"):
        read_container_audio(grid / "s1" / "bbaf2n.avi")
    for source in ("video", "auto"):  # auto: no wav folder, so the video's track
        with pytest.raises(DataError, match="bbaf2n.avi has no audio track"):
            prepare_grid(grid, tmp_path / f"out_{source}", config=PrepareConfig(audio_source=source), progress=False)
    with pytest.raises(DataError, match="no wav folder.*--audio-source video"):
        prepare_grid(grid, tmp_path / "out_wav", config=PrepareConfig(audio_source="wav"), progress=False)


# ---------------------------------------------------------------------------------------------- prepare
@pytest.fixture(scope="module")
def prepared(fixture_dir, tmp_path_factory):
    """SOME clips (2 of them 74 frames), one without its alignment, with fixed split lists; haar crops."""
    root = tmp_path_factory.mktemp("real_s1")
    grid = _subset(fixture_dir, root / "grid", SOME)
    (grid / "alignments" / "s1" / "pbai7a.align").unlink()
    splits = {"seen/train": ["bbaf2n", "lbad9a", "lrae3s"], "seen/val": ["sbbbzp"], "seen/test": ["s1/pbai7a"]}
    cfg = PrepareConfig(crop=CropConfig(method="haar", size=32), splits=splits)
    summary = prepare_grid(grid, root / "prep", config=cfg, progress=False)
    return root / "prep", summary


def test_prepare_pads_short_videos_and_takes_the_video_audio(prepared):
    out, summary = prepared
    assert summary["excluded"] == 0 and summary["clips"] == len(SOME)
    assert sorted(p["id"] for p in summary["padded"]) == sorted(SHORT)
    assert all(p["frames"] == 1 for p in summary["padded"])
    assert summary["audio_source"] == "video" and summary["no_alignment"] == ["s1/pbai7a"]
    m = json.loads((out / "manifest.json").read_text())
    assert m["audio_source"] == m["spec"]["audio_source"] == m["config"]["audio_source"] == "video"
    assert m["counts"]["padded"] == 2 and m["counts"]["no_alignment"] == 1
    report = (out / "report.md").read_text()
    assert "2 padded" in report and "1 without an alignment" in report and "lrae3s" in report
    with GridDataset(out) as ds:
        assert ds.spec.audio_source == "video"
        for uid in SHORT:
            i = int(np.flatnonzero(ds.ids == uid)[0])
            crops = ds.array("crops", i)
            assert crops.shape == (75, 32, 32)
            np.testing.assert_array_equal(crops[-1], crops[-2])  # the last frame repeated
        spec = ds.array("spec", 0)
        assert spec.shape == (300, 128) and np.all(np.isfinite(spec)) and spec.std() > 0
        # fixed splits: plain and speaker-qualified ids; the clip in no list (sgbc6n) is left out
        named = {n: sorted(ds.ids[ds.split(n)]) for n in ("seen/train", "seen/val", "seen/test")}
    assert named == {"seen/train": ["bbaf2n", "lbad9a", "lrae3s"], "seen/val": ["sbbbzp"], "seen/test": ["pbai7a"]}
    assert summary["split_lists"]["unassigned"] == ["s1/sgbc6n"]


def test_split_file_with_unknown_ids_is_one_clear_error(fixture_dir, tmp_path):
    grid = _subset(fixture_dir, tmp_path / "grid", SOME[:2])
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"speaker": "s1", "rule": "by hand", "train": ["bbaf2n", "bbaf3s"],
                                 "test": ["lbad9a", "zzzzzz"], "decode_74_frames": []}))
    splits = read_split_file(split)
    assert splits == {"seen/train": ("bbaf2n", "bbaf3s"), "seen/test": ("lbad9a", "zzzzzz")}
    with pytest.raises(DataError, match=r"2 split id\(s\) are not clips.*\['bbaf3s', 'zzzzzz'\]"):
        prepare_grid(grid, tmp_path / "out", config=PrepareConfig(crop=CropConfig(method="haar", size=32), splits=splits),
                     progress=False)
    assert not (tmp_path / "out" / "work").exists()  # refused before any clip was processed
    split.write_text(json.dumps({"train": ["bbaf2n"], "test": ["bbaf2n"]}))
    with pytest.raises(DataError, match="in both seen/train and seen/test"):
        read_split_file(split)


def test_published_s1_split_file_reads(fixture_dir):
    splits = read_split_file(SPLIT_FILE)
    assert {k: len(v) for k, v in splits.items()} == {"seen/train": 850, "seen/val": 50, "seen/test": 100}
    cfg = PrepareConfig(splits=splits)
    assert PrepareConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # recorded exactly in config.json


# ---------------------------------------------------------------------------------------------- crops
def _centre_offsets(video: Path) -> np.ndarray:
    """Per frame: |haar box centre - landmark box centre| (max over x, y) / landmark box side."""
    frames = read_video(video).frames
    boxes = {}
    for cls in (LandmarkCropper, HaarCropper):
        cropper = cls(CropConfig(method=cls.method, size=48))
        boxes[cls.method], ok = cropper.locate(frames, source=str(video))
        assert ok.mean() > 0.95, (video, cls.method)
    lm, haar = boxes["landmarks"], boxes["haar"]
    centre = lambda b: (b[:, :2] + b[:, 2:]) / 2  # noqa: E731
    return np.abs(centre(lm) - centre(haar)).max(axis=1) / (lm[:, 2] - lm[:, 0])


def _check_crops_centred(videos) -> None:
    worst = {v.stem: float(_centre_offsets(v).max()) for v in videos}
    assert max(worst.values()) <= 0.1, {k: round(v, 3) for k, v in worst.items() if v > 0.1}


def test_haar_and_landmark_crops_agree_on_some_clips(fixture_dir):
    _check_crops_centred([fixture_dir / "s1" / f"{i}.mpg" for i in SOME[:5]])


@pytest.mark.slow
def test_haar_and_landmark_crops_agree_on_all_clips(fixture_dir):
    """All 43 clips, every frame (dlib landmarks on 3225 frames: 28 s on a quiet 2-core machine, ~75 s under load)."""
    _check_crops_centred(sorted((fixture_dir / "s1").glob("*.mpg")))


def test_clip_audio_reads_the_recorded_source(fixture_dir):
    """What evaluate does for the original audio: the file the dataset spec's audio_source names."""
    from lip2audspec.corpora.grid import GridLayout
    from lip2audspec.data.targets import TargetConfig, clip_audio

    paths = GridLayout.discover(fixture_dir).clip_paths("s1", "lrae3s")
    x = clip_audio(paths, source="video", n_video_frames=75, config=TargetConfig())
    assert x.shape == (48000,)
    np.testing.assert_array_equal(x[:47000], read_container_audio(paths.video)[:47000])
    with pytest.raises(DataError, match="wav file of s1/lrae3s missing"):
        clip_audio(paths, source="wav", n_video_frames=75, config=TargetConfig())

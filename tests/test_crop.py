"""Mouth croppers on the synthetic GRID corpus, checked against its ground-truth mouth boxes.

Thresholds, for every frame of every clean clip of ``tiny_grid`` (T = true mouth box from ``mouth_params``,
C = crop box):

- the centre of T lies inside C;
- coverage: area(T and C) / area(T) >= 0.95 (measured: 1.000 for all three methods);
- C is neither too small nor absurdly large: 1.2 <= side(C) / width(T) <= 4.0 (measured 1.52 .. 3.60;
  the ratio is largest while the lips are rounded, i.e. narrow);
- centring: |centre(C) - centre(T)| (max over x, y) <= 0.20 x side(C) for mask and haar (measured up to
  0.084 and 0.120), <= 0.10 x side(C) for landmarks (measured up to 0.037).
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from lip2audspec.corpora.grid import GridLayout
from lip2audspec.corpora.synthetic import read_mouth_params
from lip2audspec.data.crop import (CropConfig, HaarCropper, LandmarkCropper, MaskCropper, MouthCrops, crop_mouths,
                                   estimate_mask_box, extract_crop, make_cropper, save_crop_preview)
from lip2audspec.data.video import read_video
from lip2audspec.errors import DataError, ParameterError

MIN_COVERAGE = 0.95
SIDE_RATIO = (1.2, 4.0)
MAX_OFFSET = {"mask": 0.20, "haar": 0.20, "landmarks": 0.10}


@pytest.fixture(scope="module")
def clips(tiny_grid):
    """[(speaker, utt_id, Video, true mouth boxes (75, 4))] of the clean clips."""
    manifest = json.loads((tiny_grid / "manifest.json").read_text())
    bad = {(c["speaker"], c["utt_id"]) for c in manifest["corrupted"]}
    layout = GridLayout.discover(tiny_grid)
    out = []
    for spk in layout.speakers:
        for utt in layout.utterances(spk):
            if (spk, utt) in bad:
                continue
            paths = layout.clip_paths(spk, utt)
            mp = read_mouth_params(paths.mouth_params)
            truth = np.stack([mp["bbox_x0"], mp["bbox_y0"], mp["bbox_x1"], mp["bbox_y1"]], axis=1)
            out.append((spk, utt, read_video(paths.video, fps=25, min_frames=75), truth))
    assert len(out) >= 6
    return out


@pytest.fixture(scope="module")
def mask_boxes(tiny_grid):
    layout = GridLayout.discover(tiny_grid)
    return {spk: estimate_mask_box([layout.clip_paths(spk, u).video for u in layout.utterances(spk)], max_clips=3)
            for spk in layout.speakers}


def box_metrics(boxes, truth):
    """Per frame: centre inside, coverage, side / true width, centre offset / side."""
    tc = (truth[:, :2] + truth[:, 2:]) / 2
    inside = np.all((tc >= boxes[:, :2]) & (tc <= boxes[:, 2:]), axis=1)
    ix = np.clip(np.minimum(truth[:, 2], boxes[:, 2]) - np.maximum(truth[:, 0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(truth[:, 3], boxes[:, 3]) - np.maximum(truth[:, 1], boxes[:, 1]), 0, None)
    coverage = ix * iy / ((truth[:, 2] - truth[:, 0]) * (truth[:, 3] - truth[:, 1]))
    side = boxes[:, 2] - boxes[:, 0]
    ratio = side / (truth[:, 2] - truth[:, 0])
    offset = np.max(np.abs((boxes[:, :2] + boxes[:, 2:]) / 2 - tc), axis=1) / side
    return inside, coverage, ratio, offset


def assert_mouth_kept(mc: MouthCrops, truth, method, label):
    inside, coverage, ratio, offset = box_metrics(mc.boxes, truth)
    assert inside.all(), f"{label}: true mouth centre outside the crop in frames {np.flatnonzero(~inside)}"
    assert coverage.min() >= MIN_COVERAGE, f"{label}: coverage {coverage.min():.3f}"
    assert SIDE_RATIO[0] <= ratio.min() and ratio.max() <= SIDE_RATIO[1], f"{label}: side/width {ratio.min():.2f}..{ratio.max():.2f}"
    assert offset.max() <= MAX_OFFSET[method], f"{label}: centre offset {offset.max():.3f} x side"


# ------------------------------------------------------------------------------------------------ the three croppers
@pytest.mark.parametrize("method", ["mask", "haar", "landmarks"])
def test_cropper_keeps_mouth(clips, mask_boxes, method):
    cropper = make_cropper(CropConfig(method=method, mask_boxes=mask_boxes))
    assert cropper.method == method
    for spk, utt, video, truth in clips:
        mc = cropper.crop(video, speaker=spk)
        assert mc.method == method and mc.source == str(video.path)
        assert mc.crops.shape == (75, 128, 128) and mc.crops.dtype == np.uint8
        assert mc.boxes.shape == (75, 4) and mc.boxes.dtype == np.float64
        assert mc.detected.shape == (75,) and mc.detected.dtype == bool and mc.detected.all()
        sides = mc.boxes[:, 2:] - mc.boxes[:, :2]
        assert np.allclose(sides[:, 0], sides[:, 1])  # square
        assert mc.crops.std() > 5  # not a blank image
        assert_mouth_kept(mc, truth, method, f"{method} {spk}/{utt}")
        if method != "landmarks":
            assert np.all(mc.boxes == mc.boxes[0])  # fixed box (mask per speaker, haar per clip)


def test_mask_box_is_per_speaker(clips, mask_boxes):
    assert set(mask_boxes) == {c[0] for c in clips}
    for spk, box in mask_boxes.items():
        assert len(box) == 4 and box[2] - box[0] == pytest.approx(box[3] - box[1])
        mc = crop_mouths(clips[0][2], CropConfig(method="mask", mask_boxes=mask_boxes), speaker=spk)
        assert np.allclose(mc.boxes[0], np.round(box), atol=1)


def test_landmarks_missed_detections_are_interpolated(clips):
    spk, utt, video, truth = clips[0]
    frames = video.frames.copy()
    blank = [0, 1, 30, 31, 32, 33, 34, 74]
    frames[blank] = 128
    mc = crop_mouths(frames, CropConfig(method="landmarks"), source="blanked")
    assert np.flatnonzero(~mc.detected).tolist() == blank
    assert np.isfinite(mc.boxes).all()
    inside, coverage, ratio, offset = box_metrics(mc.boxes, truth)
    assert inside.all() and coverage.min() >= MIN_COVERAGE and offset.max() <= MAX_OFFSET["landmarks"]
    # interpolated boxes lie between their detected neighbours
    lo, hi = np.minimum(mc.boxes[29], mc.boxes[35]), np.maximum(mc.boxes[29], mc.boxes[35])
    assert np.all((mc.boxes[30:35] >= lo - 1) & (mc.boxes[30:35] <= hi + 1))
    assert mc.detection_rate == pytest.approx(1 - len(blank) / 75)


def test_haar_falls_back_to_later_frames(clips):
    spk, utt, video, truth = clips[0]
    frames = video.frames.copy()
    frames[:3] = 0
    mc = crop_mouths(frames, CropConfig(method="haar"))
    assert mc.detected.tolist() == [False] * 3 + [True] * 72
    assert box_metrics(mc.boxes[3:], truth[3:])[0].all()


@pytest.mark.parametrize("method", ["haar", "landmarks"])
def test_no_face_found(method):
    frames = np.full((6, 120, 160), 90, np.uint8)
    frames[:, 40:80, 60:100] = 160
    with pytest.raises(DataError, match="no face found in blank.mpg"):
        crop_mouths(frames, CropConfig(method=method), source="blank.mpg")


def test_video_too_short(clips):
    frames = clips[0][2].frames[:30]
    with pytest.raises(DataError, match="too short"):
        crop_mouths(frames, CropConfig(method="haar", min_frames=75))


def test_rgb_input_and_cropper_reuse(clips):
    spk, utt, video, truth = clips[0]
    rgb = read_video(video.path, gray=False, max_frames=12)
    cropper = HaarCropper(CropConfig(method="haar", size=64))
    a, b = cropper.crop(rgb), cropper(video.frames[:12])
    assert a.crops.shape == (12, 64, 64)
    assert np.array_equal(a.crops, b.crops) and np.array_equal(a.boxes, b.boxes)
    clone = pickle.loads(pickle.dumps(LandmarkCropper()))  # croppers go to worker processes
    assert clone.crop(video.frames[:5]).crops.shape == (5, 128, 128)


def test_mask_needs_a_box(clips):
    frames = clips[0][2].frames[:4]
    with pytest.raises(ParameterError, match="no mask box for speaker 's9'"):
        crop_mouths(frames, CropConfig(method="mask", mask_boxes={"s1": (0, 0, 10, 10)}), speaker="s9")
    with pytest.raises(ParameterError, match="speaker"):
        crop_mouths(frames, CropConfig(method="mask"))
    cropper = MaskCropper(CropConfig(method="mask"))
    cropper.set_box("s1", (150, 180, 210, 200))  # not square: squared about its centre, side 60
    mc = cropper.crop(frames, speaker="s1")
    assert mc.boxes[0].tolist() == [150.0, 160.0, 210.0, 220.0]
    # one box and no speaker: that box
    assert crop_mouths(frames, CropConfig(method="mask", mask_boxes={"s1": (150, 160, 210, 220)})).boxes[0, 0] == 150


def test_extract_crop_near_edges():
    img = np.arange(40 * 50, dtype=np.int64).reshape(40, 50).astype(np.uint8)
    crop, box = extract_crop(img, (-10, -10, 10, 10), size=20)  # top-left corner sticks out
    assert crop.shape == (20, 20) and box.tolist() == [-10, -10, 10, 10]
    assert np.all(crop[:10, :10] == img[0, 0])  # replicated border
    assert np.array_equal(crop[10:, 10:], img[:10, :10])
    crop, box = extract_crop(img, (100, 100, 130, 130), size=16)  # fully outside: shifted to overlap
    assert crop.shape == (16, 16) and box[0] <= 49 and box[1] <= 39
    crop, _ = extract_crop(img, (5, 5, 35, 35), size=128)
    assert crop.shape == (128, 128) and crop.dtype == np.uint8


def test_estimate_mask_box_errors(tmp_path):
    (tmp_path / "junk.mpg").write_bytes(b"\x01" * 1000)
    with pytest.raises(DataError, match="no face found"):
        estimate_mask_box([tmp_path / "junk.mpg", tmp_path / "missing.mpg"])
    with pytest.raises(ParameterError):
        estimate_mask_box([tmp_path / "junk.mpg"], max_clips=0)


# ------------------------------------------------------------------------------------------------ preview, config
def test_save_crop_preview(clips, tmp_path):
    import cv2

    cropper = make_cropper(CropConfig(method="haar"))
    by_spk = {}
    for spk, utt, video, truth in clips:
        by_spk.setdefault(spk, cropper.crop(video))
    by_spk["small"] = by_spk[next(iter(by_spk))].crops[:, ::2, ::2]  # other crop sizes are rescaled
    out = save_crop_preview(by_spk, tmp_path / "prev" / "crops.png", n=6)
    img = cv2.imread(str(out), cv2.IMREAD_GRAYSCALE)
    assert img.shape == (len(by_spk) * 130 + 2, 70 + 6 * 130 + 2)
    assert not [p for p in out.parent.iterdir() if p.name != "crops.png"]
    with pytest.raises(ParameterError):
        save_crop_preview({}, tmp_path / "x.png")
    with pytest.raises(ParameterError):
        save_crop_preview({"s1": np.zeros((3, 8, 8), np.float32)}, tmp_path / "x.png")


def test_config_roundtrip_and_defaults():
    c = CropConfig(method="mask", size=96, scale=2.0, smooth_frames=7, mask_boxes={"s1": [1, 2, 41, 42]})
    d = json.loads(json.dumps(c.to_dict()))
    assert CropConfig.from_dict(d) == c
    assert c.mask_boxes == {"s1": (1.0, 2.0, 41.0, 42.0)}
    default = CropConfig()
    assert (default.method, default.size) == ("landmarks", 128)
    assert CropConfig.from_dict(default.to_dict()) == default
    assert default.replace(method="haar").method == "haar"
    assert isinstance(make_cropper(CropConfig(method="haar")), HaarCropper)
    assert isinstance(make_cropper(), LandmarkCropper)


@pytest.mark.parametrize("kwargs", [
    {"method": "hog"}, {"size": 4}, {"size": 128.0}, {"scale": 0.1}, {"scale": float("nan")}, {"smooth_frames": 4},
    {"smooth_frames": 0}, {"mask_boxes": {"s1": (10, 10, 5, 20)}}, {"mask_boxes": [(0, 0, 1, 1)]},
    {"mask_boxes": {"s1": (0, 0, 1)}}, {"haar_mouth": (0.5, 0.8)}, {"haar_mouth": (0.5, 0.8, 0)},
    {"detect_width": 5}, {"min_frames": 0}, {"landmark_model": 3}, {"detect_every": 0}, {"detect_every": 51},
    {"detect_every": 2.0}, {"method": "haar", "detect_every": 5}, {"landmark_step": 0}, {"landmark_step": 11},
    {"method": "mask", "landmark_step": 2},
])
def test_config_validation(kwargs):
    with pytest.raises(ParameterError):
        CropConfig(**kwargs)


def test_config_errors():
    with pytest.raises(ParameterError, match="unknown CropConfig field"):
        CropConfig.from_dict({"method": "haar", "sise": 3})
    with pytest.raises(ParameterError, match="MaskCropper needs"):
        MaskCropper(CropConfig(method="haar"))
    with pytest.raises(ParameterError, match="CropConfig"):
        make_cropper({"method": "haar"})
    with pytest.raises(ParameterError, match="uint8"):
        crop_mouths(np.zeros((3, 20, 20), np.float32), CropConfig(method="haar"))
    with pytest.raises(DataError, match="landmark model not found"):
        crop_mouths(np.zeros((3, 20, 20), np.uint8), CropConfig(landmark_model="/nonexistent/model.dat"))


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_landmarks_any_frame_size(clips, factor):
    """Small (180x144, face ~55 px) and large (720x576) frames give the same mouth centre, in source pixels."""
    import cv2

    spk, utt, video, truth = clips[0]
    frames = np.stack([cv2.resize(f, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)
                       for f in video.frames[:15]])
    mc = crop_mouths(frames, CropConfig(method="landmarks"))
    assert mc.detected.all()
    centre = (mc.boxes[:, :2] + mc.boxes[:, 2:]) / 2 / factor
    true_centre = (truth[:15, :2] + truth[:15, 2:]) / 2
    side = (mc.boxes[:, 2] - mc.boxes[:, 0]) / factor
    assert np.all(np.abs(centre - true_centre).max(axis=1) <= 0.10 * side)  # measured: <= 0.022 at 0.5x and 2x


def test_landmarks_detect_every_tracks_between_detections(clips, monkeypatch):
    """detect_every=5: the detector runs on about 1 frame in 5 and the boxes stay within 5 % of the crop side
    of detecting on every frame (boxes are whole pixels: measured up to 3 px of a 79 px box here, 3.8 %; on 20
    real s1 clips up to 2.9 %)."""
    calls = []
    orig = LandmarkCropper._detect

    def counting(det, img, scale, upsample=0):
        calls.append(1)
        return orig(det, img, scale, upsample)

    every = make_cropper(CropConfig(method="landmarks", size=48))
    fifth = make_cropper(CropConfig(method="landmarks", size=48, detect_every=5))
    assert CropConfig.from_dict(fifth.config.to_dict()).detect_every == 5
    for spk, utt, video, truth in clips[:3]:
        ref = every.crop(video)
        monkeypatch.setattr(LandmarkCropper, "_detect", staticmethod(counting))
        calls.clear()
        mc = fifth.crop(video)
        monkeypatch.setattr(LandmarkCropper, "_detect", staticmethod(orig))
        assert len(calls) <= 75 // 5 + 2, f"{spk}/{utt}: {len(calls)} detector calls"
        assert mc.detected.all()
        side = ref.boxes[:, 2] - ref.boxes[:, 0]
        assert (np.abs(mc.boxes - ref.boxes).max(axis=1) / side).max() <= 0.05
        assert_mouth_kept(mc, truth, "landmarks", f"detect_every=5 {spk}/{utt}")


def test_landmarks_detect_every_keeps_tracking_through_missed_detections(clips):
    """A detection frame without a face is a gap, as with per-frame detection; the frames after it are
    still tracked from the last detected box."""
    spk, utt, video, truth = clips[0]
    frames = video.frames.copy()
    frames[10] = 128  # frame 10 is a detection frame for detect_every=5 (counted from the first face, frame 0)
    mc = crop_mouths(frames, CropConfig(method="landmarks", detect_every=5))
    assert np.flatnonzero(~mc.detected).tolist() == [10]
    assert np.isfinite(mc.boxes).all()
    assert_mouth_kept(mc, truth, "landmarks", "detect_every=5, blank frame 10")


def test_landmarks_on_every_third_frame_interpolate_the_box(clips, monkeypatch):
    """landmark_step=3 (with detect_every=5): the shape predictor runs on 26 of 75 frames (every third and
    the last), the boxes stay within 5 % of the crop side of the per-frame ones and still hold the true mouth;
    frames between samples count as detected when the samples around them are."""
    import dlib

    every = make_cropper(CropConfig(method="landmarks", size=48))
    fast = make_cropper(CropConfig(method="landmarks", size=48, detect_every=5, landmark_step=3))
    _, pred = fast._models()
    calls = []

    class CountingPredictor:
        def __call__(self, img, rect):
            calls.append(1)
            return pred(img, rect)

    for spk, utt, video, truth in clips[:2]:
        ref = every.crop(video)
        monkeypatch.setattr(LandmarkCropper, "_models", lambda self: (dlib.get_frontal_face_detector(), CountingPredictor()))
        calls.clear()
        mc = fast.crop(video)
        monkeypatch.undo()
        assert len(calls) == 26, f"{spk}/{utt}: {len(calls)} shape predictor calls"
        assert mc.detected.all() and mc.crops.shape == ref.crops.shape
        side = ref.boxes[:, 2] - ref.boxes[:, 0]
        assert (np.abs(mc.boxes - ref.boxes).max(axis=1) / side).max() <= 0.05
        assert_mouth_kept(mc, truth, "landmarks", f"landmark_step=3 {spk}/{utt}")
    # a missed sample: its frame and the frames up to the next samples on both sides are not detected
    frames = clips[0][2].frames.copy()
    frames[30] = 128
    mc = crop_mouths(frames, CropConfig(method="landmarks", landmark_step=3))
    assert np.flatnonzero(~mc.detected).tolist() == [28, 29, 30, 31, 32]
    assert np.isfinite(mc.boxes).all()


def test_prepare_command_passes_the_landmark_speedups_to_the_config():
    import argparse

    from lip2audspec.cli import prepare as prepare_cli

    parser = argparse.ArgumentParser()
    prepare_cli.add_arguments(parser)
    cfg = prepare_cli.build_config(parser.parse_args(["grid", "-o", "out", "--detect-every", "5", "--landmark-step", "3"]))
    assert (cfg.crop.method, cfg.crop.detect_every, cfg.crop.landmark_step) == ("landmarks", 5, 3)
    default = prepare_cli.build_config(parser.parse_args(["grid", "-o", "out"]))
    assert (default.crop.detect_every, default.crop.landmark_step) == (1, 1)  # as datasets prepared before
    with pytest.raises(ParameterError, match="landmark_step applies to the 'landmarks' cropper only"):
        prepare_cli.build_config(parser.parse_args(["grid", "-o", "out", "--cropper", "haar", "--landmark-step", "2"]))

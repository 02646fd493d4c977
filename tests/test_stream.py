"""Long videos: frame streams, mouth tracking, chunked prediction and inversion, streamed reconstruction, lipread."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from lip2audspec import DataError, ParameterError
from lip2audspec.chunking import chunk_starts, process_chunked, stream_chunks
from lip2audspec.corpora.grid import GridLayout
from lip2audspec.data.crop import CropConfig, HaarCropper
from lip2audspec.data.track import MouthTracker, TrackConfig, track_mouths
from lip2audspec.data.video import FrameStream, read_video, write_video

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid")) / "s1_fixture"
needs_fixture = pytest.mark.skipif(not (FIXTURE / "s1").is_dir(), reason=f"real GRID fixture not found at {FIXTURE}")


def _clean_clips(root, n=2):
    m = json.loads((root / "manifest.json").read_text())
    bad = {(c["speaker"], c["utt_id"]) for c in m["corrupted"]}
    layout = GridLayout.discover(root)
    return [layout.clip_paths(s, u).video for s in sorted(m["speakers"]) for u in m["speakers"][s]["utterances"]
            if (s, u) not in bad][:n]


# ------------------------------------------------------------------------------------------------ frame stream
def test_frame_stream_equals_read_video(tiny_grid):
    path = _clean_clips(tiny_grid, 1)[0]
    for kw in ({}, {"fps": 30}, {"fps": 12.5, "gray": False}, {"max_frames": 10}):
        v = read_video(path, **kw)
        stream = FrameStream(path, **kw)
        frames = list(stream)
        assert len(frames) == v.n_frames and all(np.array_equal(a, b) for a, b in zip(frames, v.frames))
        assert stream.fps == v.fps and stream.source_frames == v.source_frames
        blocks = list(stream.blocks(16))
        assert [len(b) for b in blocks[:-1]] == [16] * (len(blocks) - 1)
        assert np.array_equal(np.concatenate(blocks), v.frames)
    assert abs(FrameStream(path, fps=30).expected_frames - 90) <= 1  # header count: an estimate (MPEG-1: one short)


def test_frame_stream_bad_inputs(tmp_path):
    with pytest.raises(DataError, match="no video file"):
        FrameStream(tmp_path / "missing.mp4")
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 10)
    with pytest.raises(DataError, match="cannot open|no frame"):
        list(FrameStream(tmp_path / "junk.mp4"))
    with pytest.raises(ParameterError, match="fps"):
        FrameStream(tmp_path / "junk.mp4", fps=-1)


def test_write_video_from_iterator(tmp_path):
    frames = (np.full((32, 48), 20 * i, np.uint8) for i in range(6))
    path = write_video(tmp_path / "it.avi", frames, fps=25)
    v = read_video(path)
    assert v.frames.shape == (6, 32, 48) and abs(float(v.frames[5].mean()) - 100) < 3
    with pytest.raises(ParameterError, match="every frame"):
        write_video(tmp_path / "bad.avi", iter([np.zeros((32, 48), np.uint8), np.zeros((16, 16), np.uint8)]), fps=25)


# ------------------------------------------------------------------------------------------------ chunking
def test_chunked_equals_one_shot_for_a_local_function(rng):
    """A function whose output at t depends on inputs within `margin` frames of t: chunked == one shot."""
    x = rng.standard_normal((203, 3))

    def fn(c):  # 2 output frames per input, moving average over +-3 frames (edges: shorter)
        from scipy.ndimage import uniform_filter1d

        return np.repeat(uniform_filter1d(c, size=7, axis=0, mode="constant"), 2, axis=0)

    full = fn(x)
    # margin = overlap // 3 = 4 >= reach 3; input fed in uneven blocks
    blocks = [x[:5], x[5:77], x[77:78], x[78:]]
    out = np.concatenate(list(stream_chunks(blocks, fn, chunk=40, overlap=12, ratio=2)))
    np.testing.assert_allclose(out, full, atol=1e-12)
    assert chunk_starts(203, chunk=40, overlap=12).tolist() == [0, 28, 56, 84, 112, 140, 168]
    # a clip of at most one chunk is one call
    np.testing.assert_array_equal(process_chunked(x[:40], fn, chunk=40, overlap=12, ratio=2), fn(x[:40]))


def test_chunked_output_is_continuous_at_seams():
    """A function that adds a different offset to every chunk: the cross-fade leaves no step at a seam."""
    calls = []

    def fn(c):
        calls.append(len(c))
        return c + 10.0 * len(calls)  # chunk i is offset by 10 i

    x = np.zeros(300)
    out = process_chunked(x, fn, chunk=60, overlap=30)
    assert out.shape == (300,) and len(calls) == len(chunk_starts(300, chunk=60, overlap=30))
    # a jump of 10 between chunks is spread over the 10-frame ramp: no step larger than 10 / 10 + eps
    assert np.abs(np.diff(out)).max() <= 10.0 / 10 + 1e-9
    assert out[0] == 10.0 and out[-1] == 10.0 * len(calls)


def test_chunking_errors():
    with pytest.raises(ParameterError, match="overlap must be smaller"):
        process_chunked(np.zeros(10), lambda c: c, chunk=5, overlap=5)
    with pytest.raises(ParameterError, match="fn returned"):
        process_chunked(np.zeros(10), lambda c: c[:-1], chunk=5, overlap=2)
    with pytest.raises(ParameterError, match="fade"):
        process_chunked(np.zeros(10), lambda c: c, chunk=5, overlap=2, fade="cubic")


def test_window_network_chunked_equals_one_shot(stream_rec, tiny_grid):
    """The window network reaches 7 frames; overlap 24 (outer thirds of 8 frames): chunked == one shot."""
    from lip2audspec.chunking import chunk_starts
    from lip2audspec.inference import predict_long, predict_windows, window_predictor

    crops = stream_rec.cropper.crop(read_video(_clean_clips(tiny_grid, 1)[0], fps=25).frames).crops[:56]
    assert len(chunk_starts(56, chunk=40, overlap=24)) == 2
    one = predict_windows(stream_rec.lipnet, crops, hop=1)
    chunked = predict_long(crops, window_predictor(stream_rec.lipnet), chunk=40, overlap=24)
    assert chunked.shape == one.shape == (224, 32)
    np.testing.assert_allclose(chunked, one, atol=2e-5)


def test_aud2wav_chunked(rng):
    from lip2audspec.auditory import aud2wav, wav2aud
    from lip2audspec.auditory.stream import aud2wav_chunked

    t = np.arange(16000 * 2) / 16000
    x = np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) + 0.05 * rng.standard_normal(t.size)
    spec = wav2aud(x)  # 200 frames
    one = aud2wav(spec, n_iter=3, rng=5).x_best
    np.testing.assert_array_equal(aud2wav_chunked(spec, chunk=200, overlap=40, n_iter=3, rng=5), one)
    y = aud2wav_chunked(spec, chunk=80, overlap=24, n_iter=3, rng=5)  # 4 chunks
    assert y.shape == one.shape and np.isfinite(y).all()

    def rel_err(z):
        s = wav2aud(z)
        s = s / s.mean() * spec.mean()
        return np.sum((s - spec) ** 2) / np.sum(spec ** 2)

    assert rel_err(y) < 1.5 * rel_err(one)
    # no drop-out or bump at the seams (equal-power fade of unrelated phases): 100 ms levels within 2x of
    # the one-shot inversion's, and no step (the largest sample-to-sample change as in the one-shot output)
    rms = lambda z: np.sqrt((z[: len(z) // 1600 * 1600].reshape(-1, 1600) ** 2).mean(axis=1))  # noqa: E731
    ratio = rms(y) / rms(one)
    assert 0.5 < ratio.min() and ratio.max() < 2
    assert np.abs(np.diff(y)).max() < 1.5 * np.abs(np.diff(one)).max()


def test_wav_stream_writer_matches_write_wav(tmp_path, rng):
    from lip2audspec.auditory import peak_normalize, read_wav, write_wav
    from lip2audspec.auditory.stream import WavStreamWriter

    x = rng.standard_normal(5000) * 3
    write_wav(tmp_path / "a.wav", peak_normalize(x), sr=16000)
    with WavStreamWriter(tmp_path / "b.wav", sr=16000) as w:
        for part in np.array_split(x, 7):
            w.write(part)
    a, _ = read_wav(tmp_path / "a.wav")
    b, sr = read_wav(tmp_path / "b.wav")
    assert sr == 16000 and np.array_equal(a, b)
    assert not list(tmp_path.glob(".*f32"))
    with pytest.raises(ParameterError, match="NaN"), WavStreamWriter(tmp_path / "c.wav", sr=16000) as w:
        w.write(np.array([0.0, np.nan]))
    assert not (tmp_path / "c.wav").exists()


# ------------------------------------------------------------------------------------------------ tracking
def _moving(frames, n, *, dx=220, dy=80, canvas=(400, 640), blank=()):
    """The clip on a larger canvas, translated linearly by (dx, dy) over n frames (looped); `blank` frames
    show no face."""
    H, W = frames.shape[1:3]
    for t in range(n):
        c = np.full(canvas, 100, np.uint8)
        x, y = 10 + round(dx * t / (n - 1)), 10 + round(dy * t / (n - 1))
        if t not in blank:
            c[y:y + H, x:x + W] = frames[t % len(frames)]
        yield c


def test_tracker_follows_a_moving_face(tiny_grid):
    v = read_video(_clean_clips(tiny_grid, 1)[0], fps=25).frames
    n, crop = 120, CropConfig(method="haar", size=48)
    mc = track_mouths(_moving(v, n), crop, TrackConfig(detect_every=5))
    assert mc.crops.shape == (n, 48, 48) and mc.detected.all()
    centre = (mc.boxes[:, :2] + mc.boxes[:, 2:]) / 2
    shift = np.array([(10 + round(220 * t / (n - 1)), 10 + round(80 * t / (n - 1))) for t in range(n)])
    rel = centre - shift  # the mouth relative to the moving clip: about constant if tracked
    side = float(np.median(mc.boxes[:, 2] - mc.boxes[:, 0]))
    assert np.abs(rel - np.median(rel, axis=0)).max() < 0.2 * side
    # the whole-clip Haar cropper keeps the first frame's box: off by the full translation at the end
    frames = np.stack(list(_moving(v, n)))
    fixed = HaarCropper(crop).crop(frames)
    fixed_rel = (fixed.boxes[:, :2] + fixed.boxes[:, 2:]) / 2 - shift
    assert np.abs(fixed_rel[-1] - fixed_rel[0]).max() > 2 * side
    # streaming in blocks gives the same crops as all at once, in order
    blocks = list(MouthTracker(crop).track(iter(frames)))
    assert len(blocks) > 3 and np.array_equal(np.concatenate([b.crops for b in blocks]), mc.crops)


def test_tracker_lost_face_and_errors(tiny_grid):
    v = read_video(_clean_clips(tiny_grid, 1)[0], fps=25).frames
    n = 150
    lost = set(range(60, 130))  # 70 frames without a face (> max_lost): held box, flagged
    mc = track_mouths(_moving(v, n, dx=0, dy=0, blank=lost), CropConfig(method="haar", size=32),
                      TrackConfig(max_lost=30))
    assert mc.crops.shape == (n, 32, 32)
    assert not mc.detected[70:125].any() and mc.detected[:55].all() and mc.detected[135:].all()
    with pytest.raises(DataError, match="no face found in the first 20 frames"):
        list(MouthTracker(CropConfig(method="haar"), TrackConfig(max_search=20)).track(np.full((40, 120, 160), 90, np.uint8)))
    with pytest.raises(DataError, match="no face found"):
        track_mouths(np.full((10, 120, 160), 90, np.uint8))
    with pytest.raises(ParameterError, match="mask"):
        MouthTracker(CropConfig(method="mask", mask_boxes={"s1": (0, 0, 10, 10)}))
    with pytest.raises(ParameterError, match="max_lost"):
        TrackConfig(detect_every=10, max_lost=20)
    with pytest.raises(ParameterError, match="odd"):
        TrackConfig(smooth=4)
    assert TrackConfig.from_dict(TrackConfig(detect_every=3).to_dict()) == TrackConfig(detect_every=3)


@needs_fixture
def test_landmark_tracker_agrees_with_the_whole_clip_cropper():
    """On a real GRID clip the tracked landmark box stays near the whole-clip landmark box."""
    from lip2audspec.data.crop import make_cropper

    v = read_video(FIXTURE / "s1" / "bbaf2n.mpg", fps=25).frames
    crop = CropConfig(method="landmarks", size=48)
    ref = make_cropper(crop).crop(v)
    mc = track_mouths(v, crop)
    side = ref.boxes[:, 2] - ref.boxes[:, 0]
    d = np.abs((mc.boxes[:, :2] + mc.boxes[:, 2:]) / 2 - (ref.boxes[:, :2] + ref.boxes[:, 2:]) / 2)
    assert np.median(d) < 0.05 * np.median(side) and d.max() < 0.2 * np.median(side)


# ------------------------------------------------------------------------------------------------ reconstruction
@pytest.fixture(scope="module")
def stream_rec(tiny_runs):
    from lip2audspec.reconstruct import Reconstructor

    return Reconstructor(tiny_runs["lip"], n_iter=2, hop=5)


@pytest.fixture(scope="module")
def ten_second_video(tiny_grid, tmp_path_factory):
    frames = np.concatenate([read_video(p, gray=False).frames for p in _clean_clips(tiny_grid, 4)])[:250]
    return write_video(tmp_path_factory.mktemp("long") / "ten.mp4", frames, fps=25)


def test_reconstruct_ten_and_one_second_videos(stream_rec, ten_second_video, tmp_path):
    from lip2audspec.auditory import read_wav

    out = stream_rec.from_video(ten_second_video)
    assert out.audio.shape == (160000,) and out.codes.shape == (1000, 32) and out.spectrogram.shape == (1000, 128)
    assert out.crops.shape == (250, 48, 48) and np.isfinite(out.audio).all()
    assert set(out.timings) >= {"read", "crop", "lipnet", "decode", "aud2wav"}
    res = stream_rec.stream(ten_second_video, tmp_path / "ten.wav")
    x, sr = read_wav(tmp_path / "ten.wav")
    assert res.streamed and res.n_frames == 250 and res.duration == 10.0 and res.detection_rate > 0.9
    assert sr == 16000 and np.abs(x - out.audio).max() < 1e-4  # same audio, up to 16-bit rounding
    # 1 s: one clip, the run's own cropper (the training path); stream() writes the same audio
    one = write_video(tmp_path / "one.mp4", read_video(ten_second_video, gray=False, max_frames=25).frames, fps=25)
    short = stream_rec.from_video(one)
    assert short.audio.shape == (16000,) and short.codes.shape == (100, 32)
    res1 = stream_rec.stream(one, tmp_path / "one.wav")
    y, _ = read_wav(tmp_path / "one.wav")
    assert not res1.streamed and np.abs(y - short.audio).max() < 1e-4



def test_voice_f0_on_streamed_and_one_clip_videos(stream_rec, tiny_runs, ten_second_video, tmp_path):
    """``voice_f0``: both paths (streamed 10 s, one 1 s clip) invert the prediction with the harmonics imposed."""
    from lip2audspec.auditory.harmonics import impose_harmonics
    from lip2audspec.reconstruct import Reconstructor

    voiced = Reconstructor(tiny_runs["lip"], n_iter=2, hop=5, voice_f0=107.0)
    one = write_video(tmp_path / "one.mp4", read_video(ten_second_video, gray=False, max_frames=25).frames, fps=25)
    for video in (ten_second_video, one):
        plain, out = stream_rec.from_video(video), voiced.from_video(video)
        np.testing.assert_allclose(out.spectrogram, impose_harmonics(plain.spectrogram, 107.0), rtol=1e-6, atol=1e-9)
        assert out.audio.shape == plain.audio.shape and not np.allclose(out.audio, plain.audio, atol=1e-3)
    with pytest.raises(ParameterError, match="f0_hz"):
        Reconstructor(tiny_runs["lip"], voice_f0=0.0)


def test_streamed_reconstruction_errors(stream_rec, tiny_runs, tmp_path):
    from lip2audspec.reconstruct import Reconstructor

    blank = write_video(tmp_path / "blank.mp4", np.full((120, 120, 160), 90, np.uint8), fps=25)
    with pytest.raises(DataError, match="no face found"):
        stream_rec.stream(blank, tmp_path / "blank.wav")
    assert not (tmp_path / "blank.wav").exists() and not list(tmp_path.glob(".*f32"))
    with pytest.raises(ParameterError, match="overlap"):
        Reconstructor(tiny_runs["lip"], chunk=30, overlap=30)
    with pytest.raises(ParameterError, match="hop"):
        Reconstructor(tiny_runs["lip"], hop=9)


# ------------------------------------------------------------------------------------------------ lipread
@needs_fixture
def test_lipread_cli_on_a_real_clip(tmp_path, capsys):
    from lip2audspec.cli.main import main
    from lip2audspec.evaluation.asr import PRONUNCIATIONS

    clip = FIXTURE / "s1" / "bbaf5a.mpg"
    assert main(["lipread", str(clip), "-m", "grid-s1", "--iterations", "3", "--json", "-o", str(tmp_path / "r.wav")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["grammar"] == "grid" and out["text"] == " ".join(w["word"] for w in out["words"])
    assert 1 <= len(out["words"]) <= 6 and all(w["word"] in PRONUNCIATIONS for w in out["words"])
    assert all(0 <= w["confidence"] <= 1 and w["start_s"] < w["end_s"] for w in out["words"])
    assert (tmp_path / "r.wav").is_file()
    assert main(["lipread", str(clip), "-m", "grid-s1", "--iterations", "3"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == out["text"] and "confidence" in printed[1]
    assert main(["lipread", str(tmp_path / "missing.mp4"), "-m", "grid-s1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lip2audspec lipread: error: no video file" in err[0]


def test_read_api_and_open_vocabulary(stream_rec, tiny_grid):
    from lip2audspec.recognition import EnglishRecognizer, GridRecognizer

    video = _clean_clips(tiny_grid, 1)[0]
    reading = stream_rec.read(video, recognizer=GridRecognizer())
    assert reading.grammar == "grid" and len(reading.words) == len(reading.confidences) == len(reading.times) <= 6
    assert reading.reconstruction.audio.shape == (48000,) and reading.to_dict()["text"] == reading.text
    words = EnglishRecognizer().recognize_words(reading.reconstruction.audio[:16000], sr=16000)
    assert all(isinstance(w.word, str) and 0 <= w.confidence <= 1 for w in words)

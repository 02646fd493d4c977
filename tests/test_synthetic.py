"""Synthetic GRID-format corpus: formats through real decoders, grammar, determinism, resume, corruption,
CLI, speech/voices, visemes, and audio-visual sync measured from decoded pixels."""

from __future__ import annotations

import importlib
import shutil

import cv2
import numpy as np
import pytest
from scipy.io import wavfile

from lip2audspec.corpora import grid
from lip2audspec.corpora.synthetic import (VOICE_PRESETS, clip_sync, generate_clip, generate_corpus, lagged_correlation,
                                        load_manifest, mouth_opening, read_mouth_params, read_video_frames,
                                        speech_envelope)
from lip2audspec.corpora.synthetic import corpus as corpus_mod
from lip2audspec.corpora.synthetic.corpus import SpeakerSpec, clip_complete
from lip2audspec.corpora.synthetic.visemes import VISEME_TARGETS, phoneme_viseme, viseme_track
from lip2audspec.errors import DataError, ParameterError


def _clips(root):
    m = load_manifest(root)
    bad = {(c["speaker"], c["utt_id"]): c for c in m["corrupted"]}
    return m, [(s, u, bad.get((s, u))) for s, d in m["speakers"].items() for u in d["utterances"]]


def _count_frames(path):
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return -1, 0.0, (0, 0)
    n = 0
    while cap.read()[0]:
        n += 1
    info = cap.get(cv2.CAP_PROP_FPS), (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    cap.release()
    return n, *info


# ----------------------------------------------------------------------------------------- layout and formats
def test_layout_and_formats(tiny_grid):
    m, clips = _clips(tiny_grid)
    assert m["version"] and m["config"]["seed"] == 7 and len(m["speakers"]) == 2
    assert len(clips) == 8 and sum(c[2] is not None for c in clips) == 1
    for s, u, bad in clips:
        video = tiny_grid / s / f"{u}.mpg"
        assert video.read_bytes()[:4] in (b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3") or bad
        if bad is None:
            n, fps, size = _count_frames(video)
            assert (n, fps, size) == (75, 25.0, (360, 288))
        sr, x = wavfile.read(tiny_grid / "audio_25k" / s / f"{u}.wav")
        assert sr == 25000 and x.dtype == np.int16 and x.shape == (75000,)
        sr16, x16 = wavfile.read(tiny_grid / "audio_16k" / s / f"{u}.wav")
        assert sr16 == 16000 and x16.dtype == np.int16 and x16.shape == (48000,)
        assert 0.1 < np.abs(x).max() / 32768 < 0.99
        rows = grid.read_align(tiny_grid / "alignments" / s / f"{u}.align")
        assert rows[0][0] == 0 and rows[0][2] == "sil" and rows[-1][2] == "sil" and rows[-1][1] == 74500
        assert grid.align_words(rows) == list(grid.sentence_from_id(u))
        assert all(a % 250 == 0 and b % 250 == 0 for a, b, _ in rows)
        # speech is present between the first and last word and silent outside
        t0, t1 = rows[1][0], rows[-2][1]
        x = x.astype(float) / 32768
        speech_rms = np.sqrt(np.mean(x[t0:t1] ** 2))
        lead_rms = np.sqrt(np.mean(x[: max(t0 - 1000, 100)] ** 2))
        assert 0.4 <= t0 / 25000 <= 1.0 and t1 / 25000 <= 2.9
        assert speech_rms > 20 * lead_rms
        mp = read_mouth_params(tiny_grid / "mouth_params" / s / f"{u}.csv")
        assert np.array_equal(mp["frame"], np.arange(75))
        assert np.all(mp["bbox_x0"] < mp["mouth_cx"]) and np.all(mp["mouth_cx"] < mp["bbox_x1"])
        assert np.all((mp["mouth_cy"] > 170) & (mp["mouth_cy"] < 230))
        assert clip_complete(tiny_grid, s, u)


def test_grid_layout_resolves_synthetic_corpus(tiny_grid):
    lay = grid.GridLayout.discover(tiny_grid)
    assert lay.speakers == ["s1", "s2"]
    m = load_manifest(tiny_grid)
    for s in lay.speakers:
        assert lay.utterances(s, require=("video", "audio", "align")) == sorted(m["speakers"][s]["utterances"])
        u = m["speakers"][s]["utterances"][0]
        cp = lay.clip_paths(s, u)
        assert cp.video == tiny_grid / s / f"{u}.mpg"
        assert cp.audio == tiny_grid / "audio_25k" / s / f"{u}.wav"
        assert cp.align == tiny_grid / "alignments" / s / f"{u}.align"
        assert cp.mouth_params == tiny_grid / "mouth_params" / s / f"{u}.csv"
    assert grid.GridLayout.discover(tiny_grid, audio_rate="16k").clip_paths(s, u).audio.parent.parent.name == "audio_16k"


def test_grammar_ids_unique_and_seeded():
    p1 = corpus_mod.plan_corpus(corpus_mod.CorpusConfig(speakers=3, utterances=300, seed=1))
    p2 = corpus_mod.plan_corpus(corpus_mod.CorpusConfig(speakers=3, utterances=300, seed=2))
    for s, d in p1["speakers"].items():
        ids = d["utterances"]
        assert len(set(ids)) == 300 and all(grid.is_valid_id(u) for u in ids)
        assert ids != p2["speakers"][s]["utterances"]
        # every slot value occurs (the grammar is covered)
        for slot, words in enumerate(grid.SLOTS):
            assert {grid.sentence_from_id(u)[slot] for u in ids} == set(words)
    # a longer corpus starts with the same sentences (prefix-stable)
    p3 = corpus_mod.plan_corpus(corpus_mod.CorpusConfig(speakers=1, utterances=10, seed=1))
    assert p3["speakers"]["s1"]["utterances"] == p1["speakers"]["s1"]["utterances"][:10]


def test_speakers_have_distinct_voices():
    plan = corpus_mod.plan_corpus(corpus_mod.CorpusConfig(speakers=12, utterances=1, seed=0))
    voices = [(d["voice"]["name"], d["voice"]["pitch"]) for d in plan["speakers"].values()]
    assert len(set(voices)) == 12 and len(VOICE_PRESETS) >= 8
    assert {d["sex"] for d in plan["speakers"].values()} == {"male", "female"}


def _f0(x, sr):
    """Median autocorrelation F0 (Hz) of voiced 40 ms frames."""
    f0s = []
    n = int(0.04 * sr)
    for i in range(0, len(x) - n, n):
        seg = x[i:i + n] - x[i:i + n].mean()
        if np.sqrt(np.mean(seg ** 2)) < 0.05:
            continue
        ac = np.correlate(seg, seg, "full")[n - 1:]
        lo, hi = int(sr / 400), int(sr / 70)
        k = lo + int(np.argmax(ac[lo:hi]))
        if ac[k] > 0.3 * ac[0]:
            f0s.append(sr / k)
    return float(np.median(f0s))


def test_espeak_voices_and_timings():
    from lip2audspec.corpora.synthetic.speech import Voice, synthesize

    f0 = {}
    for name, sex, pitch, prange, rate in VOICE_PRESETS[:4]:
        u = synthesize("bin blue at F two now", voice=Voice(name=name, pitch=pitch, pitch_range=prange, rate=rate))
        assert u.sr == 22050 and len(u.words) == 6 and 0.8 < u.duration < 2.5
        starts = [w[0] for w in u.words]
        assert starts == sorted(starts) and all(a < b for a, b, _ in u.phonemes)
        assert [phoneme_viseme(p) for _, _, p in u.phonemes][0] == "PBM"  # "bin" starts with a bilabial
        f0[(name, sex)] = _f0(u.audio / np.abs(u.audio).max(), u.sr)
    male = [v for (n, s), v in f0.items() if s == "male"]
    female = [v for (n, s), v in f0.items() if s == "female"]
    assert max(male) < min(female), f0
    with pytest.raises(ParameterError):
        Voice(name="en-us", rate=10)
    with pytest.raises(ParameterError, match="no voice"):
        synthesize("hello", voice=Voice(name="xx-nonexistent"))


def test_visemes_many_to_one_and_closure():
    assert phoneme_viseme("p") == phoneme_viseme("b") == phoneme_viseme("m") == "PBM"
    assert phoneme_viseme("f") == phoneme_viseme("v") == "FV"
    assert phoneme_viseme("'aI") == "AA" and phoneme_viseme("u:") == "WU" and phoneme_viseme("_:") == "sil"
    assert set(VISEME_TARGETS) >= {phoneme_viseme(p) for p in ("t", "d", "s", "S", "k", "r", "w", "i:", "oU", "@")}
    # "ba ba": mouth opens on the vowels, closes on the b's, smooth in between
    ph = [(0.0, 0.1, "b"), (0.1, 0.4, "'A:"), (0.4, 0.5, "b"), (0.5, 0.8, "'A:"), (0.8, 1.0, "_:")]
    tr = viseme_track(ph, n_frames=75, offset=1.0)
    assert tr.shape == (75, 5)
    jaw = tr[:, 0]
    assert jaw[:20].max() < 0.1 and jaw[60:].max() < 0.1
    # the second b's closure (70 ms before its release at 1.4 s) is closed; the vowel after it reopens
    assert jaw[29:33].min() > 0.8 and jaw[34:36].min() < 0.05 and jaw[39:43].min() > 0.8
    assert np.abs(np.diff(jaw)).max() < 0.7
    with pytest.raises(ParameterError):
        viseme_track(ph, n_frames=0)


# ----------------------------------------------------------------------------------------- determinism
def _spec_for(root, s):
    d = load_manifest(root)["speakers"][s]
    return SpeakerSpec.from_dict({k: d[k] for k in ("name", "sex", "voice", "face")})


def test_deterministic_and_worker_independent(tiny_grid, tmp_path):
    """Regenerating a clip in this process (1 worker) gives the fixture's clip (made with 2 workers)."""
    m, clips = _clips(tiny_grid)
    s, u, _ = next(c for c in clips if c[2] is None)
    k = m["speakers"][s]["utterances"].index(u)
    generate_clip(tmp_path, spec=_spec_for(tiny_grid, s), utt_id=u, index=k, seed=m["config"]["seed"],
                  jpeg_fraction=m["config"]["jpeg_fraction"])
    for rel in (f"audio_25k/{s}/{u}.wav", f"audio_16k/{s}/{u}.wav", f"alignments/{s}/{u}.align", f"mouth_params/{s}/{u}.csv"):
        assert (tmp_path / rel).read_bytes() == (tiny_grid / rel).read_bytes(), rel
    a = read_video_frames(tmp_path / s / f"{u}.mpg")
    b = read_video_frames(tiny_grid / s / f"{u}.mpg")
    assert a.shape == b.shape == (75, 288, 360, 3)
    assert np.array_equal(a, b)
    # OpenCV's MPEG-1 encode (FFmpeg) is byte-deterministic here as well
    assert (tmp_path / s / f"{u}.mpg").read_bytes() == (tiny_grid / s / f"{u}.mpg").read_bytes()


def test_different_seed_differs(tmp_path):
    spec = corpus_mod.speaker_spec(1, seed=3)
    generate_clip(tmp_path / "a", spec=spec, utt_id="bbaf2n", index=0, seed=3)
    generate_clip(tmp_path / "b", spec=spec, utt_id="bbaf2n", index=0, seed=4)
    wa = (tmp_path / "a/audio_25k/s1/bbaf2n.wav").read_bytes()
    wb = (tmp_path / "b/audio_25k/s1/bbaf2n.wav").read_bytes()
    assert wa != wb


# ----------------------------------------------------------------------------------------- resume
def test_resume_redoes_only_damaged_clips(tiny_grid, tmp_path):
    root = tmp_path / "grid"
    shutil.copytree(tiny_grid, root)
    m, clips = _clips(root)
    clean = [c for c in clips if c[2] is None]
    (s1, u1, _), (s2, u2, _) = clean[0], clean[3]
    orig_wav = (root / "audio_25k" / s1 / f"{u1}.wav").read_bytes()
    orig_mpg = (root / s2 / f"{u2}.mpg").read_bytes()
    (root / "audio_25k" / s1 / f"{u1}.wav").unlink()
    with open(root / s2 / f"{u2}.mpg", "r+b") as fh:
        fh.truncate(len(orig_mpg) // 2)
    assert not clip_complete(root, s1, u1) and not clip_complete(root, s2, u2)
    cfg = m["config"]
    rep = generate_corpus(root, speakers=cfg["speakers"], utterances=cfg["utterances"], seed=cfg["seed"],
                          corrupt_fraction=cfg["corrupt_fraction"], workers=1, progress=False)
    assert sorted(rep.generated) == sorted([(s1, u1), (s2, u2)])
    assert len(rep.skipped) == 6
    assert (root / "audio_25k" / s1 / f"{u1}.wav").read_bytes() == orig_wav
    assert (root / s2 / f"{u2}.mpg").read_bytes() == orig_mpg
    # nothing to do the second time
    rep = generate_corpus(root, speakers=cfg["speakers"], utterances=cfg["utterances"], seed=cfg["seed"],
                          corrupt_fraction=cfg["corrupt_fraction"], workers=1, progress=False)
    assert rep.generated == [] and len(rep.skipped) == 8
    # other settings into the same folder are refused
    with pytest.raises(ParameterError, match="another --out"):
        generate_corpus(root, speakers=cfg["speakers"], utterances=cfg["utterances"], seed=cfg["seed"] + 1, progress=False)


def test_interrupted_write_leaves_no_complete_looking_file(tmp_path, monkeypatch):
    calls = {"n": 0}
    real = corpus_mod._write_video

    def boom(path, frames, corruption, rng):
        calls["n"] += 1
        if calls["n"] == 2:
            frames = frames[:3]  # start encoding, then die mid-file
            import cv2 as _cv2

            from lip2audspec.fileio import atomic_path

            with atomic_path(path) as tmp:
                wr = _cv2.VideoWriter(str(tmp), _cv2.VideoWriter_fourcc(*"PIM1"), 25, (360, 288))
                for f in frames:
                    wr.write(f)
                wr.release()
                raise KeyboardInterrupt("simulated kill")
        return real(path, frames, corruption, rng)

    monkeypatch.setattr(corpus_mod, "_write_video", boom)
    with pytest.raises(KeyboardInterrupt):
        generate_corpus(tmp_path, speakers=1, utterances=3, seed=5, workers=1, progress=False)
    ids = load_manifest(tmp_path)["speakers"]["s1"]["utterances"]
    assert clip_complete(tmp_path, "s1", ids[0]) and not clip_complete(tmp_path, "s1", ids[1])
    assert not (tmp_path / "s1" / f"{ids[1]}.mpg").exists()
    assert not list((tmp_path / "s1").glob(".*"))  # no temp file left behind
    monkeypatch.setattr(corpus_mod, "_write_video", real)
    rep = generate_corpus(tmp_path, speakers=1, utterances=3, seed=5, workers=1, progress=False)
    assert [u for _, u in rep.generated] == sorted(ids[1:])
    assert _count_frames(tmp_path / "s1" / f"{ids[1]}.mpg")[0] == 75


# ----------------------------------------------------------------------------------------- corruption
def test_corrupt_clips_are_damaged_as_listed(tmp_path):
    generate_corpus(tmp_path, speakers=1, utterances=4, seed=11, corrupt_fraction=1.0, workers=1, progress=False)
    m = load_manifest(tmp_path)
    kinds = {c["kind"]: c for c in m["corrupted"]}
    assert set(kinds) == set(corpus_mod.CORRUPTION_KINDS)
    for kind, c in kinds.items():
        path = tmp_path / c["speaker"] / f"{c['utt_id']}.mpg"
        n = _count_frames(path)[0]
        if kind == "missing_frames":
            assert n == c["frames"] < 75
        elif kind == "frozen_frames":
            assert n == 75
            fr = read_video_frames(path).astype(np.int16)
            a, b = c["frozen"]
            d = np.abs(np.diff(fr, axis=0)).mean(axis=(1, 2, 3))
            # MPEG-1 re-codes the repeated frame at GOP boundaries, so "frozen" means nearly no change
            assert np.median(d[a:b - 1]) < 0.1 * np.median(np.delete(d, np.arange(a - 1, b)))
        elif kind == "truncated":
            assert 0 <= n < 75 or n == -1
        else:
            assert n <= 0
        # audio and alignment stay intact, as in GRID
        assert wavfile.read(tmp_path / "audio_25k" / c["speaker"] / f"{c['utt_id']}.wav")[1].shape == (75000,)
    with pytest.raises(DataError):
        read_video_frames(tmp_path / kinds["unreadable"]["speaker"] / f"{kinds['unreadable']['utt_id']}.mpg")


def test_tiny_grid_has_one_listed_corrupt_clip(tiny_grid):
    m = load_manifest(tiny_grid)
    assert len(m["corrupted"]) == 1
    c = m["corrupted"][0]
    assert c["kind"] in corpus_mod.CORRUPTION_KINDS
    assert c["utt_id"] in m["speakers"][c["speaker"]]["utterances"]


def test_parameter_validation(tmp_path):
    for kwargs in ({"speakers": 0}, {"utterances": 1001}, {"corrupt_fraction": 1.5}, {"seed": -1}, {"workers": 0}):
        with pytest.raises(ParameterError):
            generate_corpus(tmp_path, progress=False, **kwargs)


# ----------------------------------------------------------------------------------------- CLI
def test_cli_smoke(tmp_path, capsys):
    main_mod = importlib.import_module("lip2audspec.cli.main")
    out = tmp_path / "g"
    sheet = tmp_path / "sheet.png"
    argv = ["synth-grid", "--out", str(out), "--speakers", "1", "--utterances", "2", "--seed", "3", "--no-progress",
            "--contact-sheet", str(sheet)]
    assert main_mod.main(argv) == 0
    assert "2 generated" in capsys.readouterr().out
    assert cv2.imread(str(sheet)).shape[0] > 100
    assert main_mod.main(argv) == 0
    assert "2 already complete" in capsys.readouterr().out
    assert main_mod.main(["synth-grid", "--out", str(out), "--speakers", "0", "--no-progress"]) == 2


# ----------------------------------------------------------------------------------------- audio-visual sync
@pytest.fixture(scope="module")
def sync_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("sync") / "grid"
    generate_corpus(out, speakers=4, utterances=5, seed=2018, workers=2, progress=False)
    return out


def test_av_sync_from_decoded_pixels(sync_corpus):
    """Dark mouth-cavity area in a fixed box of the decoded frames vs the speech RMS envelope."""
    m, clips = _clips(sync_corpus)
    report = {}
    for s in m["speakers"]:
        vids, envs, per_clip = [], [], []
        for s2, u, _ in clips:
            if s2 != s:
                continue
            mp = read_mouth_params(sync_corpus / "mouth_params" / s / f"{u}.csv")
            # one fixed box per clip (union of the lip boxes over the clip, plus a margin)
            box = (mp["bbox_x0"].min() - 4, mp["bbox_y0"].min() - 4, mp["bbox_x1"].max() + 4, mp["bbox_y1"].max() + 4)
            frames = read_video_frames(sync_corpus / s / f"{u}.mpg")
            sr, x = wavfile.read(sync_corpus / "audio_25k" / s / f"{u}.wav")
            env = speech_envelope(x / 32768.0, sr=sr, n_frames=len(frames))
            v = mouth_opening(frames, box=box)
            per_clip.append(lagged_correlation(v, env)["best_lag"])
            vids.append((v - v.mean()) / (v.std() + 1e-9))
            envs.append((env - env.mean()) / (env.std() + 1e-9))
        r = lagged_correlation(np.concatenate(vids), np.concatenate(envs), max_lag=5)
        report[s] = (r["best_lag"], round(r["best_corr"], 3), round(r["corr_at_0"], 3), per_clip)
    print("AV sync (best lag, best corr, corr at 0, per-clip best lags):", report)
    for s, (lag, c, c0, per_clip) in report.items():
        assert -1 <= lag <= 1, report
        assert c0 > 0.3, report
        assert sum(abs(p) <= 1 for p in per_clip) >= len(per_clip) - 1, report


def test_av_sync_detects_a_shift(sync_corpus):
    """The sync measure can fail: shifting the audio by 3 frames moves the best lag."""
    m, clips = _clips(sync_corpus)
    s, u, _ = clips[0]
    mp = read_mouth_params(sync_corpus / "mouth_params" / s / f"{u}.csv")
    box = (mp["bbox_x0"].min() - 4, mp["bbox_y0"].min() - 4, mp["bbox_x1"].max() + 4, mp["bbox_y1"].max() + 4)
    v = mouth_opening(read_video_frames(sync_corpus / s / f"{u}.mpg"), box=box)
    sr, x = wavfile.read(sync_corpus / "audio_25k" / s / f"{u}.wav")
    env = speech_envelope(np.roll(x / 32768.0, 3000), sr=sr, n_frames=75)
    assert lagged_correlation(v, env)["best_lag"] <= -2
    assert clip_sync(sync_corpus / s / f"{u}.mpg", sync_corpus / "audio_25k" / s / f"{u}.wav", box=box)["best_lag"] in (-1, 0, 1)


def test_haar_cascade_finds_every_face(sync_corpus, tiny_grid):
    casc = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    assert not casc.empty()
    for root in (sync_corpus, tiny_grid):
        m, clips = _clips(root)
        for s in m["speakers"]:
            s_, u, _ = next(c for c in clips if c[0] == s and c[2] is None)
            frame = read_video_frames(root / s / f"{u}.mpg")[0]
            faces = casc.detectMultiScale(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), 1.1, 3, minSize=(60, 60))
            assert len(faces) >= 1, (root.name, s, u)
            x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
            assert 100 <= w <= 220 and 120 <= x + w / 2 <= 240 and 80 <= y + h / 2 <= 210

"""Synthetic corpus 2.0 (issue 14): closures, teeth and tongue, coarticulation, phoneme table, word starts and
labels against espeak-ng's own timing, pixel checks on decoded video, the visual ceiling, old corpora."""

from __future__ import annotations

import importlib
import json
import logging
import shutil

import numpy as np
import pytest

from lip2audspec.corpora import grid
from lip2audspec.corpora.synthetic import (GENERATOR_VERSION, CorpusConfig, clip_timing, generate_corpus, load_manifest,
                                        mouth_interior, read_mouth_params, visual_ceiling, word_starts)
from lip2audspec.corpora.synthetic.checks import TEETH_MIN_ROWS, corpus_visual_checks
from lip2audspec.corpora.synthetic.corpus import WORD_ONSETS, SpeakerSpec
from lip2audspec.corpora.synthetic.face import FaceParams, FaceRenderer
from lip2audspec.corpora.synthetic.visemes import (PHONEME_VISEMES, VISEME_TARGETS, closure_intervals, phoneme_viseme,
                                                   segments, viseme_track)
from lip2audspec.errors import ParameterError

# every mnemonic espeak-ng produced for the GRID vocabulary with the 12 voices (26 sentences each, 2026-12)
ESPEAK_GRID_PHONEMES = ("0 @ A@ D E I O@ T V _: a a# aI aI2 aU b d dZ eI f g i: i@ j k l m n o@ oU p r r- s t t# "
                        "tS t[ u: v w w# z ;").split()


# ----------------------------------------------------------------------------------------- phoneme table
def test_every_espeak_grid_phoneme_is_mapped_explicitly(caplog):
    with caplog.at_level(logging.WARNING, logger="lip2audspec.corpora.synthetic.visemes"):
        classes = {p: phoneme_viseme(p) for p in ESPEAK_GRID_PHONEMES}
    assert all(p in PHONEME_VISEMES for p in ESPEAK_GRID_PHONEMES)
    assert "?" not in classes.values() and not caplog.records
    assert set(PHONEME_VISEMES.values()) <= set(VISEME_TARGETS)
    assert classes[";"] == "IY" and classes["t["] == "TDNL" and classes["w#"] == "WU" and classes["O@"] == "OW"


def test_unknown_phoneme_is_warned_by_name_and_holds_the_mouth(caplog):
    with caplog.at_level(logging.WARNING, logger="lip2audspec.corpora.synthetic.visemes"):
        assert phoneme_viseme("Qx!") == "?"
    assert any("'Qx!'" in r.getMessage() for r in caplog.records)
    assert phoneme_viseme("'t#") == "TDNL" and phoneme_viseme("l/") == "TDNL"  # variants map by their base
    # an unknown phoneme between two open vowels keeps the mouth open (no invented shape)
    ph = [(0.0, 0.2, "A:"), (0.2, 0.25, "Qx!"), (0.25, 0.45, "A:"), (0.45, 0.6, "_:")]
    tr = viseme_track(ph, n_frames=40, offset=0.3)
    assert tr[10:16, 0].min() > 0.9


# ----------------------------------------------------------------------------------------- closures
def test_closure_intervals_from_silence_and_voice_bar():
    sr = 10000
    t = np.arange(int(0.6 * sr)) / sr
    loud = 0.5 * np.sin(2 * np.pi * 150 * t)
    # "n b a": 30 ms of silence at the end of n, then the release
    x = loud.copy()
    x[int(0.17 * sr): int(0.2 * sr)] = 0.0
    ph = [(0.0, 0.2, "n"), (0.2, 0.22, "b"), (0.22, 0.5, "a")]
    (c0, r, q, i), = closure_intervals(ph, audio=x, sr=sr)
    assert (q, i, r) == ("b", 1, 0.2) and c0 == pytest.approx(0.13, abs=0.002)  # 30 ms acoustic -> 70 ms minimum
    x[int(0.1 * sr): int(0.2 * sr)] = 0.0  # a 100 ms silence is drawn for its real duration
    assert closure_intervals(ph, audio=x, sr=sr)[0][0] == pytest.approx(0.1, abs=0.003)
    # "a b a" after a vowel: the b event is a quiet voice bar -> it is the closure, released at its end
    y = loud.copy()
    y[int(0.2 * sr): int(0.26 * sr)] *= 0.1
    ph = [(0.0, 0.2, "'a"), (0.2, 0.26, "b"), (0.26, 0.5, "a")]
    (c0, r, q, _), = closure_intervals(ph, audio=y, sr=sr)
    assert r == 0.26 and c0 == pytest.approx(0.19, abs=0.002)  # at most 40 % of the vowel is taken
    # nasal m: its own event; bad sample rate
    assert closure_intervals([(0.0, 0.1, "a"), (0.1, 0.2, "m")]) == [(0.1, 0.2, "m", 1)]
    with pytest.raises(ParameterError):
        closure_intervals(ph, audio=y, sr=0)


def test_segments_carve_the_closure_and_release_follows():
    ph = [(0.0, 0.2, "n"), (0.2, 0.23, "b"), (0.23, 0.4, "'u:")]
    segs = segments(ph)
    kinds = [(s.phoneme, s.kind, round(s.start, 3), round(s.end, 3)) for s in segs]
    assert kinds == [("n", "phoneme", 0.0, 0.13), ("b", "closure", 0.13, 0.2), ("b", "phoneme", 0.2, 0.23),
                     ("u:", "phoneme", 0.23, 0.4)]
    tr = viseme_track(ph, n_frames=25, offset=0.3, anticipation=0.04)
    # lips meet during the closure (0.43-0.5 s clip time), the release is rounded like the following u:
    assert tr[11, 0] == 0.0 and tr[12, 0] < 0.05
    assert tr[13, 2] > 0.5


# ----------------------------------------------------------------------------------------- coarticulation
def _cons_params(ph_list, k):
    tr = viseme_track(ph_list, n_frames=40, offset=0.2, anticipation=0.0, tau=0.005)
    a, b, _ = ph_list[k]
    return tr[int((0.5 * (a + b) + 0.2) * 25)]


def test_coarticulation_rounding_spreads_and_velar_jaw_follows_the_vowel():
    t_u = _cons_params([(0.0, 0.1, "_:"), (0.1, 0.26, "t"), (0.26, 0.5, "u:")], 1)
    t_i = _cons_params([(0.0, 0.1, "_:"), (0.1, 0.26, "t"), (0.26, 0.5, "i:")], 1)
    assert t_u[2] > t_i[2] + 0.3  # rounding of "two" before the vowel
    k_a = _cons_params([(0.0, 0.2, "A:"), (0.2, 0.36, "k"), (0.36, 0.6, "A:")], 1)
    k_i = _cons_params([(0.0, 0.2, "i:"), (0.2, 0.36, "k"), (0.36, 0.6, "i:")], 1)
    assert k_a[0] > k_i[0] + 0.3  # jaw of k follows the vowel
    s_a = _cons_params([(0.0, 0.2, "A:"), (0.2, 0.36, "s"), (0.36, 0.6, "A:")], 1)
    assert abs(s_a[3] - 1.0) < 0.05  # teeth of s resist the context


def test_teeth_and_tongue_show_at_small_openings():
    r = FaceRenderer(FaceParams())
    fv = r.mouth_shape(VISEME_TARGETS["FV"])
    sz = r.mouth_shape(VISEME_TARGETS["SZ"])
    th = r.mouth_shape(VISEME_TARGETS["TH"])
    tdnl = r.mouth_shape(np.array(VISEME_TARGETS["TDNL"]) * [1.4, 1, 1, 1, 1])  # jaw a little more open
    closed = r.mouth_shape(VISEME_TARGETS["PBM"])
    assert fv["open"] < 5 and fv["teeth_px"] >= 3 and fv["lower_teeth_px"] == 0  # upper teeth on the lower lip
    assert sz["teeth_px"] >= 1.5 and sz["lower_teeth_px"] >= 1 and sz["open"] - sz["teeth_px"] - sz["lower_teeth_px"] >= 0.7
    assert th["tip_front"] and th["tip_px"] >= 2
    assert not tdnl["tip_front"] and tdnl["tip_px"] >= 1
    assert closed["inner"] is None and closed["open"] == 0


# ----------------------------------------------------------------------------------------- against espeak's timing
@pytest.fixture(scope="module")
def art_corpus(tmp_path_factory):
    """3 speakers x 4 clips (seed 14), clean."""
    out = tmp_path_factory.mktemp("art") / "grid"
    generate_corpus(out, speakers=3, utterances=4, seed=14, jpeg_fraction=0.5, workers=2, progress=False)
    return out


def _clips(root):
    m = load_manifest(root)
    for s, d in m["speakers"].items():
        spec = SpeakerSpec.from_dict({k: d[k] for k in ("name", "sex", "voice", "face")})
        for k, u in enumerate(d["utterances"]):
            yield m, s, spec, k, u


def test_align_word_starts_match_espeak_phonemes(art_corpus):
    """Each word of the .align starts at espeak's first phoneme of the word (10 ms grid); a consonant-initial
    word may start earlier, at espeak's word event (inside a stop's closure)."""
    checked = vowel_words = 0
    for m, s, spec, k, u in _clips(art_corpus):
        utt, offset = clip_timing(spec, u, index=k, seed=m["config"]["seed"])
        rows = [r for r in grid.read_align(art_corpus / "alignments" / s / f"{u}.align") if r[2] != "sil"]
        assert len(rows) == 6 and len(utt.words) == 6
        for (a, b, word), (_, _, say) in zip(rows, utt.words):
            t = a / 25000
            nxt = [(p0 + offset, p.lstrip("',%=")) for p0, _, p in utt.phonemes if p0 + offset >= t - 0.0055 and p0 + offset < b / 25000]
            assert nxt, (s, u, word)
            t_first, first = nxt[0]
            assert first.startswith(tuple(WORD_ONSETS[say.lower()])), (s, u, word, nxt[:2])
            vowel = phoneme_viseme(first) in ("AA", "AE", "IY", "OW", "AH", "ER") or first in ("u:", "U")
            # a vowel-initial word starts at its vowel (10 ms rounding); espeak's event of a consonant-initial
            # word may come a little before the consonant (in a stop's closure)
            assert t_first - t <= (0.0055 if vowel else 0.15), (s, u, word, t, t_first)
            vowel_words += vowel
            checked += 1
    assert checked == 72 and vowel_words >= 6


def test_word_starts_moves_vowel_initial_words_off_the_previous_consonant():
    from lip2audspec.corpora.synthetic.speech import Voice, synthesize

    u = synthesize("lay green in M nine now", voice=Voice(name="en-us+m3", rate=170))
    starts = word_starts(u.words, u.phonemes)
    ph_at = {round(a, 4): p.lstrip("',") for a, _, p in u.phonemes}
    # espeak puts "in" on the n of green; the .align start is its I
    assert u.words[2][0] < starts[2] and ph_at[round(starts[2], 4)] == "I"
    assert ph_at[round(starts[3], 4)] == "E"  # "M" is E-m, not the n of "in"
    assert starts[0] == u.words[0][0] and starts[1] == u.words[1][0]


def test_mouth_params_labels_name_the_drawn_target(art_corpus):
    """Frames whose decoded lips are closed during speech are labelled b/p/m (or the release just after it),
    more often than the acoustic phoneme at the frame centre (the 1.0 labels, which lag the mouth) would be."""
    from lip2audspec.corpora.synthetic import read_video_frames

    total = ours = acoustic = 0
    for m, s, spec, k, u in _clips(art_corpus):
        mp = read_mouth_params(art_corpus / "mouth_params" / s / f"{u}.csv")
        frames = read_video_frames(art_corpus / s / f"{u}.mpg")
        boxes = np.stack([mp["bbox_x0"], mp["bbox_y0"], mp["bbox_x1"], mp["bbox_y1"]], axis=1)
        closed = mouth_interior(frames, boxes=boxes)["closed"]
        utt, offset = clip_timing(spec, u, index=k, seed=m["config"]["seed"])
        vis = mp["viseme"]
        speech = [j for j, v in enumerate(vis) if v != "sil"]
        for j in range(speech[0] + 1, speech[-1] + 1):
            if not closed[j] or vis[j] == "WU":  # small rounded openings can read as closed
                continue
            total += 1
            ours += vis[j] in ("PBM", "sil") or vis[j - 1] == "PBM"
            t = (j + 0.5) / 25 - offset
            ac = [phoneme_viseme(p) for a, b, p in utt.phonemes if a <= t < b]
            ac_prev = [phoneme_viseme(p) for a, b, p in utt.phonemes if a <= t - 0.04 < b]
            acoustic += (ac[:1] in (["PBM"], ["sil"], [])) or ac_prev[:1] == ["PBM"]
    assert total >= 8 and ours / total >= 0.9 and ours > acoustic, (ours, acoustic, total)


# ----------------------------------------------------------------------------------------- decoded pixels
def test_decoded_pixels_show_closures_and_teeth(art_corpus):
    """Every b/p/m not after a pause has a closed-lips frame inside its closure; no open vowel is closed in its
    middle; f/v frames show the teeth band."""
    r = corpus_visual_checks(art_corpus)
    print({k: v for k, v in r.items() if k != "failures"}, r["failures"])
    assert r["closures"] >= 5 and r["closures_shown"] == r["closures"], r["failures"]
    assert r["open_vowels"] >= 20 and r["open_vowels_closed"] == 0, r["failures"]
    assert r["fv"] >= 3 and r["fv_teeth"] >= 0.75 * r["fv"], r["failures"]


def test_mouth_interior_measure_can_fail():
    f = np.full((3, 40, 60, 3), 130, np.uint8)
    f[1, 19:21, 20:40] = 20  # a 2 px dark gap
    f[2, 17:21, 20:40] = 230  # a teeth band
    r = mouth_interior(f, boxes=[(10, 10, 50, 30)] * 3)
    assert r["closed"].tolist() == [True, False, False]
    assert r["teeth_rows"][2] >= TEETH_MIN_ROWS and r["teeth_rows"][0] == 0
    with pytest.raises(ParameterError):
        mouth_interior(f, boxes=[(10, 10, 50, 30)])


# ----------------------------------------------------------------------------------------- visual ceiling
def test_visual_ceiling_groups_identical_words():
    cfg = CorpusConfig(speakers=1, utterances=1, seed=0)
    c = visual_ceiling(cfg, carriers=1, positions=("colour", "adverb"))
    assert set(c["per_position"]) == {"colour", "adverb"}
    assert c["per_position"]["colour"] == 1.0 and c["per_position"]["adverb"] == 1.0
    assert c["overall"] == 1.0 and c["min_distinct_px"] >= 2.0
    assert sorted(w for g in c["groups"]["colour"] for w in g) == sorted(grid.COLOURS)
    # a tolerance larger than every difference puts all words of a position in one group: 1 / 4
    c = visual_ceiling(cfg, carriers=1, positions=("colour",), tolerance_px=1e3)
    assert c["per_position"]["colour"] == pytest.approx(0.25) and c["groups"]["colour"] == [sorted(grid.COLOURS)]
    with pytest.raises(ParameterError):
        visual_ceiling(cfg, positions=("verb",))


def test_cli_ceiling_writes_manifest(tmp_path, capsys):
    main_mod = importlib.import_module("lip2audspec.cli.main")
    out = tmp_path / "g"
    assert main_mod.main(["synth-grid", "--out", str(out), "--speakers", "1", "--utterances", "1", "--seed", "4",
                          "--no-progress", "--ceiling", "--ceiling-carriers", "1"]) == 0
    text = capsys.readouterr().out
    for name in ("command", "colour", "preposition", "letter", "digit", "adverb"):
        assert f"{name}: " in text and " %" in text
    m = load_manifest(out)
    assert m["version"] == GENERATOR_VERSION and set(m["visual_ceiling"]["per_position"]) >= {"letter", "digit"}
    assert 0.7 <= m["visual_ceiling"]["overall"] <= 1.0
    # resuming keeps the ceiling in the manifest
    assert main_mod.main(["synth-grid", "--out", str(out), "--speakers", "1", "--utterances", "1", "--seed", "4",
                          "--no-progress"]) == 0
    assert "visual_ceiling" in load_manifest(out)


# ----------------------------------------------------------------------------------------- old corpora
def test_version_1_corpus_still_loads_and_prepares(tiny_grid, tmp_path, caplog):
    from lip2audspec.data.crop import CropConfig
    from lip2audspec.data.prepare import PrepareConfig, prepare_grid

    root = tmp_path / "grid"
    shutil.copytree(tiny_grid, root)
    m = json.loads((root / "manifest.json").read_text())
    assert m["version"] == GENERATOR_VERSION != "1.0"
    m["version"] = "1.0"  # same layout and formats as a 1.0 corpus
    m["speakers"] = {"s1": m["speakers"]["s1"]}
    m["corrupted"] = [c for c in m["corrupted"] if c["speaker"] == "s1"]
    (root / "manifest.json").write_text(json.dumps(m))
    for sub in ("s2", "audio_25k/s2", "audio_16k/s2", "alignments/s2", "mouth_params/s2"):
        shutil.rmtree(root / sub)
    with caplog.at_level(logging.WARNING):
        assert load_manifest(root)["version"] == "1.0"
    assert not caplog.records  # a known version: no warning
    summary = prepare_grid(root, tmp_path / "prep", config=PrepareConfig(crop=CropConfig(method="haar", size=48),
                                                                          fractions=(0.5, 0.25, 0.25)), progress=False)
    assert (tmp_path / "prep" / "dataset.h5").is_file() and summary
    with pytest.raises(ParameterError, match="version 1.0"):  # not regenerated with 2.0 in place
        generate_corpus(root, speakers=1, utterances=4, seed=7, corrupt_fraction=0.125, progress=False)

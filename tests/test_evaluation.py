"""Evaluation: intelligibility metrics, GRID recogniser, report writer and headless-browser screenshot."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest

from lip2audspec.auditory import read_wav
from lip2audspec.corpora.grid import GridLayout, sentence_from_id
from lip2audspec.errors import ParameterError


def _clean_clips(root: Path):
    """(speaker, id, wav path) of the uncorrupted 16 kHz clips of a synthetic corpus."""
    manifest = json.loads((root / "manifest.json").read_text())
    bad = {(c["speaker"], c["utt_id"]) for c in manifest["corrupted"]}
    layout = GridLayout.discover(root)
    out = []
    for spk, sd in sorted(manifest["speakers"].items()):
        for uid in sd["utterances"]:
            if (spk, uid) not in bad:
                out.append((spk, uid, root / "audio_16k" / spk / f"{uid}.wav"))
    assert out and all(p.is_file() for _, _, p in out), layout
    return out


@pytest.fixture(scope="module")
def speech(tiny_grid):
    spk, uid, path = _clean_clips(tiny_grid)[0]
    x, sr = read_wav(path)
    return x, sr


# ---------------------------------------------------------------------------------------------------------------
# Intelligibility metrics

def test_metrics_identical_noisy_and_scale(speech, rng):
    from lip2audspec.evaluation.intelligibility import estoi, intelligibility_metrics, pesq_nb, pesq_wb, stoi

    x, sr = speech
    same = intelligibility_metrics(x, x, sr=sr)
    assert same["stoi"] > 0.999 and same["estoi"] > 0.999
    assert same["pesq_nb"] > 4.4 and same["pesq_wb"] > 4.5
    noisy = x + rng.standard_normal(x.size) * np.sqrt(np.mean(x ** 2))  # 0 dB SNR
    deg = intelligibility_metrics(x, noisy, sr=sr)
    for k in same:
        assert deg[k] < same[k] - 0.1, (k, deg[k], same[k])
    # aud2wav's arbitrary gain and polarity do not matter
    scaled = -37.0 * noisy
    assert stoi(x, scaled, sr=sr) == pytest.approx(deg["stoi"], abs=1e-9)
    assert estoi(x, scaled, sr=sr) == pytest.approx(deg["estoi"], abs=1e-9)
    assert pesq_nb(x, scaled, sr=sr) == pytest.approx(deg["pesq_nb"], abs=0.02)
    assert pesq_wb(x, 1e-3 * noisy, sr=sr) == pytest.approx(deg["pesq_wb"], abs=0.02)
    # one frame more or less is trimmed/padded
    assert stoi(x, x[:-160], sr=sr) > 0.99
    assert stoi(x, np.concatenate([x, np.zeros(160)]), sr=sr) > 0.999


def test_metrics_bad_input_and_silence(speech, caplog):
    from lip2audspec.evaluation.intelligibility import pesq_wb, stoi

    x, sr = speech
    for ref, deg, kw in ((x, x, {"sr": 0}), (x, x, {"sr": 16000.0}), (np.zeros(0), x, {"sr": sr}),
                         (x[None, :], x, {"sr": sr}), (x, np.full(10, np.nan), {"sr": sr}), (np.zeros_like(x), x, {"sr": sr})):
        with pytest.raises(ParameterError):
            stoi(ref, deg, **kw)
    with pytest.raises(ParameterError, match="too short"):
        pesq_wb(x[:1000], x[:1000], sr=sr)
    with caplog.at_level(logging.WARNING, logger="lip2audspec.evaluation.intelligibility"):
        assert math.isnan(pesq_wb(x, np.zeros_like(x), sr=sr))
    assert "no utterance" in caplog.text


# ---------------------------------------------------------------------------------------------------------------
# Recogniser

def test_pronunciations_match_bundled_dictionary():
    import pocketsphinx

    from lip2audspec.corpora.grid import SLOTS
    from lip2audspec.evaluation.asr import PRONUNCIATIONS, grid_jsgf

    cmu = {}
    path = Path(pocketsphinx.get_model_path()) / "en-us" / "cmudict-en-us.dict"
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        head, _, pron = line.partition(" ")
        cmu.setdefault(head.split("(")[0], []).append(pron.strip())
    vocab = [w for slot in SLOTS for w in slot]
    assert sorted(PRONUNCIATIONS) == sorted(vocab)
    for w, prons in PRONUNCIATIONS.items():
        extra = {"a": [], "z": ["Z EH D"]}.get(w, [])
        assert all(p in cmu[w] or p in extra for p in prons), (w, prons, cmu[w])
    assert "public <sentence> = <command> <colour> <preposition> <letter> <digit> <adverb>;" in grid_jsgf()


@pytest.fixture(scope="module")
def recognizer():
    from lip2audspec.evaluation.asr import GridRecognizer

    return GridRecognizer()


def test_recognizer_accuracy_on_synthetic_originals(tiny_grid, recognizer):
    """Measured on the 7 clean clips of tiny_grid (seed 7): 88.1 % of slots; command, colour, preposition,
    adverb 100 %, digit 85.7 %, letter 42.9 % (E-set b/d/v, m/n, k/q confusions). On 100 clips of 4 voices
    (seed 3): 85.8 %, letter 63 %. Thresholds leave a margin for espeak-ng/pocketsphinx version drift."""
    from lip2audspec.evaluation.asr import word_accuracy

    refs, hyps = [], []
    for spk, uid, path in _clean_clips(tiny_grid):
        x, sr = read_wav(path)
        refs.append(sentence_from_id(uid))
        hyps.append(recognizer.recognize(x, sr=sr))
    acc = word_accuracy(refs, hyps)
    assert acc["n"] == 7 and acc["n_no_hypothesis"] == 0
    assert acc["accuracy"] >= 0.80, acc
    for slot in ("command", "colour", "preposition", "adverb"):
        assert acc["per_position"][slot] >= 0.85, acc
    assert acc["per_position"]["digit"] >= 0.7, acc


def test_recognizer_input_handling(speech, recognizer):
    from lip2audspec.auditory import resample

    x, sr = speech
    h = recognizer.recognize(x, sr=sr)
    assert h is not None and len(h) == 6
    assert recognizer.recognize(-0.01 * x, sr=sr) == h                      # gain/polarity invariant
    assert recognizer.recognize((x * 20000).astype(np.int16), sr=sr) == h   # int16 input
    h25 = recognizer.recognize(resample(x, sr_in=sr, sr_out=25000), sr=25000)
    assert h25 is not None and sum(a == b for a, b in zip(h25, h)) >= 5
    assert recognizer.recognize(np.zeros(sr), sr=sr) is None
    with pytest.raises(ParameterError):
        recognizer.recognize(x[None], sr=sr)
    with pytest.raises(ParameterError):
        recognizer.recognize(x, sr=0)


def test_word_accuracy_positions():
    from lip2audspec.evaluation.asr import SLOT_NAMES, word_accuracy

    refs = [sentence_from_id("bbaf2n"), sentence_from_id("swwaza"), sentence_from_id("lrbn1s"), sentence_from_id("pgik4a")]
    hyps = [("bin", "blue", "at", "s", "two", "now"),        # letter wrong
            ("set", "white", "with", "a", "zero", "again"),  # all right
            None,                                            # no hypothesis
            ("place", "green", "in", "k", "four")]           # adverb missing
    acc = word_accuracy(refs, hyps)
    assert acc["n"] == 4 and acc["n_no_hypothesis"] == 1
    assert acc["accuracy"] == pytest.approx(16 / 24)
    assert acc["sentence_accuracy"] == pytest.approx(1 / 4)
    assert list(acc["per_position"]) == list(SLOT_NAMES)
    assert acc["per_position"] == {"command": 0.75, "colour": 0.75, "preposition": 0.75, "letter": 0.5,
                                   "digit": 0.75, "adverb": 0.5}
    assert acc["wer"] == pytest.approx(8 / 24)
    with pytest.raises(ParameterError):
        word_accuracy(refs, hyps[:2])
    with pytest.raises(ParameterError):
        word_accuracy([("bin", "blue")], [("bin", "blue")])


def test_confusion_matrices_hand_made():
    from lip2audspec.evaluation.summary import MISSING, confusion_matrices, top_confusions

    refs = [sentence_from_id("bbaf2n"), sentence_from_id("bbab2n"), sentence_from_id("lrbn1s"), sentence_from_id("pgif4a")]
    hyps = [("bin", "blue", "at", "d", "two", "now"),        # f heard as d
            None,                                            # no hypothesis: every slot missing
            ("LAY", "red", "by", "m", "one"),                # n heard as m (case-insensitive); adverb missing
            ("place", "green", "in", "d", "nine", "again")]  # f heard as d again; four heard as nine
    cm = confusion_matrices(refs, hyps)
    assert list(cm) == ["command", "colour", "preposition", "letter", "digit", "adverb"]
    letter = cm["letter"]
    assert letter["labels"] == list("abcdefghijklmnopqrstuvxyz") and letter["columns"] == letter["labels"] + [MISSING]
    counts = np.asarray(letter["counts"])
    assert counts.shape == (25, 26) and counts.sum() == 4
    row, col = letter["labels"].index, letter["columns"].index
    assert counts[row("f"), col("d")] == 2 and counts[row("n"), col("m")] == 1 and counts[row("b"), col(MISSING)] == 1
    assert top_confusions(letter) == [("f", "d", 2), ("b", MISSING, 1), ("n", "m", 1)]
    assert top_confusions(letter, k=1) == [("f", "d", 2)]
    assert np.trace(np.asarray(cm["command"]["counts"])[:, :4]) == 3  # bin, lay, place right; one missing
    assert np.asarray(cm["adverb"]["counts"])[:, -1].sum() == 2       # no hypothesis + cut-off partial path
    assert top_confusions(cm["colour"]) == [("blue", MISSING, 1)]
    # a word outside the slot's vocabulary counts as missing/other
    other = confusion_matrices([refs[0]], [("bin", "blue", "at", "two", "two", "now")])
    assert np.asarray(other["letter"]["counts"])[row("f"), col(MISSING)] == 1
    with pytest.raises(ParameterError):
        confusion_matrices(refs, hyps[:2])
    with pytest.raises(ParameterError):
        top_confusions(letter, k=-1)


def test_bootstrap_ci_and_grammar_chance(rng):
    from lip2audspec.evaluation.summary import bootstrap_ci, grammar_chance

    x = rng.normal(0.6, 0.1, 40)
    a, b = bootstrap_ci(x, seed=5), bootstrap_ci(x, seed=5)
    assert a == b and a["seed"] == 5 and a["resamples"] == 2000 and a["level"] == 0.95 and a["n"] == 40
    assert a["low"] < a["mean"] < a["high"] and a["mean"] == pytest.approx(x.mean())
    assert bootstrap_ci(x, seed=6)["low"] != a["low"]
    wide = a["high"] - a["low"]
    big = bootstrap_ci(rng.normal(0.6, 0.1, 640), seed=5)
    assert big["high"] - big["low"] < 0.5 * wide  # ~1/4 the width with 16x the data
    assert bootstrap_ci(x, seed=5, level=0.5)["high"] - bootstrap_ci(x, seed=5, level=0.5)["low"] < wide
    assert bootstrap_ci([0.3, np.nan], seed=0)["low"] == bootstrap_ci([0.3], seed=0)["high"] == 0.3  # NaN left out
    assert bootstrap_ci([], seed=0)["mean"] is None
    for kw in ({"n": 0}, {"seed": -1}, {"level": 1.0}, {"level": 0}):
        with pytest.raises(ParameterError):
            bootstrap_ci(x, **kw)
    chance = grammar_chance()
    assert abs(chance["accuracy"] - 0.19) < 1e-9
    assert chance["per_position"]["letter"] == pytest.approx(1 / 25) and chance["per_position"]["digit"] == pytest.approx(0.1)


# ---------------------------------------------------------------------------------------------------------------
# Report + browser

def _fake_results(tiny_grid, rng):
    from lip2audspec.auditory import wav2aud
    from lip2audspec.evaluation.summary import ClipResult, score_condition

    results = []
    for k, (spk, uid, path) in enumerate(_clean_clips(tiny_grid)[:4]):
        x, sr = read_wav(path)
        if k < 2:  # full media for two clips; the others only numbers
            spec = wav2aud(x)
            recon_spec = np.maximum(spec + 0.3 * spec.std() * rng.standard_normal(spec.shape), 0)
            recon = x + 0.5 * np.sqrt(np.mean(x ** 2)) * rng.standard_normal(x.size)
            metrics = {"oracle": score_condition(x, 0.5 * x, sr=sr, ref_spec=spec, deg_spec=spec),
                       "recon": score_condition(x, recon, sr=sr, ref_spec=spec, deg_spec=recon_spec)}
            audio = {"original": path, "oracle": (0.5 * x, sr), "recon": (recon, sr)}
            spectrograms = {"true": spec, "oracle": spec, "recon": recon_spec}
        else:
            metrics = {"recon": {"corr2d": 0.5, "stoi": 0.6, "estoi": 0.4, "pesq_nb": float("nan"), "pesq_wb": 1.1}}
            audio, spectrograms = {}, {}
        ref = sentence_from_id(uid)
        words = {"original": ref, "oracle": ref, "recon": ref[:3] + ("z", "zero", "soon") if k % 2 else None}
        results.append(ClipResult(spk, uid, metrics=metrics, words=words, audio=audio, spectrograms=spectrograms))
    return results


@pytest.fixture(scope="module")
def report_dir(tiny_grid, tmp_path_factory):
    from lip2audspec.evaluation.report import write_report

    out = tmp_path_factory.mktemp("report")
    results = _fake_results(tiny_grid, np.random.default_rng(3))
    write_report(out, results, title="Test <report>", clips=2, meta={"run": "unit test", "split": "test"})
    return out, results


def test_report_files(report_dir):
    from lip2audspec.evaluation.summary import aggregate

    out, results = report_dir
    doc = json.loads((out / "report.json").read_text())
    assert doc["title"] == "Test <report>" and doc["meta"]["split"] == "test"
    assert set(doc["speakers"]) == {r.speaker for r in results}
    assert doc["overall"]["n_clips"] == len(results)
    recon = doc["overall"]["conditions"]["recon"]
    assert recon["metrics"]["pesq_nb"]["n_nan"] == 2  # NaN ignored in means and counted ...
    assert all(c["metrics"].get("recon", {}).get("pesq_nb", 0) is None or isinstance(c["metrics"]["recon"]["pesq_nb"], float)
               for c in doc["clips"])  # ... and written as null, so the file is strict JSON
    json.loads((out / "report.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert set(recon["words"]["per_position"]) == {"command", "colour", "preposition", "letter", "digit", "adverb"}
    assert doc["overall"]["conditions"]["original"]["words"]["accuracy"] == 1.0
    agg = aggregate(results)
    stoi_vals = [r.metrics["recon"]["stoi"] for r in results]
    assert agg["overall"]["conditions"]["recon"]["metrics"]["stoi"]["mean"] == pytest.approx(np.mean(stoi_vals))
    # media for the selected clips
    with_media = [c for c in doc["clips"] if "media" in c]
    assert with_media
    for c in with_media:
        for rel in list(c["media"]["spectrograms"].values()) + list(c["media"]["audio"].values()):
            assert (out / rel).is_file() and (out / rel).stat().st_size > 1000, rel
    md = (out / "report.md").read_text()
    assert "| group | condition |" in md and "Word accuracy per position" in md and "PESQ-NB" in md
    # bootstrap intervals, grammar chance, confusions
    assert doc["bootstrap"]["resamples"] == 2000 and doc["bootstrap"]["seed"] == 0
    lo, hi = recon["metrics"]["stoi"]["ci"]
    assert lo <= recon["metrics"]["stoi"]["mean"] <= hi
    wa = recon["words"]
    assert wa["ci"][0] <= wa["accuracy"] <= wa["ci"][1]
    assert abs(doc["chance"]["accuracy"] - 0.19) < 1e-9
    assert f"{100 * wa['accuracy']:.1f} % [{100 * wa['ci'][0]:.1f}, {100 * wa['ci'][1]:.1f}]" in md
    assert "Grammar chance (uniform guessing within the GRID grammar): 19.0 %" in md and "| chance | uniform guess |" in md
    letters = recon["confusion"]["letter"]
    assert np.asarray(letters["counts"]).sum() == len(results) and "(none)" in letters["columns"]
    assert "| recon | letter |" in md and " -> (none): " in md and " -> z: " in md
    for cond in ("original", "oracle", "recon"):
        for slot in ("letter", "digit"):
            png = out / "confusion" / f"{cond}_{slot}.png"
            assert doc["confusion_figures"][cond][slot] == f"confusion/{cond}_{slot}.png" and png.stat().st_size > 1000


def test_report_html(report_dir):
    out, _ = report_dir
    html = (out / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<table class='metrics'>" in html and "<table class='positions'>" in html
    assert html.count("<audio controls") >= 3 and "<img src='clips/" in html
    assert "Test &lt;report&gt;" in html                    # escaped
    assert "http://" not in html and "https://" not in html  # no external resources
    assert "letter" in html and "PESQ-WB" in html
    assert "Where the words go wrong" in html and "<img src='confusion/recon_letter.png'" in html
    assert "<img src='confusion/original_digit.png'" in html and ">uniform guess<" in html


def test_report_rejects_bad_results(tmp_path):
    from lip2audspec.evaluation.report import write_report
    from lip2audspec.evaluation.summary import ClipResult

    with pytest.raises(ParameterError):
        ClipResult("s1", "bbaf2n", metrics={"reconstruction": {}})
    with pytest.raises(ParameterError):
        ClipResult("s1", "not-an-id")
    r = ClipResult("s1", "bbaf2n", metrics={"recon": {"stoi": 0.5}})
    with pytest.raises(ParameterError, match="duplicate"):
        write_report(tmp_path, [r, r])
    with pytest.raises(ParameterError):
        write_report(tmp_path, [])


def test_report_screenshot(report_dir, tmp_path):
    from lip2audspec.evaluation.browser import find_chromium, screenshot

    if find_chromium() is None:
        pytest.skip("Chromium not installed (apt-get update && apt-get install -y chromium)")
    from PIL import Image

    out, _ = report_dir
    png = screenshot(out / "index.html", tmp_path / "shot.png", width=1280, height=1600)
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (1600, 1280, 3)
    # the dark header band and rendered spectrogram images: not a blank page
    assert img[:40].mean() < 100 and img.std() > 30
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 500

"""Families side by side: lip2audspec.evaluation.compare and ``lip2audspec compare``."""

import json

import numpy as np
import pytest

from lip2audspec.cli.main import main as cli_main
from lip2audspec.errors import DataError, ParameterError
from lip2audspec.evaluation import ClipResult, write_report
from lip2audspec.evaluation.compare import load_report, paired_metric_differences, paired_word_difference, write_comparison

IDS = ["bbaf2n", "bbal6n", "bbaz4n", "bbbf7p", "bgaa2n", "lrae3s"]


def _sentence(uid):
    from lip2audspec.corpora.grid import sentence_from_id

    return list(sentence_from_id(uid))


def _report(tmp_path, name, n_wrong, *, data="d.h5", ids=IDS, media=2):
    """A report whose recon gets the first ``n_wrong[i]`` slots of clip i wrong."""
    rng = np.random.default_rng(len(name))
    results = []
    for uid, k in zip(ids, n_wrong):
        ref = _sentence(uid)
        hyp = ["bin" if w != "bin" else "lay" for w in ref[:k]] + ref[k:]
        spec = rng.random((30, 128))
        results.append(ClipResult("s1", uid, metrics={"recon": {"stoi": 0.5 - 0.05 * k, "corr2d": 0.8}},
                                  words={"recon": tuple(hyp), "original": tuple(ref)},
                                  audio={"recon": (rng.standard_normal(1600) * 0.1, 16000)},
                                  spectrograms={"true": spec, "recon": spec * 0.9}))
    write_report(tmp_path / name, results, clips=media, confusion_slots=(), meta={"data": data, "split": "seen/test",
                                                                                   "arch": name})
    return tmp_path / name


def test_paired_difference_and_documents(tmp_path):
    a = _report(tmp_path, "window", [3, 3, 3, 3, 3, 3])  # 50 % of the words
    b = _report(tmp_path, "framesync", [0, 1, 2, 3, 0, 0])  # 6 wrong of 36 -> 83.3 %
    d = paired_word_difference(load_report(b), load_report(a))
    assert d["n"] == 6 and d["difference"] == pytest.approx(30 / 36 - 0.5)
    assert d["ci"][0] <= d["difference"] <= d["ci"][1] and d["ci"][1] > d["ci"][0]
    assert d["baseline_accuracy"] == pytest.approx(0.5)
    doc = write_comparison(tmp_path / "cmp", {"window": a, "framesync": b}, clips=1)
    assert [m["label"] for m in doc["models"]] == ["window", "framesync"] and doc["warnings"] == []
    assert doc["models"][1]["words"]["accuracy"] == pytest.approx(30 / 36)
    assert doc["models"][0]["vs_baseline"]["difference"] == 0.0
    # STOI 0.5 - 0.05 k per clip: framesync's k (0, 1, 2, 3, 0, 0) against window's 3s -> +0.1 on average
    m = paired_metric_differences(load_report(b), load_report(a))
    assert m["stoi"]["n"] == 6 and m["stoi"]["difference"] == pytest.approx(0.05 * (18 - 6) / 6)
    assert m["stoi"]["ci"][0] <= m["stoi"]["difference"] <= m["stoi"]["ci"][1] and m["corr2d"]["difference"] == 0.0
    assert "estoi" not in m and doc["models"][1]["vs_baseline_metrics"]["stoi"] == m["stoi"]
    md = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "| framesync | 6 |" in md and "+33.3 points" in md and "| chance |" in md
    assert "Metrics vs window, paired" in md and "| framesync | +0.000 [+0.000, +0.000] | +0.100 [" in md
    assert json.loads((tmp_path / "cmp" / "comparison.json").read_text())["models"][1]["label"] == "framesync"
    html = (tmp_path / "cmp" / "index.html").read_text()
    ex = doc["examples"]
    assert len(ex) == 1 and ex[0]["id"] == "bbaf2n"
    for label in ("window", "framesync"):  # each model's media copied beside the page and linked from it
        rel = ex[0]["media"][label]["audio"]
        assert (tmp_path / "cmp" / rel).is_file() and rel in html
    assert "http" not in html.replace("http-equiv", "")


def test_not_like_for_like_is_flagged_and_common_clips_only(tmp_path):
    a = _report(tmp_path, "a", [0] * 6)
    b = _report(tmp_path, "b", [1] * 4, data="other.h5", ids=IDS[2:], media=0)
    doc = write_comparison(tmp_path / "cmp", {"a": a, "b": b})
    assert any(w.startswith("data differs") for w in doc["warnings"]) and any("clips" in w for w in doc["warnings"])
    assert doc["models"][1]["vs_baseline"]["n"] == 4 and doc["examples"] == []  # b has no media
    assert "Not like for like" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_bad_input(tmp_path):
    a = _report(tmp_path, "a", [0] * 6)
    with pytest.raises(ParameterError, match="non-empty"):
        write_comparison(tmp_path / "c", {})
    with pytest.raises(ParameterError, match="label"):
        write_comparison(tmp_path / "c", {"a b": a})
    with pytest.raises(ParameterError, match="condition"):
        write_comparison(tmp_path / "c", {"a": a}, condition="reconstruction")
    with pytest.raises(DataError, match="no evaluation report"):
        write_comparison(tmp_path / "c", {"a": a, "b": tmp_path / "missing"})
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "report.json").write_text("{not json")
    with pytest.raises(DataError, match="not a readable"):
        load_report(tmp_path / "bad")


def test_cli(tmp_path, capsys):
    a = _report(tmp_path, "a", [2] * 6)
    b = _report(tmp_path, "b", [0] * 6)
    assert cli_main(["compare", f"window={a}", f"framesync={b}", "-o", str(tmp_path / "out"), "--clips", "2"]) == 0
    out = capsys.readouterr().out
    assert "+33.3 points" in out and "2 example clips" in out
    assert cli_main(["compare", str(a), "-o", str(tmp_path / "out2")]) == 2
    assert "LABEL=REPORT" in capsys.readouterr().err
    assert cli_main(["compare", f"x={a}", f"x={b}", "-o", str(tmp_path / "out3")]) == 2

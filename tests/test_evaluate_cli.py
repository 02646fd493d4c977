"""`lip2audspec evaluate` end to end on the tiny runs (numbers are poor after one epoch; files and structure are checked)."""

import json

from lip2audspec.cli.main import main


def test_evaluate_writes_report(tiny_runs, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["evaluate", "-m", str(tiny_runs["lip"]), "--split", "test", "-o", str(out), "--iterations", "3",
                 "--report-clips", "1", "--seed", "2", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "word accuracy: original" in printed and "index.html" in printed and "seed: 2" in printed
    assert "grammar chance: 19.0 %" in printed and "recon letter confusions: " in printed
    assert "recon digit confusions: " in printed and " % [" in printed
    doc = json.loads((out / "report.json").read_text())
    conds = doc["overall"]["conditions"]
    assert set(conds) == {"original", "oracle", "recon"}
    signal = {"corr2d", "stoi", "estoi", "pesq_nb", "pesq_wb"}
    assert set(conds["oracle"]["metrics"]) == signal
    if doc["meta"].get("sync_expert"):  # the bundled lip-sync expert scores the original and the reconstruction
        assert set(conds["recon"]["metrics"]) == signal | {"lse_d", "lse_c"}
        assert set(conds["original"]["metrics"]) == {"lse_d", "lse_c"} and "lip sync: original LSE-D" in printed
    else:
        assert set(conds["recon"]["metrics"]) == signal
    assert conds["oracle"]["metrics"]["corr2d"]["mean"] > 0.9  # the representation's ceiling is high
    assert set(conds["original"]["words"]["per_position"]) == {"command", "colour", "preposition", "letter", "digit", "adverb"}
    assert doc["meta"]["split"] == "seen/test" and doc["meta"]["aud2wav_iterations"] == 3
    assert doc["seed"] == doc["meta"]["seed"] == 2
    html = (out / "index.html").read_text()
    assert "<audio" in html and "<table" in html
    assert list(out.glob("clips/*/recon.wav")) and list(out.glob("clips/*/true.png"))
    assert (out / "confusion" / "recon_letter.png").is_file() and "confusion/recon_digit.png" in html
    assert set(conds["recon"]["confusion"]) == {"command", "colour", "preposition", "letter", "digit", "adverb"}


def test_evaluate_bad_split(tiny_runs, tmp_path):
    assert main(["evaluate", "-m", str(tiny_runs["lip"]), "--split", "unseen", "-o", str(tmp_path / "r"), "--quiet"]) == 2

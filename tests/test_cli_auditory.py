import json

import numpy as np
import pytest

from lip2audspec.auditory import read_wav, wav2aud, write_wav
from lip2audspec.cli.main import main


def test_audspec_and_invert(tmp_path, rng):
    sr = 16000
    t = np.arange(int(0.5 * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * 500 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    write_wav(tmp_path / "in.wav", x, sr=sr)
    assert main(["audspec", str(tmp_path / "in.wav"), "-o", str(tmp_path / "s.npy"), "--plot", str(tmp_path / "s.png")]) == 0
    spec = np.load(tmp_path / "s.npy")
    assert spec.shape == (50, 128)
    np.testing.assert_allclose(spec, wav2aud(read_wav(tmp_path / "in.wav")[0]), rtol=1e-12)
    assert (tmp_path / "s.png").stat().st_size > 5000
    assert main(["invert", str(tmp_path / "s.npy"), "-o", str(tmp_path / "out.wav"), "--iterations", "3", "--quiet"]) == 0
    y, ysr = read_wav(tmp_path / "out.wav")
    assert ysr == sr and y.shape == (8000,)


def test_cli_errors_are_reported_not_raised(tmp_path, capsys):
    np.save(tmp_path / "neg.npy", -np.ones((5, 128)))
    assert main(["invert", str(tmp_path / "neg.npy"), "-o", str(tmp_path / "o.wav"), "--iterations", "2", "--quiet"]) == 2
    assert "negative" in capsys.readouterr().err
    assert main(["audspec", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "o.npy")]) == 2
    assert "no such audio file" in capsys.readouterr().err
    assert main(["audspec", str(tmp_path / "missing.wav"), "-o", str(tmp_path / "o.npy"), "--shift", "3"]) == 2


def test_demo_round_trip(tmp_path):
    assert main(["demo", "--auditory", "--out", str(tmp_path / "demo"), "--iterations", "8", "--quiet"]) == 0
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    for name in ("original.wav", "reconstructed.wav", "round_trip.png", "spectrogram.npy"):
        assert (tmp_path / "demo" / name).is_file()
    assert summary["best_relative_error_pct"] < 15


@pytest.mark.slow
def test_lip_demo_tiny(tmp_path, capsys):
    """The main demo end to end with tiny settings; a rerun resumes every stage instead of redoing it."""
    args = ["demo", "--out", str(tmp_path / "d"), "--speakers", "2", "--utterances", "6", "--ae-epochs", "1",
            "--lip-epochs", "1", "--eval-clips", "1", "--iterations", "2", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "report:" in out and "word accuracy: original" in out
    summary = json.loads((tmp_path / "d" / "demo_summary.json").read_text())
    assert (tmp_path / "d" / "report" / "index.html").is_file() and "recon" in summary
    assert summary["arch"] == "framesync" and not (tmp_path / "d" / "runs" / "ae").exists()  # no autoencoder stage
    run_config = json.loads((tmp_path / "d" / "runs" / "lip" / "config.json").read_text())
    assert run_config["arch"] == "framesync" and run_config["model"]["tcorr_weight"] == 1.0  # the demo's loss choice
    mtime = (tmp_path / "d" / "runs" / "lip" / "model.keras").stat().st_mtime_ns
    assert main(args) == 0  # resumes: corpus, prepared data and trained runs are reused
    assert (tmp_path / "d" / "runs" / "lip" / "model.keras").stat().st_mtime_ns == mtime


def test_lip_demo_unknown_family_is_one_error_before_any_work(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--arch", "tacotron", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "tacotron" in err and "framesync" in err
    assert not (tmp_path / "d").exists()


def test_compile_command_fills_numba_cache(capsys):
    """``lip2audspec compile`` (run by make after installing) leaves the kernels in numba's on-disk cache."""
    from pathlib import Path

    assert main(["compile"]) == 0
    out = capsys.readouterr().out
    assert "kernels compiled or loaded" in out
    cache = Path(out.split("numba cache: ")[1].rstrip(")\n"))
    assert any(cache.glob("*aud2wav_forward*.nbi")) and any(cache.glob("*wav2aud_kernel*.nbi"))

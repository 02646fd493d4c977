"""Bundled pretrained models (lip2audspec.pretrained) and the out-of-distribution check (lip2audspec.data.stats).

The bundles here are made in temporary folders from the 1-epoch ``tiny_runs``; no bundle is committed.
"""

import json
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lip2audspec import DataError, ModelError, ParameterError, pretrained
from lip2audspec.auditory import read_wav
from lip2audspec.cli.main import main
from lip2audspec.data.dataset import GridDataset
from lip2audspec.data.stats import compare_crops, crop_statistics, load_crop_statistics

ROOT = Path(__file__).resolve().parents[1]
CARD = {"description": "smoke-test model: 1 epoch on a tiny synthetic corpus, useless for speech",
        "training_data": "tiny synthetic GRID corpus (2 speakers x 4 utterances)", "split": "seen/train",
        "audio_source": "wav", "seed": 0, "command": "tests/conftest.py tiny_runs",
        "test_figures": {"corr2d": None}}
MARKDOWN = "# tiny\n\nA smoke-test model: one epoch on a synthetic corpus. It does not reconstruct speech.\n"


def _bundle(tiny_runs, out_dir, name="tiny", **kw):
    return pretrained.make_bundle(name, lip_run=tiny_runs["lip"], autoencoder_run=tiny_runs["ae"], out_dir=out_dir,
                                  card=CARD, card_markdown=MARKDOWN, dataset=tiny_runs["data"], **kw)


@pytest.fixture(scope="module")
def models_root(tiny_runs, tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    _bundle(tiny_runs, root)
    return root


@pytest.fixture(scope="module")
def model(models_root):
    return pretrained.load("tiny", root=models_root)


@pytest.fixture(scope="module")
def train_clip(tiny_runs, tiny_grid):
    """(video path, crops) of the first clip of the training split."""
    with GridDataset(tiny_runs["data"]) as ds:
        i = int(ds.split("seen/train")[0])
        spk, uid, crops = ds.clip_speakers[i], ds.ids[i], ds.array("crops", i)
    return tiny_grid / spk / f"{uid}.mpg", crops


def test_bundle_layout_and_card(models_root, tiny_runs):
    folder = models_root / "tiny"
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert names == ["MODEL_CARD.md", "ae/best.keras", "ae/config.json", "card.json", "crop_stats.json",
                     "lip/best.keras", "lip/config.json"]
    assert json.loads((folder / "lip/config.json").read_text())["autoencoder_run"] == "../ae"
    doc = pretrained.info("tiny", root=models_root)
    assert doc["name"] == "tiny" and doc["description"] == CARD["description"] and doc["licence"] == pretrained.LICENCE
    assert set(doc["files"]) == {"ae/best.keras", "ae/config.json", "crop_stats.json", "lip/best.keras", "lip/config.json"}
    assert doc["config_summary"]["crop"] == {"method": "haar", "size": 48} and doc["lip2audspec_version"]
    assert pretrained.card("tiny", root=models_root) == MARKDOWN
    assert pretrained.available(root=models_root) == ["tiny"] and pretrained.path("tiny", root=models_root) == folder
    assert not list(models_root.glob(".*"))  # no temporary folder left behind
    with pytest.raises(ParameterError, match="already exists"):
        _bundle(tiny_runs, models_root)
    with pytest.raises(ParameterError, match="computes"):
        pretrained.make_bundle("x", lip_run=tiny_runs["lip"], autoencoder_run=tiny_runs["ae"], out_dir=models_root,
                               card={**CARD, "files": {}}, card_markdown=MARKDOWN)
    with pytest.raises(ParameterError, match="not a lip network run"):
        pretrained.make_bundle("x", lip_run=tiny_runs["ae"], autoencoder_run=tiny_runs["ae"], out_dir=models_root,
                               card=CARD, card_markdown=MARKDOWN)
    with pytest.raises(ParameterError, match="bundle name"):
        _bundle(tiny_runs, models_root, name="../up")


def test_bundle_of_the_last_epoch(tiny_runs, tmp_path):
    """A model retrained for a chosen number of epochs ships its last epoch."""
    last = pretrained.make_bundle("last", lip_run=tiny_runs["lip"], autoencoder_run=tiny_runs["ae"], out_dir=tmp_path,
                                  card=CARD, card_markdown=MARKDOWN, which="last")
    from lip2audspec.training import RunDir
    from lip2audspec.training.runs import load_keras_model

    shipped = load_keras_model(last / "lip/best.keras")
    for a, b in zip(shipped.get_weights(), RunDir(tiny_runs["lip"]).load_model("last").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert getattr(shipped, "optimizer", None) is None  # inference weights only
    assert (last / "lip/best.keras").stat().st_size < (tiny_runs["lip"] / "model.keras").stat().st_size / 2
    with pytest.raises(ParameterError, match="which"):
        pretrained.make_bundle("y", lip_run=tiny_runs["lip"], autoencoder_run=tiny_runs["ae"], out_dir=tmp_path,
                               card=CARD, card_markdown=MARKDOWN, which="middle")


def test_load_and_reconstruct(model, models_root, train_clip):
    assert model.name == "tiny" and model.card == MARKDOWN and model.info["files"]
    assert model.lip_run == models_root / "tiny" / "lip" and model.autoencoder_run == models_root / "tiny" / "ae"
    assert model.lipnet.input_shape[2] == 48 and model.autoencoder is model.autoencoder  # loaded once
    rec = model.reconstructor(n_iter=2, seed=3)
    assert rec.autoencoder_run == model.autoencoder_run and rec.stats is not None
    out = rec.from_video(train_clip[0])
    assert out.audio.shape == (48000,) and np.isfinite(out.audio).all() and out.seed == 3
    assert out.check is not None and out.check.ok, out.check


def test_relative_autoencoder_pointer_from_any_cwd(models_root, tmp_path, monkeypatch):
    from lip2audspec.reconstruct import Reconstructor

    monkeypatch.chdir(tmp_path)
    rec = Reconstructor(models_root / "tiny" / "lip", n_iter=1, stats=False)
    assert rec.autoencoder_run == models_root / "tiny" / "lip" / "../ae" and rec.stats is None


def test_damaged_bundle_is_refused(models_root, tmp_path):
    root = tmp_path / "models"
    shutil.copytree(models_root / "tiny", root / "tiny")
    weights = root / "tiny" / "lip" / "best.keras"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its model card: the package is damaged; reinstall"):
        pretrained.load("tiny", root=root)
    weights.unlink()
    with pytest.raises(ModelError, match="missing"):
        pretrained.load("tiny", root=root)


def test_unknown_name_lists_the_models(models_root):
    with pytest.raises(ParameterError, match=r"no bundled model named 'grid-s9'; available: tiny"):
        pretrained.load("grid-s9", root=models_root)
    with pytest.raises(ParameterError, match=r"neither a lip network run folder nor a bundled model; bundled models: tiny"):
        pretrained.reconstructor_for("grid-s9", root=models_root)


def test_cli_models(models_root, monkeypatch, capsys):
    monkeypatch.setenv(pretrained.ROOT_ENV, str(models_root))
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"tiny  {CARD['description']}" in out
    assert main(["models", "tiny"]) == 0
    assert capsys.readouterr().out == MARKDOWN
    assert main(["models", "nope"]) == 2
    assert "available: tiny" in capsys.readouterr().err


def test_cli_reconstruct_by_name(models_root, train_clip, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(pretrained.ROOT_ENV, str(models_root))
    assert main(["reconstruct", str(train_clip[0]), "-m", "tiny", "-o", str(tmp_path / "a.wav"), "--iterations", "2"]) == 0
    x, sr = read_wav(tmp_path / "a.wav")
    assert sr == 16000 and len(x) == 48000
    assert "warning" not in capsys.readouterr().out
    assert main(["reconstruct", str(train_clip[0]), "-m", "grid-s9", "-o", str(tmp_path / "b.wav")]) == 2
    assert "bundled models: tiny" in capsys.readouterr().err


def test_cli_reconstruct_warns_out_of_distribution(models_root, train_clip, tmp_path, monkeypatch, capsys, caplog):
    """Inverted intensities: the face is still found, the crops are not like the training crops."""
    from lip2audspec.data.video import read_video, write_video

    v = read_video(train_clip[0], gray=False)
    path = write_video(tmp_path / "inverted.mp4", 255 - v.frames, fps=25)
    monkeypatch.setenv(pretrained.ROOT_ENV, str(models_root))
    with caplog.at_level(logging.WARNING, logger="lip2audspec.reconstruct"):
        rc = main(["reconstruct", str(path), "-m", "tiny", "-o", str(tmp_path / "a.wav"), "--iterations", "1"])
    if rc == 2:
        pytest.skip("the Haar cascade finds no face in the inverted video: " + capsys.readouterr().err)
    assert rc == 0
    assert "does not look like the model's training data" in capsys.readouterr().out
    assert any(r.levelno == logging.WARNING and "inverted.mp4" in r.getMessage() for r in caplog.records)


def test_ood_check_on_crops(model, train_clip, rng, caplog):
    rec = model.reconstructor(n_iter=1)
    crops = train_clip[1]
    assert rec.check_crops(crops).ok
    noise = rng.integers(0, 256, crops.shape, dtype=np.uint8)
    with caplog.at_level(logging.WARNING, logger="lip2audspec.reconstruct"):
        check = rec.check_crops(noise, source="noise.mp4")
    assert not check.ok and check.scores["correlation"] < 0.5 and "motion" in check.message()
    assert any("noise.mp4: the video does not look like" in r.getMessage() for r in caplog.records)
    assert not rec.check_crops(255 - crops).ok  # inverted intensities
    # another face: a mouth crop shifted by a third of its size and mirrored top to bottom
    other = np.roll(crops[:, ::-1], crops.shape[1] // 3, axis=2)
    assert not rec.check_crops(other).ok
    out = rec.from_crops(noise, key="noise")
    assert out.check is not None and not out.check.ok and out.audio.shape == (48000,)  # still reconstructed


def test_crop_statistics_and_compare(rng):
    base = rng.integers(0, 256, (16, 16)).astype(np.float64)
    clips = [np.clip(base + rng.normal(0, 8, (20, 16, 16)), 0, 255).astype(np.uint8) for _ in range(4)]
    stats = crop_statistics(clips)
    assert stats["size"] == 16 and stats["n_clips"] == 4 and stats["n_frames"] == 80
    assert np.asarray(stats["mean_image"]).shape == (16, 16) and stats["correlation"]["min"] > 0.9
    assert crop_statistics(iter(clips), size=8)["size"] == 8
    json.dumps(stats)  # JSON-ready
    assert compare_crops(clips[0], stats).ok
    check = compare_crops(255 - clips[0], stats)
    assert not check.ok and check.scores["correlation"] < -0.9 and check.thresholds["min_correlation"] == pytest.approx(stats["correlation"]["p01"] - 0.1)
    assert compare_crops(clips[0][:, :8, :8], stats).scores["correlation"] < 0.9  # resized to the reference size
    with pytest.raises(ParameterError, match="at least 2 clips"):
        crop_statistics(clips[:1])
    with pytest.raises(ParameterError, match="different crop sizes"):
        crop_statistics([clips[0], clips[1][:, :8, :8]])
    with pytest.raises(DataError, match="not a crop statistics document"):
        load_crop_statistics({"schema": 1, "size": 16})


def test_wheel_ships_the_bundles(tiny_runs, tmp_path):
    """A wheel built from a source tree holding a bundle contains the bundle's files."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "lip2audspec", src / "lip2audspec", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    bundle = _bundle(tiny_runs, src / "lip2audspec" / "pretrained" / "models")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist")], cwd=src, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("lip2audspec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    prefix = "lip2audspec/pretrained/"
    assert prefix + "__init__.py" in names and prefix + "bundles.py" in names
    for p in bundle.rglob("*"):
        if p.is_file():
            assert prefix + p.relative_to(src / "lip2audspec" / "pretrained").as_posix() in names


def test_a_sync_expert_bundle_is_not_a_reconstructor():
    """The shipped SyncNet bundle named where a lip-to-speech model is expected: one clear error."""
    with pytest.raises(ParameterError, match=r"'sync-s1' is a lip-sync expert \(SyncNet\), not a lip-to-speech model"):
        pretrained.reconstructor_for("sync-s1")

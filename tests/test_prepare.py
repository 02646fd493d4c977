"""The GRID preparation pipeline on the synthetic corpus (tiny_grid: 2 speakers x 4 clips, 1 damaged)."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.cli.main import main
from lip2audspec.corpora.grid import GridLayout, align_to_frame, read_align
from lip2audspec.data.crop import CropConfig
from lip2audspec.data.dataset import GridDataset
from lip2audspec.data.prepare import PrepareConfig, prepare_grid
from lip2audspec.data.targets import decompress

CFG = PrepareConfig(crop=CropConfig(method="haar", size=32), unseen=("s2",))


def _arrays(path):
    with GridDataset(path) as ds:
        out = {k: ds.array(k, slice(None)) for k in ("crops", "spec", "boxes")}
        out["ids"] = ds.ids
        out["splits"] = {n: ds.split(n) for n in ("seen/train", "seen/val", "seen/test", "unseen/test")}
    return out


def _assert_same(a, b):
    for k in ("crops", "spec", "boxes", "ids"):
        np.testing.assert_array_equal(a[k], b[k])
    for n in a["splits"]:
        np.testing.assert_array_equal(a["splits"][n], b["splits"][n])


def _temp_files(folder) -> list:
    """Temporary files of :func:`lip2audspec.fileio.atomic_path` (a dot, the final name's stem, a random part)."""
    return sorted(p for p in folder.rglob(".*") if p.is_file())


@pytest.fixture(scope="module")
def prepared(tiny_grid, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared")
    summary = prepare_grid(tiny_grid, out, config=CFG, workers=1, progress=False)
    return out, summary


def test_outputs_shapes_and_exclusion(prepared, tiny_grid):
    out, summary = prepared
    corrupted = json.loads((tiny_grid / "manifest.json").read_text())["corrupted"]
    assert summary["clips"] == 7 and summary["excluded"] == 1
    ex = summary["exclusions"][0]
    assert ex["stage"] == "video" and ex["id"] in json.dumps(corrupted)
    for name in ("dataset.h5", "manifest.json", "config.json", "exclusions.json", "report.md", "crops_preview.png"):
        assert (out / name).is_file(), name
    assert ex["reason"] in (out / "report.md").read_text()
    with GridDataset(out / "dataset.h5") as ds:
        assert len(ds) == 7
        assert ds.array("crops", 0).shape == (75, 32, 32) and ds.array("crops", 0).dtype == np.uint8
        assert ds.array("spec", 0).shape == (300, 128)
        assert set(ds.clip_speakers[ds.split("unseen/test")]) == {"s2"}
        assert set(ds.clip_speakers[ds.split("seen/train")]) == {"s1"}
        x, y = ds.window(*ds.windows("seen/train")[3])
        assert x.shape == (5, 32, 32, 3) and y.shape == (20, 128)
    m = json.loads((out / "manifest.json").read_text())
    # "auto" is resolved once per run and recorded: the synthetic corpus has wav folders
    assert m["config"] == CFG.replace(audio_source="wav").to_dict() and m["counts"]["clips"] == 7 and "h5py" in m["versions"]
    assert m["audio_source"] == m["spec"]["audio_source"] == "wav" and m["counts"]["padded"] == 0


def test_targets_are_aligned_with_the_words(prepared, tiny_grid):
    """Spectrogram energy per video frame is high inside the words of the .align file, low in 'sil'."""
    out, _ = prepared
    layout = GridLayout.discover(tiny_grid)
    with GridDataset(out / "dataset.h5") as ds:
        for i in range(len(ds)):
            spec = decompress(ds.array("spec", i), power=0.3)  # undo the 0.3 power compression
            energy = spec.reshape(75, 4, 128).sum(axis=(1, 2))  # 4 target frames per video frame
            rows = read_align(layout.clip_paths(ds.clip_speakers[i], ds.ids[i]).align)
            speech = np.zeros(75, bool)
            for start, end, word in rows:
                if word not in ("sil", "sp"):
                    speech[int(np.ceil(align_to_frame(start))) : int(align_to_frame(end))] = True
            assert np.median(energy[speech]) > 5 * np.median(energy[~speech])


def test_rerun_is_a_no_op_and_deterministic(prepared, tiny_grid, tmp_path):
    out, _ = prepared
    before = {p: p.stat().st_mtime_ns for p in (out / "work").rglob("*.npz")}
    prepare_grid(tiny_grid, out, config=CFG, workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in (out / "work").rglob("*.npz")} == before  # nothing redone
    fresh = tmp_path / "fresh"
    prepare_grid(tiny_grid, fresh, config=CFG, workers=2, progress=False)  # 2 workers, same result
    _assert_same(_arrays(out / "dataset.h5"), _arrays(fresh / "dataset.h5"))


def test_interrupted_run_resumes_to_the_same_result(prepared, tiny_grid, tmp_path):
    out, _ = prepared
    part = tmp_path / "part"
    s = prepare_grid(tiny_grid, part, config=CFG, progress=False, max_clips=3)
    assert s["status"] == "interrupted" and not (part / "dataset.h5").exists()
    assert len(list((part / "work").rglob("*.npz"))) + len(list((part / "work").rglob("*.excluded.json"))) == 3
    assert _temp_files(part / "work") == []  # a clean stop leaves no temporary files
    prepare_grid(tiny_grid, part, config=CFG, progress=False)
    _assert_same(_arrays(out / "dataset.h5"), _arrays(part / "dataset.h5"))


@pytest.mark.slow
def test_killed_process_resumes(prepared, tiny_grid, tmp_path):
    """SIGKILL a real `lip2audspec prepare` mid-run; the rerun completes to the uninterrupted result."""
    out, _ = prepared
    dst = tmp_path / "killed"
    cmd = [sys.executable, "-m", "lip2audspec.cli.main", "prepare", str(tiny_grid), "-o", str(dst), "--cropper", "haar",
           "--crop-size", "32", "--unseen", "s2", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(list((dst / "work").rglob("*.npz"))) >= 2:
            break
        time.sleep(0.05)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if killed:
        assert not (dst / "dataset.h5").exists()
        # one process writes one file at a time (fileio.atomic_path: ".NAME.XXXX.npz" beside it), so a kill
        # leaves at most one temporary file, and every cached result under its final name is complete
        temps = _temp_files(dst / "work")
        assert len(temps) <= 1, temps
        for p in set((dst / "work").rglob("*.npz")) - set(temps):
            np.load(p)["crops"]
    assert main(["prepare", str(tiny_grid), "-o", str(dst), "--cropper", "haar", "--crop-size", "32", "--unseen", "s2", "--quiet"]) == 0
    assert _temp_files(dst / "work") == []  # the completed run removed the killed run's temporary file
    for p in (dst / "work").rglob("*.npz"):
        np.load(p)["crops"]  # every cached result is complete (atomic writes)
    _assert_same(_arrays(out / "dataset.h5"), _arrays(dst / "dataset.h5"))


def test_changed_settings_are_refused(prepared, tiny_grid):
    out, _ = prepared
    other = PrepareConfig(crop=CropConfig(method="haar", size=48), unseen=("s2",))
    with pytest.raises(ParameterError, match="different settings"):
        prepare_grid(tiny_grid, out, config=other, progress=False)


def test_bad_arguments(tiny_grid, tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        prepare_grid(tiny_grid, tmp_path / "x", speakers=["s9"], config=CFG, progress=False)
    with pytest.raises(ParameterError, match="held-out"):
        prepare_grid(tiny_grid, tmp_path / "x", speakers=["s1"], config=CFG, progress=False)
    with pytest.raises(ParameterError, match="fractions"):
        PrepareConfig(fractions=(0.5, 0.6, 0.1))
    assert PrepareConfig.from_dict(CFG.to_dict()) == CFG


def test_cli_prepare_with_mask_cropper(tiny_grid, tmp_path, capsys):
    assert main(["prepare", str(tiny_grid), "-o", str(tmp_path / "p"), "--cropper", "mask", "--crop-size", "24",
                 "--speakers", "s1", "--hop", "1", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "seen/train" in printed
    m = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert m["config"]["crop"]["method"] == "mask" and m["config"]["window"]["hop"] == 1
    with GridDataset(tmp_path / "p" / "dataset.h5") as ds:
        assert len(ds.windows()) == len(ds) * 71


def test_each_video_is_decoded_once(tiny_grid, monkeypatch):
    """process_clip decodes a clip's video a single time (the frame count and the crops share it)."""
    from lip2audspec.data import video as video_mod
    from lip2audspec.data.crop import make_cropper
    from lip2audspec.data.prepare import process_clip

    decodes = []
    original = video_mod.FrameStream.__iter__

    def counting(self):
        decodes.append(self.path)
        return original(self)

    monkeypatch.setattr(video_mod.FrameStream, "__iter__", counting)
    layout = GridLayout.discover(tiny_grid)
    utt = next(u for u in layout.utterances("s2"))
    cfg = CFG.replace(audio_source="wav")
    res = process_clip(layout.clip_paths("s2", utt), cfg, make_cropper(cfg.crop), speaker="s2", utt_id=utt)
    assert res["crops"].shape == (75, 32, 32) and len(decodes) == 1
    assert set(res["timings"]) == {"decode", "validate", "crop", "target", "cpu"}

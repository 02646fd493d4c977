"""``benchmarks/accelerator_framesync.py``: what travels to the lent GPU decodes to exactly what was exported.

(Its ``train`` step needs JAX or PyTorch and a GPU, which CI has not; it was run on the lent H200 in
session 10. Here: the lossless crop code, the 8-bit targets, and ``export`` on the legacy fixture.)
"""

import importlib.util
import json
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests/data/legacy_v1/prepared/dataset.h5"


def _script():
    spec = importlib.util.spec_from_file_location("accelerator_framesync", ROOT / "benchmarks/accelerator_framesync.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_crop_code_is_lossless_at_the_extremes():
    acc = _script()
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, size=(3, 75, 8, 8), dtype=np.uint8)
    crops[0] = 255  # the int16 cumulative sums wrap past 32767 here: still exact mod 256
    crops[1, ::2] = 0
    out = acc.decode_crops(acc.encode_crops(crops), crops.shape)
    assert out.dtype == np.uint8 and np.array_equal(out, crops)


def test_export_parts_decode_to_the_dataset(tmp_path):
    acc = _script()
    acc.main(["export", "--data", str(FIXTURE), "--out", str(tmp_path / "a"), str(tmp_path / "b"), "--split-at", "1"])
    meta = json.loads((tmp_path / "b/meta.json").read_text())
    with h5py.File(FIXTURE, "r") as f:
        idx = np.concatenate([f["splits/seen/train"][:], f["splits/seen/val"][:]])
        crops, spec = f["crops"][:][idx], f["spec"][:][idx]
    assert meta["n_train"] + meta["n_val"] == len(idx) and [p["clips"] for p in meta["parts"]] == [[0, 1], [1, len(idx)]]
    got = np.concatenate([acc.decode_crops((tmp_path / d / p["file"]).read_bytes(), [p["clips"][1] - p["clips"][0],
                                                                                   *crops.shape[1:]])
                          for d, p in zip("ab", meta["parts"])])
    assert np.array_equal(got, crops)
    back = acc.decode_targets((tmp_path / "b/spec.xz").read_bytes(), spec.shape, meta["spec_scale"])
    assert back.dtype == np.float32
    assert np.abs(back - spec).max() <= meta["spec_scale"] / 2 + 1e-6  # 8 bits: half a step at most


import numpy as np
import pytest

from lip2audspec import DataError, ParameterError
from lip2audspec.data.dataset import DatasetSpec, GridDataset, add_dataset_array, make_splits, write_dataset
from lip2audspec.data.inputs import WindowConfig, lip_inputs


def _clips(rng, speakers=("s1", "s2", "s3"), per=10, T=15, S=16):
    clips = []
    for spk in speakers:
        for k in range(per):
            clips.append({"id": f"bbaf{k}n" if k else "bbafzn", "speaker": spk,
                          "crops": rng.integers(0, 255, (T, S, S), dtype=np.uint8),
                          "spec": rng.random((4 * T, 128)).astype(np.float32),
                          "boxes": rng.random((T, 4)).astype(np.float32)})
    return clips


def _manifest(window=WindowConfig()):
    return {"config": {"window": window.to_dict()}, "frames_per_video_frame": 4}


def _spec(window=WindowConfig(), T=15, S=16):
    return DatasetSpec(crop_size=S, n_frames=T, window=window.window, hop=window.hop)


def test_splits_are_deterministic_and_disjoint():
    spk = ["s1"] * 10 + ["s2"] * 10 + ["s4"] * 10
    ids = [f"u{i:02d}" for i in range(30)]
    a = make_splits(spk, ids, unseen=["s4"], seed=1)
    b = make_splits(spk, ids, unseen=["s4"], seed=1)
    c = make_splits(spk, ids, unseen=["s4"], seed=2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["seen/train"], c["seen/train"])
    assert [len(a[k]) for k in ("seen/train", "seen/val", "seen/test", "unseen/test")] == [16, 2, 2, 10]
    allidx = np.concatenate(list(a.values()))
    assert len(allidx) == 30 and len(set(allidx.tolist())) == 30
    assert set(np.array(spk)[a["unseen/test"]]) == {"s4"}
    with pytest.raises(ParameterError, match="held-out"):
        make_splits(spk, ids, unseen=["s9"])
    with pytest.raises(ParameterError, match="fractions"):
        make_splits(spk, ids, fractions=(0.5, 0.5, 0.5))


def test_write_read_windows(tmp_path, rng):
    clips = _clips(rng)
    splits = make_splits([c["speaker"] for c in clips], [c["id"] for c in clips], unseen=["s3"])
    path = write_dataset(tmp_path / "d.h5", clips, splits=splits, manifest=_manifest(WindowConfig(window=5, hop=2)),
                         spec=_spec(WindowConfig(window=5, hop=2)))
    assert not list(tmp_path.glob(".*"))
    with GridDataset(path) as ds:
        assert len(ds) == 30 and ds.speakers == ["s1", "s2", "s3"]
        np.testing.assert_array_equal(ds.array("crops", 3), clips[3]["crops"])
        w = ds.windows("seen/train")
        assert w.shape == (len(splits["seen/train"]) * 6, 2)  # starts 0, 2, ..., 10 in 15 frames
        clip, start = w[7]
        x, y = ds.window(clip, start)
        assert x.shape == (5, 16, 16, 3) and y.shape == (20, 128)
        np.testing.assert_allclose(x, lip_inputs(clips[clip]["crops"])[start : start + 5], atol=1e-7)
        np.testing.assert_array_equal(y, clips[clip]["spec"][4 * start : 4 * start + 20])
        assert set(ds.clip_speakers[ds.split("unseen/test")]) == {"s3"}
        both = ds.split("seen/train+seen/val")
        np.testing.assert_array_equal(both, np.union1d(ds.split("seen/train"), ds.split("seen/val")))
        with pytest.raises(ParameterError, match="no split 'nope'"):
            ds.split("seen/train+nope")
        with pytest.raises(ParameterError, match="no split"):
            ds.split("nope")


def test_add_bottleneck(tmp_path, rng):
    clips = _clips(rng, speakers=("s1",), per=4)
    path = write_dataset(tmp_path / "d.h5", clips, splits={"seen/train": np.arange(4)}, manifest=_manifest(), spec=_spec())
    bn = rng.random((4, 60, 32)).astype(np.float32)
    add_dataset_array(path, "bottleneck", bn, attrs={"encoder": "run1"})
    with pytest.raises(DataError, match="already has"):
        add_dataset_array(path, "bottleneck", bn)
    with pytest.raises(ParameterError, match="rows"):
        add_dataset_array(path, "other", bn[:2])
    with GridDataset(path) as ds:
        _, y = ds.window(0, 5, target="bottleneck")
        np.testing.assert_array_equal(y, bn[0, 20:40])
        assert ds.spec.derived == {"bottleneck": {"dim": 32, "encoder": "run1"}}
        assert ds.spec.target_dim("bottleneck") == 32 and ds.spec.target_dim("spec") == 128
        with pytest.raises(DataError, match="no 'other' targets"):
            ds.spec.target_dim("other")


def test_spec_must_match_clips(tmp_path, rng):
    clips = _clips(rng, speakers=("s1",), per=2)
    with pytest.raises(DataError, match="dataset spec says"):
        write_dataset(tmp_path / "m.h5", clips, splits={}, manifest={}, spec=_spec(S=48))
    assert not (tmp_path / "m.h5").exists()


def test_unreadable_dataset_is_a_data_error(tmp_path):
    bad = tmp_path / "dataset.h5"
    bad.write_bytes(b"not an hdf5 file" * 10)
    with pytest.raises(DataError, match="cannot open"):
        GridDataset(bad)


def test_write_rejects_empty_and_ragged(tmp_path, rng):
    with pytest.raises(DataError, match="no valid clips"):
        write_dataset(tmp_path / "e.h5", [], splits={}, manifest={}, spec=_spec())
    clips = _clips(rng, speakers=("s1",), per=2)
    clips[1]["crops"] = clips[1]["crops"][:10]
    with pytest.raises(DataError, match="different shapes"):
        write_dataset(tmp_path / "r.h5", clips, splits={}, manifest={}, spec=_spec())
    assert not (tmp_path / "r.h5").exists()

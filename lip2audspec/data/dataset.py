"""Prepared GRID datasets in HDF5: clip arrays, splits, windows, manifest.

One file, ``dataset.h5``, holds every valid clip (sorted by speaker number, then utterance id):

=====================  =========================  ==================================================
dataset                shape, dtype               content
=====================  =========================  ==================================================
``crops``              (N, T, S, S) uint8         grayscale mouth crops (T = 75 video frames)
``spec``               (N, T * k, 128) float32    compressed auditory targets (k = 4 per video frame)
``boxes``              (N, T, 4) float32          crop boxes (x0, y0, x1, y1) in source pixels
``ids``, ``speakers``  (N,) str                   utterance ids (``bbaf2n``) and speakers (``s1``)
``speaker_index``      (N,) int32                 index into ``attrs['speakers']``
``splits/<name>``      (n,) int64                 clip indices of a split (``seen/train`` ...)
``bottleneck``         (N, T * k, D) float32      added later from a trained autoencoder
=====================  =========================  ==================================================

Datasets are chunked one clip per chunk and gzip-compressed. The network inputs (normalised frame and
its temporal differences, windows of 5 frames) are derived from ``crops`` on the fly
(:mod:`lip2audspec.data.inputs`), so overlapping windows cost no disk space; ``windows(split)`` lists the
(clip, start frame) pairs. ``attrs['manifest']`` holds the JSON manifest (config, source, versions,
counts), also written beside the file as ``manifest.json``.

Splits (deterministic by seed): ``seen/train``, ``seen/val``, ``seen/test`` split every non-held-out
speaker's utterances by ``fractions`` (paper: 80/10/10); ``unseen/test`` holds all clips of the
held-out speakers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..fileio import atomic_path
from .inputs import WindowConfig, lip_inputs, window_slices, window_starts

__all__ = ["make_splits", "write_dataset", "GridDataset", "add_dataset_array"]

def _str_dtype():
    import h5py

    return h5py.string_dtype("utf-8")


def make_splits(speakers, ids, *, fractions=(0.8, 0.1, 0.1), unseen=(), seed: int = 0) -> dict:
    """Deterministic seen/unseen splits.

    Parameters
    ----------
    speakers, ids : sequence of str, length N
        Speaker and utterance id of each clip.
    fractions : (train, val, test)
        Per-speaker fractions of the seen speakers' utterances (sum 1).
    unseen : sequence of str
        Held-out speakers: all their clips form ``unseen/test``.
    seed : int

    Returns
    -------
    dict of str -> ndarray of int64
        ``seen/train``, ``seen/val``, ``seen/test`` and, with held-out speakers, ``unseen/test``.
    """
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr < 0) or abs(fr.sum() - 1) > 1e-6:
        raise ParameterError(f"fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    speakers = np.asarray(speakers)
    ids = np.asarray(ids)
    unseen = set(unseen)
    unknown = unseen - set(speakers.tolist())
    if unknown:
        raise ParameterError(f"held-out speakers {sorted(unknown)} have no valid clips in the dataset")
    out = {"seen/train": [], "seen/val": [], "seen/test": []}
    for spk in sorted(set(speakers.tolist()) - unseen, key=_speaker_key):
        idx = np.flatnonzero(speakers == spk)
        idx = idx[np.argsort(ids[idx], kind="stable")]
        rng = np.random.default_rng([seed, _speaker_key(spk)[0]])
        idx = idx[rng.permutation(len(idx))]
        n_train = int(round(fr[0] * len(idx)))
        n_val = int(round(fr[1] * len(idx)))
        if len(idx) >= 3:  # keep at least one clip in every non-empty part
            n_train = min(max(n_train, 1), len(idx) - 2) if fr[1] > 0 and fr[2] > 0 else n_train
            n_val = max(n_val, 1) if fr[1] > 0 else n_val
        out["seen/train"].extend(idx[:n_train])
        out["seen/val"].extend(idx[n_train : n_train + n_val])
        out["seen/test"].extend(idx[n_train + n_val :])
    if unseen:
        out["unseen/test"] = np.flatnonzero(np.isin(speakers, sorted(unseen))).tolist()
    return {k: np.sort(np.asarray(v, dtype=np.int64)) for k, v in out.items()}


def _speaker_key(spk: str):
    digits = "".join(c for c in str(spk) if c.isdigit())
    return (int(digits) if digits else 0, str(spk))


def write_dataset(path, clips, *, splits: dict, manifest: dict, compression: str = "gzip") -> Path:
    """Write clips to an HDF5 dataset atomically.

    Parameters
    ----------
    path : str or Path
    clips : sequence of dict
        Each with ``id``, ``speaker``, ``crops`` (T, S, S) uint8, ``spec`` (T*k, 128), ``boxes`` (T, 4).
        All clips must have the same shapes.
    splits : dict of str -> index array
    manifest : dict
        JSON-serialisable; stored in ``attrs['manifest']``.

    Returns
    -------
    Path
    """
    import h5py

    if not clips:
        raise DataError("no valid clips to write: every clip was excluded (see the exclusion report)")
    shapes = {(c["crops"].shape, c["spec"].shape) for c in clips}
    if len(shapes) != 1:
        raise DataError(f"clips have different shapes: {sorted(shapes)}")
    (cshape, sshape), = shapes
    n = len(clips)
    speakers = sorted({c["speaker"] for c in clips}, key=_speaker_key)
    path = Path(path)
    with atomic_path(path, suffix=".h5") as tmp:
        with h5py.File(tmp, "w") as h5:
            kw = dict(compression=compression, compression_opts=4) if compression == "gzip" else dict(compression=compression)
            d_crops = h5.create_dataset("crops", (n, *cshape), dtype="uint8", chunks=(1, *cshape), **kw)
            d_spec = h5.create_dataset("spec", (n, *sshape), dtype="float32", chunks=(1, *sshape), **kw)
            d_box = h5.create_dataset("boxes", (n, cshape[0], 4), dtype="float32")
            for i, c in enumerate(clips):
                d_crops[i] = c["crops"]
                d_spec[i] = c["spec"]
                d_box[i] = c["boxes"]
            h5.create_dataset("ids", data=[c["id"] for c in clips], dtype=_str_dtype())
            h5.create_dataset("speakers", data=[c["speaker"] for c in clips], dtype=_str_dtype())
            h5.create_dataset("speaker_index", data=np.array([speakers.index(c["speaker"]) for c in clips], np.int32))
            for name, idx in splits.items():
                h5.create_dataset(f"splits/{name}", data=np.asarray(idx, np.int64))
            h5.attrs["speakers"] = json.dumps(speakers)
            h5.attrs["manifest"] = json.dumps(manifest)
    return path


def add_dataset_array(path, name: str, data, *, overwrite: bool = False, attrs: dict | None = None) -> None:
    """Add a per-clip array (e.g. ``bottleneck`` (N, T*k, D)) to an existing dataset file.

    Written to a temporary name and renamed inside the file, so an interrupted call leaves no partial
    ``name``.
    """
    import h5py

    data = np.asarray(data)
    with h5py.File(path, "a") as h5:
        n = h5["ids"].shape[0]
        if data.shape[0] != n:
            raise ParameterError(f"{name} has {data.shape[0]} rows; the dataset has {n} clips")
        if name in h5:
            if not overwrite:
                raise DataError(f"{path} already has '{name}' (pass overwrite=True to replace it)")
            del h5[name]
        tmp = f"_{name}_tmp"
        if tmp in h5:
            del h5[tmp]
        ds = h5.create_dataset(tmp, data=data, chunks=(1, *data.shape[1:]), compression="gzip", compression_opts=4)
        for k, v in (attrs or {}).items():
            ds.attrs[k] = v
        h5.move(tmp, name)


class GridDataset:
    """Read a prepared dataset: clips, splits, windows.

    Parameters
    ----------
    path : str or Path
        ``dataset.h5`` written by :func:`write_dataset`.
    window : WindowConfig, optional
        Default: the one in the manifest.

    Examples
    --------
    >>> ds = GridDataset("prepared/dataset.h5")            # doctest: +SKIP
    >>> x, y = ds.window(*ds.windows("seen/train")[0])     # (5, S, S, 3), (20, 128)  # doctest: +SKIP
    """

    def __init__(self, path, *, window: WindowConfig | None = None):
        import h5py

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no prepared dataset at {self.path}")
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as exc:
            raise DataError(f"cannot open {self.path} as HDF5: {exc}") from exc
        self.manifest = json.loads(self._h5.attrs["manifest"])
        self.speakers = json.loads(self._h5.attrs["speakers"])
        self.window_config = window or WindowConfig.from_dict(self.manifest["config"]["window"])
        self.k = int(self.manifest["frames_per_video_frame"])
        self.ids = np.array([s.decode() if isinstance(s, bytes) else s for s in self._h5["ids"][:]])
        self.clip_speakers = np.array([s.decode() if isinstance(s, bytes) else s for s in self._h5["speakers"][:]])
        self.speaker_index = self._h5["speaker_index"][:]

    def __len__(self) -> int:
        return len(self.ids)

    def close(self):
        self._h5.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def split_names(self) -> list:
        names = []
        self._h5["splits"].visit(lambda n: names.append(n) if isinstance(self._h5["splits"][n], type(self._h5["ids"])) else None)
        return sorted(names)

    def split(self, name: str) -> np.ndarray:
        """Clip indices of a split (``seen/train``, ``seen/val``, ``seen/test``, ``unseen/test``)."""
        key = f"splits/{name}"
        if key not in self._h5:
            raise ParameterError(f"no split '{name}' in {self.path}; available: {self.split_names}")
        return self._h5[key][:]

    def has(self, name: str) -> bool:
        return name in self._h5

    def array(self, name: str, index) -> np.ndarray:
        """``name`` (``crops``, ``spec``, ``boxes``, ``bottleneck``) of clip(s) ``index``."""
        if name not in self._h5:
            raise ParameterError(f"{self.path} has no '{name}' array")
        return self._h5[name][index]

    def clip_inputs(self, index: int) -> np.ndarray:
        """Network inputs of a whole clip: (T, S, S, 3) float32."""
        return lip_inputs(self._h5["crops"][index])

    def windows(self, split: str | None = None) -> np.ndarray:
        """(clip, start frame) pairs of every window of a split (all clips if None): (n, 2) int64."""
        clips = np.arange(len(self)) if split is None else self.split(split)
        T = self._h5["crops"].shape[1]
        starts = window_starts(T, self.window_config)
        if len(clips) == 0 or len(starts) == 0:
            return np.zeros((0, 2), np.int64)
        return np.stack(np.meshgrid(clips, starts, indexing="ij"), axis=-1).reshape(-1, 2).astype(np.int64)

    def window(self, clip: int, start: int, *, target: str = "spec") -> tuple:
        """One training example: inputs (window, S, S, 3) float32 and target (window * k, D) float32.

        Differences at the window's first frame use the preceding frame of the clip, as when the
        whole clip is processed.
        """
        v, s = window_slices(int(start), config=self.window_config, frames_per_video_frame=self.k)
        lo = max(0, v.start - 2)
        crops = self._h5["crops"][clip, lo : v.stop]
        x = lip_inputs(crops)[v.start - lo :]
        y = self._h5[target][clip, s]
        return x, np.asarray(y, np.float32)

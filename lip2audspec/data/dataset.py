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

``attrs['spec']`` holds the :class:`DatasetSpec`: the one owner of what a clip holds (crop size, frames,
target frames per video frame, channels, windows, where the audio came from, the preparation config and
the derived targets added later). Readers take shapes from it instead of peeking at arrays, and the
training code checks a model against it in one place (:func:`lip2audspec.training.check_model_fits`).

Datasets are chunked one clip per chunk and gzip-compressed. The network inputs (normalised frame and
its temporal differences, windows of 5 frames) are derived from ``crops`` on the fly
(:mod:`lip2audspec.data.inputs`), so overlapping windows cost no disk space; ``windows(split)`` lists the
(clip, start frame) pairs. ``attrs['manifest']`` holds the JSON manifest (config, source, versions,
counts), also written beside the file as ``manifest.json``.

Splits (deterministic by seed): ``seen/train``, ``seen/val``, ``seen/test`` split every non-held-out
speaker's utterances by ``fractions`` (paper: 80/10/10); ``unseen/test`` holds all clips of the
held-out speakers. Fixed splits (a split file, :func:`read_split_file`, e.g. the published s1 split) replace
the seeded seen splits (:func:`fixed_splits`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..config import Config, check_choice, check_int, check_real
from ..errors import DataError, ParameterError
from ..fileio import atomic_path
from .inputs import WindowConfig, lip_inputs, window_slices, window_starts

__all__ = ["DatasetSpec", "AUDIO_SOURCES", "make_splits", "read_split_file", "check_split_lists", "fixed_splits",
           "SPLIT_FILE_KEYS", "write_dataset", "GridDataset", "add_dataset_array",
           "dataset_file", "split_name"]

#: where a dataset's speech came from: a separate wav file per clip, or the audio track of the video file
AUDIO_SOURCES = ("wav", "video")


@dataclass(frozen=True)
class DatasetSpec(Config):
    """What every clip of a prepared dataset holds: the contract between preparation and the models.

    Written into ``dataset.h5`` (``attrs['spec']``) and ``manifest.json`` by preparation, read once by
    :class:`GridDataset` (``ds.spec``); derived targets (the autoencoder's bottleneck codes) are recorded
    in :attr:`derived` when :func:`add_dataset_array` adds them.

    Parameters
    ----------
    crop_size : int
        Side S of the square grayscale mouth crops in pixels.
    n_frames : int
        Video frames per clip T.
    fps : float
        Video frame rate.
    frames_per_video_frame : int
        Target (spectrogram) frames per video frame k (4: 10 ms frames, 40 ms video frames).
    spec_channels : int
        Channels of a target frame (128 NSL channels).
    input_channels : int
        Channels of the lip network's input derived from the crops (3: frame, 1st and 2nd difference).
    window, hop : int
        Window length and hop in video frames recorded at preparation (models may use their own hop).
    audio_source : {"wav", "video"}
        Where the speech came from: a separate wav per clip, or the video file's own audio track.
    prepare : dict
        The :class:`~lip2audspec.data.prepare.PrepareConfig` as a dict (empty when unknown).
    derived : dict
        Targets added after preparation: name -> ``{"dim": D, ...}`` (e.g. ``"bottleneck"`` with the
        autoencoder run that made it).

    Examples
    --------
    >>> spec = DatasetSpec(crop_size=48)
    >>> spec.target_frames, spec.with_derived("bottleneck", dim=32).derived
    (300, {'bottleneck': {'dim': 32}})
    """

    KIND = "dataset-spec"

    crop_size: int = 128
    n_frames: int = 75
    fps: float = 25.0
    frames_per_video_frame: int = 4
    spec_channels: int = 128
    input_channels: int = 3
    window: int = 5
    hop: int = 5
    audio_source: str = "wav"
    prepare: dict = field(default_factory=dict)
    derived: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ("crop_size", "n_frames", "frames_per_video_frame", "spec_channels", "input_channels", "window",
                     "hop"):
            check_int(self, name)
        check_real(self, "fps", lo=0.0, lo_open=True)
        check_choice(self, "audio_source", AUDIO_SOURCES)
        for name in ("prepare", "derived"):
            if not isinstance(getattr(self, name), dict):
                raise ParameterError(f"DatasetSpec.{name} must be a dict, got {type(getattr(self, name)).__name__}")
        for k, v in self.derived.items():
            if not isinstance(v, dict) or "dim" not in v:
                raise ParameterError(f"DatasetSpec.derived[{k!r}] must be a dict with a 'dim' entry, got {v!r}")

    @property
    def target_frames(self) -> int:
        """Target frames per clip, ``k * n_frames``."""
        return self.frames_per_video_frame * self.n_frames

    @property
    def window_config(self) -> WindowConfig:
        return WindowConfig(window=self.window, hop=self.hop)

    def target_dim(self, name: str) -> int:
        """Width of target ``name``: ``"spec"`` or a derived target; ``DataError`` if absent."""
        if name == "spec":
            return self.spec_channels
        if name not in self.derived:
            raise DataError(f"the dataset has no '{name}' targets (derived targets: {sorted(self.derived) or 'none'})")
        return int(self.derived[name]["dim"])

    def with_derived(self, name: str, **info) -> "DatasetSpec":
        """A copy that records derived target ``name`` (``info`` must hold ``dim``)."""
        return self.replace(derived={**self.derived, name: dict(info)})

    @classmethod
    def from_prepared(cls, config: dict, *, crop_size: int, n_frames: int, spec_channels: int,
                      audio_source: str = "wav") -> "DatasetSpec":
        """The spec of a dataset prepared with ``config`` (a PrepareConfig dict) and these clip shapes."""
        from .targets import TargetConfig

        k = TargetConfig.from_dict(config["target"]).frames_per_video_frame  # the rule has one owner
        return cls(crop_size=crop_size, n_frames=n_frames, fps=float(config["fps"]), frames_per_video_frame=k,
                   spec_channels=spec_channels, window=int(config["window"]["window"]),
                   hop=int(config["window"]["hop"]), audio_source=audio_source, prepare=dict(config))


def dataset_file(path) -> Path:
    """``dataset.h5`` given a prepared folder or the file itself.

    Parameters
    ----------
    path : str or Path
        A prepared folder (as written by :func:`lip2audspec.data.prepare.prepare_grid`) or its ``dataset.h5``.

    Returns
    -------
    Path
        The dataset file.

    Raises
    ------
    FileNotFoundError
        When there is no such file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "dataset.h5"
    if not p.is_file():
        raise FileNotFoundError(f"no prepared dataset at {p} (run `lip2audspec prepare` first)")
    return p


_SPLIT_ALIASES = {"test": "seen/test", "val": "seen/val", "train": "seen/train", "unseen": "unseen/test"}


def split_name(split: str) -> str:
    """Full split name of a short alias.

    Parameters
    ----------
    split : str
        ``test``, ``val``, ``train``, ``unseen`` or a full split name.

    Returns
    -------
    str
        ``test`` -> ``seen/test``, ``val`` -> ``seen/val``, ``train`` -> ``seen/train``,
        ``unseen`` -> ``unseen/test``; full names (and anything else) pass through.
    """
    return _SPLIT_ALIASES.get(split, split)


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


#: keys of a split file and the dataset splits they fill
SPLIT_FILE_KEYS = {"train": "seen/train", "val": "seen/val", "test": "seen/test"}


def read_split_file(path) -> dict:
    """A fixed split from a JSON file: ``{"train": [ids], "val": [ids], "test": [ids], ...}``.

    Ids are GRID utterance ids (``"bbaf2n"``, matching that utterance of every seen speaker) or
    ``"<speaker>/<id>"``. Other keys whose values are not lists (``"speaker"``, ``"rule"``, ``"source"``)
    are metadata and ignored; so are list-valued keys other than train/val/test (e.g. ``"decode_74_frames"``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    dict of str -> tuple of str
        ``seen/train``, ``seen/val``, ``seen/test`` (the keys the file has) -> sorted ids; the value of
        :attr:`lip2audspec.data.prepare.PrepareConfig.splits`.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataError
        Not JSON, no train/val/test list, an id that is not a string, or an id in two lists.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no split file at {p}")
    try:
        doc = json.loads(p.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"split file {p} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise DataError(f"split file {p} must hold a JSON object with 'train', 'val', 'test' id lists")
    out = {}
    for key, name in SPLIT_FILE_KEYS.items():
        if key in doc:
            if not isinstance(doc[key], list):
                raise DataError(f"split file {p}: '{key}' must be a list of utterance ids, got {type(doc[key]).__name__}")
            out[name] = doc[key]
    if not out:
        raise DataError(f"split file {p} has none of the keys {list(SPLIT_FILE_KEYS)} (lists of utterance ids)")
    return check_split_lists(out, source=str(p))


def check_split_lists(splits, *, source: str = "splits") -> dict:
    """Validate fixed split lists: split name -> sorted tuple of str ids, no id in two splits.

    Parameters
    ----------
    splits : dict
        ``seen/train`` / ``seen/val`` / ``seen/test`` (or the short names) -> sequence of ids
        (``"bbaf2n"`` or ``"s1/bbaf2n"``).
    source : str
        Named in error messages.

    Returns
    -------
    dict of str -> tuple of str
    """
    if not isinstance(splits, dict) or not splits:
        raise ParameterError(f"{source}: fixed splits must be a non-empty dict split name -> list of ids")
    out, owner = {}, {}
    for name, ids in splits.items():
        full = split_name(str(name))
        if full not in SPLIT_FILE_KEYS.values():
            raise ParameterError(f"{source}: unknown split {name!r}; expected {sorted(SPLIT_FILE_KEYS.values())}")
        if isinstance(ids, (str, bytes)) or not hasattr(ids, "__iter__"):
            raise ParameterError(f"{source}: split {name!r} must be a list of utterance ids, got {ids!r}")
        ids = list(ids)
        bad = [i for i in ids if not isinstance(i, str) or not i]
        if bad:
            raise DataError(f"{source}: split {name!r} holds entries that are not utterance ids: {bad[:5]}")
        for i in ids:
            if owner.setdefault(i, full) != full:
                raise DataError(f"{source}: id {i!r} is in both {owner[i]} and {full}")
        out[full] = tuple(sorted(set(ids)))
    return out


def fixed_splits(speakers, ids, splits: dict, *, unseen=()) -> tuple:
    """Splits from fixed id lists (:func:`read_split_file`) instead of seeded fractions.

    Parameters
    ----------
    speakers, ids : sequence of str, length N
        Speaker and utterance id of each clip.
    splits : dict of str -> sequence of str
        ``seen/train`` ... -> ids (``"bbaf2n"``: that utterance of every seen speaker; ``"s1/bbaf2n"``).
    unseen : sequence of str
        Held-out speakers: all their clips form ``unseen/test`` (the lists do not apply to them).

    Returns
    -------
    splits : dict of str -> ndarray of int64
        ``seen/train``, ``seen/val``, ``seen/test`` (all three, possibly empty) and, with held-out
        speakers, ``unseen/test``.
    missing : dict of str -> list of str
        Per split, the listed ids that match no clip (e.g. excluded during preparation).
    unassigned : list of int
        Seen clips that are in no list (left out of every split).
    """
    speakers, ids = list(speakers), list(ids)
    unseen = set(unseen)
    lookup = {}
    for n, (spk, uid) in enumerate(zip(speakers, ids)):
        if spk not in unseen:
            lookup.setdefault(uid, []).append(n)
            lookup.setdefault(f"{spk}/{uid}", []).append(n)
    out = {name: [] for name in SPLIT_FILE_KEYS.values()}
    missing = {}
    for name, listed in splits.items():
        name = split_name(name)
        for i in listed:
            if i in lookup:
                out[name].extend(lookup[i])
            else:
                missing.setdefault(name, []).append(i)
    assigned = {n for v in out.values() for n in v}
    unassigned = [n for n, spk in enumerate(speakers) if spk not in unseen and n not in assigned]
    if unseen:
        out["unseen/test"] = [n for n, spk in enumerate(speakers) if spk in unseen]
    return {k: np.sort(np.asarray(v, dtype=np.int64)) for k, v in out.items()}, missing, unassigned


def _speaker_key(spk: str):
    digits = "".join(c for c in str(spk) if c.isdigit())
    return (int(digits) if digits else 0, str(spk))


def write_dataset(path, clips, *, splits: dict, manifest: dict, spec: DatasetSpec, compression: str = "gzip") -> Path:
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
    spec : DatasetSpec
        Stored in ``attrs['spec']``; must match the clips' shapes.

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
    want = ((spec.n_frames, spec.crop_size, spec.crop_size), (spec.target_frames, spec.spec_channels))
    if (cshape, sshape) != want:
        raise DataError(f"clips have crops {cshape} and targets {sshape}; the dataset spec says {want[0]} and {want[1]}")
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
            h5.attrs["spec"] = spec.to_json()
    return path


def add_dataset_array(path, name: str, data, *, overwrite: bool = False, attrs: dict | None = None) -> None:
    """Add a per-clip array (e.g. ``bottleneck`` (N, T*k, D)) to an existing dataset file.

    Written to a temporary name and renamed inside the file, so an interrupted call leaves no partial
    ``name``; the dataset spec records it as a derived target (its width and ``attrs``).
    """
    import h5py

    data = np.asarray(data)
    with GridDataset(path) as ds:  # the spec as it is (older files: migrated from the manifest)
        spec = ds.spec
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
        h5.attrs["spec"] = spec.with_derived(name, dim=int(data.shape[-1]), **(attrs or {})).to_json()


class GridDataset:
    """Read a prepared dataset: clips, splits, windows.

    Parameters
    ----------
    path : str or Path
        ``dataset.h5`` written by :func:`write_dataset`, or the prepared folder holding it.
    window : WindowConfig, optional
        Default: the one in the manifest.

    Examples
    --------
    >>> ds = GridDataset("prepared/dataset.h5")            # doctest: +SKIP
    >>> x, y = ds.window(*ds.windows("seen/train")[0])     # (5, S, S, 3), (20, 128)  # doctest: +SKIP
    """

    def __init__(self, path, *, window: WindowConfig | None = None):
        import h5py

        self.path = dataset_file(path)
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as exc:
            raise DataError(f"cannot open {self.path} as a prepared dataset (HDF5): {exc}") from None
        try:
            self.manifest = json.loads(self._h5.attrs["manifest"])
            self.speakers = json.loads(self._h5.attrs["speakers"])
            self.spec = self._read_spec()
            self.ids = np.array([s.decode() if isinstance(s, bytes) else s for s in self._h5["ids"][:]])
            self.clip_speakers = np.array([s.decode() if isinstance(s, bytes) else s for s in self._h5["speakers"][:]])
            self.speaker_index = self._h5["speaker_index"][:]
        except (KeyError, ValueError, OSError) as exc:
            self._h5.close()
            raise DataError(f"{self.path} is not a complete prepared dataset ({type(exc).__name__}: {exc}); "
                            "prepare it again") from None
        self.window_config = window or self.spec.window_config
        self.k = self.spec.frames_per_video_frame

    def _read_spec(self) -> DatasetSpec:
        if "spec" in self._h5.attrs:
            return DatasetSpec.from_json(self._h5.attrs["spec"])
        # written before the spec existed (lip2audspec 0.1.0): derive it from the manifest and the arrays
        m = self.manifest
        crops, spec = self._h5["crops"], self._h5["spec"]
        out = DatasetSpec.from_prepared(m["config"], crop_size=int(crops.shape[-1]), n_frames=int(crops.shape[1]),
                                        spec_channels=int(spec.shape[-1]))
        for name in ("bottleneck",):
            if name in self._h5:
                out = out.with_derived(name, dim=int(self._h5[name].shape[-1]),
                                       **{k: str(v) for k, v in self._h5[name].attrs.items()})
        return out

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
        """Clip indices of a split (``seen/train``, ``seen/val``, ``seen/test``, ``unseen/test``).

        ``"a+b"`` is the sorted union of splits ``a`` and ``b`` (e.g. ``seen/train+seen/val`` to retrain a
        model chosen on val on both).
        """
        if "+" in name:
            return np.unique(np.concatenate([self.split(part) for part in name.split("+")]))
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

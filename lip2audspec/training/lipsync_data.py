"""Training data of the Wav2Lip generator: lower-face crops + speech windows, built from a prepared dataset.

:func:`build_face_dataset` turns a prepared dataset (:mod:`lip2audspec.data.prepare`: mouth boxes from its
cropper, the compressed auditory spectrogram, the splits) into ``faces.h5``: RGB face crops cut from the
corpus videos the manifest names around the *same* mouth boxes (:func:`lip2audspec.data.faces.face_boxes`),
next to the spectrogram and the splits. Per-clip results are cached in ``OUT/work/`` so an interrupted build
resumes; the file is written atomically at the end.

:class:`FaceWindows` draws Wav2Lip examples from it, as the reference data loader does: a window of
``window`` consecutive frames of one clip (the target), a window of the same clip elsewhere (the
reference, at least one window away), and for every frame the 0.2 s of speech centred on it; plus the
window's own 0.2 s for the sync expert (``spec[4 s : 4 (s + window)]``, the pairs the expert was trained
on). :func:`face_window_dataset` wraps it in ``tf.data`` with a ``(seed, epoch)`` generator (a resumed run
draws what an uninterrupted one would).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from ..data.faces import crop_faces, face_boxes
from ..errors import DataError, ParameterError
from ..fileio import atomic_path
from .pipelines import EpochCounter

__all__ = ["FACES_FILE", "build_face_dataset", "FaceData", "load_faces", "FaceWindows", "face_window_dataset", "frame_audio_windows",
           "to_generator_inputs"]

log = logging.getLogger(__name__)

FACES_FILE = "faces.h5"


def _faces_file(path) -> Path:
    p = Path(path)
    return p / FACES_FILE if p.is_dir() or p.suffix != ".h5" else p


def build_face_dataset(prepared, out, *, face_size: int = 64, scale: float = 2.0, splits=None, max_clips: int | None = None,
                       grid_dir=None, progress: bool = False) -> Path:
    """Cut RGB face crops for the clips of a prepared dataset and write ``OUT/faces.h5``.

    Parameters
    ----------
    prepared : str or Path
        Prepared folder or its ``dataset.h5`` (needs ``boxes`` and ``spec``).
    out : str or Path
        Output folder (created; ``faces.h5`` and the per-clip cache ``work/``).
    face_size : int
        Face crop side in pixels.
    scale : float
        Face side / mouth-box side (2: the mouth box is the lower half's centre).
    splits : sequence of str, optional
        Splits to include (default: all); indices are kept per split in the output.
    max_clips : int, optional
        At most this many clips per split (the first ones, in the prepared order).
    grid_dir : str or Path, optional
        The corpus folder (default: the manifest's ``source.grid_dir``).

    Returns
    -------
    Path
        The ``faces.h5`` file.

    Raises
    ------
    DataError
        No ``boxes`` in the prepared dataset, corpus folder missing, unreadable videos.
    """
    import h5py

    from ..corpora.grid import GridLayout
    from ..data.dataset import GridDataset
    from ..data.video import read_video

    out = Path(out)
    with GridDataset(prepared) as ds:
        if not ds.has("boxes"):
            raise DataError(f"{ds.path} has no mouth boxes ('boxes'); prepare it again")
        names = list(splits) if splits is not None else list(ds.split_names)
        chosen = {}
        for name in names:
            idx = np.sort(ds.split(name))
            chosen[name] = idx if max_clips is None else idx[:max_clips]
        clips = np.unique(np.concatenate([v for v in chosen.values()] or [np.zeros(0, np.int64)]))
        if not len(clips):
            raise DataError(f"no clips in splits {names} of {ds.path}")
        ids, spks = ds.ids[clips], ds.clip_speakers[clips]
        boxes = ds.array("boxes", clips).astype(np.float64)
        spec = ds.array("spec", clips).astype(np.float32)
        manifest = ds.manifest
        src_path = str(ds.path.resolve())
        k = ds.k
    grid_dir = Path(grid_dir or (manifest.get("source") or {}).get("grid_dir", ""))
    if not grid_dir.is_dir():
        raise DataError(f"corpus folder {grid_dir} not found (pass grid_dir=)")
    layout = GridLayout(grid_dir)
    n_frames = boxes.shape[1]
    work = out / "work"
    work.mkdir(parents=True, exist_ok=True)
    faces = np.empty((len(clips), n_frames, face_size, face_size, 3), np.uint8)
    from tqdm.auto import tqdm

    for i in tqdm(range(len(clips)), desc="faces", disable=not progress):
        cache = work / f"{spks[i]}_{ids[i]}_{face_size}_{scale:g}.npy"
        if cache.is_file():
            try:
                faces[i] = np.load(cache)
                continue
            except (OSError, ValueError):
                cache.unlink(missing_ok=True)
        paths = layout.clip_paths(spks[i], ids[i])
        if paths.video is None:
            raise DataError(f"video of {spks[i]}/{ids[i]} not found under {grid_dir}")
        frames = read_video(paths.video, gray=False).frames[:n_frames]
        if len(frames) < n_frames:  # the preparation padded it by repeating the last frame
            frames = np.concatenate([frames, np.repeat(frames[-1:], n_frames - len(frames), axis=0)])
        faces[i] = crop_faces(frames, face_boxes(boxes[i], scale=scale), size=face_size)
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, faces[i])
    target = _faces_file(out)
    pos = {c: j for j, c in enumerate(clips)}
    with atomic_path(target) as tmp:
        with h5py.File(tmp, "w") as h:
            h.create_dataset("faces", data=faces, chunks=(1, n_frames, face_size, face_size, 3), compression="gzip",
                             compression_opts=1)
            h.create_dataset("spec", data=spec.astype(np.float16), compression="gzip", compression_opts=1)
            h.create_dataset("boxes", data=face_boxes(boxes.reshape(-1, 4), scale=scale).reshape(boxes.shape))
            h.create_dataset("ids", data=np.array(ids, dtype=object), dtype=h5py.string_dtype())
            h.create_dataset("speakers", data=np.array(spks, dtype=object), dtype=h5py.string_dtype())
            for name, idx in chosen.items():
                h.create_dataset(f"splits/{name}", data=np.array([pos[c] for c in idx], np.int64))
            h.attrs["info"] = json.dumps({"prepared": src_path, "grid_dir": str(grid_dir.resolve()), "face_size": int(face_size),
                                          "scale": float(scale), "frames_per_video_frame": int(k),
                                          "prepare_config": manifest.get("config")})
    log.info("face dataset: %d clips, %d px faces -> %s", len(clips), face_size, target)
    return target


class FaceData:
    """A ``faces.h5`` in memory (one split or several).

    Attributes
    ----------
    faces : ndarray, uint8, shape (N, T, S, S, 3)
    spec : ndarray, float32, shape (N, T * k, F)
    ids, speakers : ndarray of str
    info : dict
        ``face_size``, ``scale``, ``frames_per_video_frame``, ``prepared``, ``grid_dir``.
    """

    def __init__(self, path, split: str | None = None, *, max_clips: int | None = None):
        import h5py

        path = _faces_file(path)
        if not path.is_file():
            raise FileNotFoundError(f"no face dataset at {path} (build it with build_face_dataset / train-lipsync --prepared)")
        try:
            with h5py.File(path, "r") as h:
                self.info = json.loads(h.attrs["info"])
                if split is None:
                    idx = np.arange(h["faces"].shape[0])
                else:
                    if f"splits/{split}" not in h:
                        have = sorted(h["splits"].keys()) if "splits" in h else []
                        raise DataError(f"{path} has no split {split!r} (has {have})")
                    idx = np.sort(h[f"splits/{split}"][:])
                idx = idx if max_clips is None else idx[:max_clips]
                # one chunk (clip) at a time: h5py's fancy indexing over gzip chunks is very slow
                self.faces = np.stack([h["faces"][i] for i in idx]) if len(idx) else np.zeros((0,) + h["faces"].shape[1:], np.uint8)
                spec, boxes = h["spec"][:], h["boxes"][:]
                self.spec = spec[idx].astype(np.float32)
                self.boxes = boxes[idx]
                self.ids = np.array([s.decode() if isinstance(s, bytes) else s for s in h["ids"][idx]])
                self.speakers = np.array([s.decode() if isinstance(s, bytes) else s for s in h["speakers"][idx]])
        except (OSError, KeyError) as exc:
            raise DataError(f"{path} is not a complete face dataset ({type(exc).__name__}: {exc})") from None
        self.path = path
        self.k = int(self.info["frames_per_video_frame"])

    def __len__(self) -> int:
        return len(self.faces)

    @classmethod
    def union(cls, parts) -> "FaceData":
        """One :class:`FaceData` holding the clips of several (same face size, frames and audio channels),
        e.g. the synthetic corpus and real GRID s1 together."""
        parts = list(parts)
        if not parts:
            raise ParameterError("FaceData.union needs at least one part")
        shapes = {(p.faces.shape[1:], p.spec.shape[1:], p.k) for p in parts}
        if len(shapes) > 1:
            raise DataError(f"face datasets differ in frames, face size or audio features: {sorted(map(str, shapes))}")
        if len(parts) == 1:
            return parts[0]
        out = object.__new__(cls)
        out.info = dict(parts[0].info, parts=[p.info for p in parts])
        for name in ("faces", "spec", "boxes", "ids", "speakers"):
            setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
        out.path, out.k = parts[0].path, parts[0].k
        return out


def load_faces(paths, split: str | None = None, *, max_clips: int | None = None) -> FaceData:
    """:class:`FaceData` of one face dataset or the union of several (``max_clips`` per dataset)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return FaceData.union(FaceData(p, split, max_clips=max_clips) for p in paths)


def frame_audio_windows(spec, *, n_frames: int, k: int = 4, frames: int = 20) -> np.ndarray:
    """For every video frame, ``frames`` feature frames centred on it (zero-padded at the ends).

    Parameters
    ----------
    spec : ndarray, shape (n_frames * k, F)
        Features on the video's time grid (video frame ``t`` covers rows ``k t .. k t + k - 1``).
    n_frames : int
    k : int
        Feature frames per video frame.
    frames : int
        Window length (20 = 0.2 s of 10 ms frames).

    Returns
    -------
    ndarray, float32, shape (n_frames, frames, F)

    Examples
    --------
    >>> frame_audio_windows(np.arange(12.0)[:, None], n_frames=3, k=4, frames=4)[:, :, 0].tolist()
    [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]
    """
    spec = np.asarray(spec, np.float32)
    if spec.ndim != 2 or spec.shape[0] < n_frames * k:
        raise ParameterError(f"spec must have shape ({n_frames * k}, F) for {n_frames} frames, got {spec.shape}")
    half = frames // 2
    pad = np.pad(spec[: n_frames * k], ((half, half + k), (0, 0)))
    centre = k * np.arange(n_frames) + k // 2 + half  # index in pad of each frame's centre
    idx = centre[:, None] - half + np.arange(frames)[None, :]
    return pad[idx]


def to_generator_inputs(target, reference) -> np.ndarray:
    """``(…, S, S, 3)`` uint8 target and reference frames -> ``(…, S, S, 6)`` float32 in [0, 1], the
    target's lower half zeroed."""
    t = np.asarray(target, np.float32) / 255.0
    r = np.asarray(reference, np.float32) / 255.0
    t[..., t.shape[-3] // 2:, :, :] = 0.0
    return np.concatenate([t, r], axis=-1)


class FaceWindows:
    """Draws Wav2Lip training examples from a :class:`FaceData`.

    Parameters
    ----------
    data : FaceData
    window : int
        Frames per example (5).
    audio_frames : int
        Feature frames of each frame's speech window (20).
    """

    def __init__(self, data: FaceData, *, window: int = 5, audio_frames: int = 20):
        if len(data) == 0:
            raise DataError(f"no clips in {data.path}")
        self.data, self.window, self.audio_frames = data, int(window), int(audio_frames)
        self.n_frames = data.faces.shape[1]
        if self.n_frames < 2 * self.window:
            raise DataError(f"clips of {self.n_frames} frames are too short for two windows of {self.window}")
        k = data.k
        self.frame_audio = [frame_audio_windows(s, n_frames=self.n_frames, k=k, frames=audio_frames) for s in data.spec]

    def draw(self, n: int, rng) -> tuple:
        """``n`` examples: ``((faces (n, w, S, S, 6), audio (n, w, A, F), expert_audio (n, w k, F)), target (n, w, S, S, 3))``."""
        w, T, k = self.window, self.n_frames, self.data.k
        clips = rng.integers(0, len(self.data), n)
        starts = rng.integers(0, T - w + 1, n)
        refs = []
        for s in starts:
            choices = np.concatenate([np.arange(0, max(0, s - w + 1)), np.arange(min(T - w + 1, s + w), T - w + 1)])
            refs.append(int(choices[rng.integers(0, len(choices))]))
        tgt = np.stack([self.data.faces[c, s: s + w] for c, s in zip(clips, starts)])
        ref = np.stack([self.data.faces[c, r: r + w] for c, r in zip(clips, refs)])
        faces = to_generator_inputs(tgt, ref)
        audio = np.stack([self.frame_audio[c][s: s + w] for c, s in zip(clips, starts)])
        expert = np.stack([self.data.spec[c][k * s: k * (s + w)] for c, s in zip(clips, starts)])
        return (faces, audio, expert), tgt.astype(np.float32) / 255.0


def face_window_dataset(windows: FaceWindows, *, batch_size: int, n_batches: int, shuffle: bool, seed: int = 0,
                        counter: EpochCounter | None = None):
    """tf.data batches of :meth:`FaceWindows.draw`: new examples every epoch with ``shuffle`` (drawn from
    ``(seed, epoch)``), the same ones every epoch without (validation).

    Returns
    -------
    (tf.data.Dataset, int)
        The dataset and its batches per epoch.
    """
    import tensorflow as tf

    counter = counter or EpochCounter()
    w, A = windows.window, windows.audio_frames
    S = windows.data.faces.shape[2]
    F = windows.data.spec.shape[-1]
    k = windows.data.k
    fixed = None if shuffle else [windows.draw(batch_size, np.random.default_rng([seed, 7, i])) for i in range(n_batches)]

    def gen():
        if fixed is not None:
            yield from fixed
            return
        rng = np.random.default_rng([seed, counter.epoch, 5])
        for _ in range(n_batches):
            yield windows.draw(batch_size, rng)

    sig = ((tf.TensorSpec((None, w, S, S, 6), tf.float32), tf.TensorSpec((None, w, A, F), tf.float32),
            tf.TensorSpec((None, w * k, F), tf.float32)), tf.TensorSpec((None, w, S, S, 3), tf.float32))
    ds = tf.data.Dataset.from_generator(gen, output_signature=sig)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    return ds.prefetch(2), n_batches

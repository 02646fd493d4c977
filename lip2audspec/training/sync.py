"""Training the SyncNet lip-sync expert on prepared datasets: in-sync vs off-sync (video, audio) pairs.

Every example is a 5-frame window of mouth crops and 0.2 s of audio features:

* **positive** (label 1, half the examples): the audio of the same 0.2 s;
* **negative** (label 0): the same clip's audio shifted by ``d`` video frames, ``min_shift <= |d| <=
  max_shift`` (the hard case: same speaker, same words, wrong time), or with probability
  ``p_other_clip`` the audio at the same time of another clip.

The loss is Wav2Lip's cosine-BCE (:func:`lip2audspec.models.syncnet.sync_bce_loss`). Batches are drawn in
memory from the clips of one or several prepared datasets (e.g. the synthetic corpus and real GRID s1)
with a ``(seed, epoch)`` generator, so a resumed run draws what an uninterrupted one would; validation
pairs are fixed (seeded once). Run folders, checkpoints, resume and callbacks are those of
:mod:`lip2audspec.training.fit`.

MFCC features need the clips' audio, which a prepared dataset does not keep: :func:`add_sync_features`
computes them from the corpus the manifest names and stores them as the derived array ``mfcc``; the
auditory spectrogram is the dataset's own ``spec``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..data.audio_features import FEATURE_KINDS, sync_audio_features
from ..data.dataset import GridDataset, add_dataset_array, dataset_file
from ..data.inputs import resize_crops
from ..errors import DataError, ParameterError
from .config import TrainConfig
from .fit import _fit
from .pipelines import EpochCounter
from .runs import RunDir

__all__ = ["feature_array", "add_sync_features", "SyncPairs", "sync_pair_dataset", "train_syncnet"]

log = logging.getLogger(__name__)


def feature_array(kind: str) -> str:
    """The dataset array holding audio features ``kind``: ``"spec"`` for the auditory spectrogram, else the kind."""
    if kind not in FEATURE_KINDS:
        raise ParameterError(f"audio feature kind must be one of {sorted(FEATURE_KINDS)}, got {kind!r}")
    return "spec" if kind == "audspec" else kind


def add_sync_features(data_path, kind: str = "mfcc", *, grid_dir=None, overwrite: bool = False,
                      progress: bool = False) -> np.ndarray:
    """Compute the audio features ``kind`` of every clip from its source audio and add them to the dataset.

    Parameters
    ----------
    data_path : str or Path
        Prepared folder or ``dataset.h5`` (written to: work on a copy of a shared dataset).
    kind : {"mfcc"}
        ``"audspec"`` needs nothing (the dataset's ``spec``).
    grid_dir : str or Path, optional
        The corpus folder (default: the one recorded in the manifest).
    overwrite : bool
        Replace features already there.

    Returns
    -------
    ndarray, float32, shape (N, T * 4, F)

    Raises
    ------
    DataError
        The corpus is not where the manifest says and ``grid_dir`` is not given, or a clip's audio is unusable.
    """
    from ..corpora.grid import GridLayout
    from ..data.targets import TargetConfig, clip_audio

    if feature_array(kind) == "spec":
        raise ParameterError("the auditory spectrogram is the dataset's own 'spec': nothing to add")
    path = dataset_file(data_path)
    with GridDataset(path) as ds:
        if ds.has(kind) and not overwrite:
            return ds.array(kind, slice(None))
        m, spec = ds.manifest, ds.spec
        speakers, ids = list(ds.clip_speakers), list(ds.ids)
    root = Path(grid_dir or m["source"]["grid_dir"])
    if not root.is_dir():
        raise DataError(f"the corpus {root} of {path} is not there: pass grid_dir (--grid-dir)")
    layout = GridLayout.discover(root)
    tc = TargetConfig.from_dict(spec.prepare["target"]) if spec.prepare.get("target") else TargetConfig()
    n = spec.n_frames
    it = zip(speakers, ids)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(list(it), desc=f"{kind} features", unit="clip")
    feats = []
    for spk, utt in it:
        audio = clip_audio(layout.clip_paths(spk, utt), source=spec.audio_source, n_video_frames=n, config=tc)
        feats.append(sync_audio_features(audio, kind=kind, n_video_frames=n, sr=tc.auditory.sr, fps=tc.fps))
    out = np.stack(feats).astype(np.float32)
    add_dataset_array(path, kind, out, overwrite=overwrite, attrs={"source": str(root), "kind": kind})
    log.info("%s features %s added to %s", kind, out.shape, path)
    return out


class SyncPairs:
    """Clips of one or more prepared datasets held in memory, and the (video, audio, label) pairs drawn from them.

    Parameters
    ----------
    sources : sequence of (path, clip indices)
    kind : {"mfcc", "audspec"}
    crop_size : int
        Crops are resized to it (:func:`~lip2audspec.data.inputs.resize_crops`).
    window : int
        Video frames per window (5).
    k : int
        Audio frames per video frame (4).
    source_weights : sequence of float, optional
        Share of the pairs drawn from each source (normalised); default: in proportion to their clips.
        E.g. ``(3, 1)`` draws a quarter of the pairs from a small synthetic corpus beside real GRID.
    """

    def __init__(self, sources, *, kind: str, crop_size: int, window: int = 5, k: int = 4, source_weights=None):
        self.kind, self.window, self.k = kind, int(window), int(k)
        name = feature_array(kind)
        self.crops, self.feats, source_of = [], [], []
        sources = list(sources)
        if source_weights is not None and (len(source_weights) != len(sources) or min(source_weights) < 0
                                           or sum(source_weights) <= 0):
            raise ParameterError(f"source_weights must give one non-negative weight per dataset ({len(sources)}), "
                                 f"got {source_weights!r}")
        for si, (path, clips) in enumerate(sources):
            clips = np.sort(np.asarray(clips, np.int64))
            if len(clips) == 0:
                continue
            with GridDataset(path) as ds:
                if not ds.has(name):
                    raise DataError(f"{ds.path} has no '{name}' features: run add_sync_features (lip2audspec "
                                    f"train-sync --add-features) first")
                if ds.k != self.k:
                    raise DataError(f"{ds.path} has {ds.k} audio frames per video frame; SyncNet needs {self.k}")
                crops = [resize_crops(c, crop_size) for c in ds.array("crops", clips)]
                feats = ds.array(name, clips).astype(np.float32)
            for c, f in zip(crops, feats):
                if c.shape[0] < self.window or f.shape[0] < c.shape[0] * self.k:
                    continue
                self.crops.append(c)
                self.feats.append(f)
                source_of.append(si)
        if not self.crops:
            raise DataError("no clips to draw sync pairs from (empty splits?)")
        self.n_frames = np.array([c.shape[0] for c in self.crops])
        self.p = None
        if source_weights is not None:
            source_of = np.asarray(source_of)
            counts = np.bincount(source_of, minlength=len(sources)).astype(float)
            w = np.asarray(source_weights, float) / np.sum(source_weights)
            self.p = w[source_of] / counts[source_of]
            self.p /= self.p.sum()

    def __len__(self) -> int:
        return len(self.crops)

    def draw(self, n: int, rng, *, min_shift: int = 2, max_shift: int = 15, p_other_clip: float = 0.25) -> tuple:
        """``n`` pairs: video (n, window, S, S) float32 in [0, 1], audio (n, window * k, F), labels (n,)."""
        w, k = self.window, self.k
        clips = rng.choice(len(self), n, p=self.p) if self.p is not None else rng.integers(0, len(self), n)
        starts = (rng.random(n) * (self.n_frames[clips] - w + 1)).astype(int)
        labels = (rng.random(n) < 0.5).astype(np.float32)
        video = np.stack([self.crops[c][s : s + w] for c, s in zip(clips, starts)]).astype(np.float32) / 255.0
        audio = []
        for c, s, y in zip(clips, starts, labels):
            ac, a_s = c, s
            if not y:
                shifts = [d for d in range(-max_shift, max_shift + 1)
                          if abs(d) >= min_shift and 0 <= s + d <= self.n_frames[c] - w]
                if len(self) > 1 and (not shifts or rng.random() < p_other_clip):
                    ac = (c + 1 + rng.integers(0, len(self) - 1)) % len(self)
                    a_s = min(s, self.n_frames[ac] - w)
                elif shifts:
                    a_s = s + shifts[rng.integers(0, len(shifts))]
                else:  # one short clip alone: no negative can be made; keep it a positive
                    labels[len(audio)] = 1.0
            audio.append(self.feats[ac][k * a_s : k * (a_s + w)])
        return video, np.stack(audio).astype(np.float32), labels


def sync_pair_dataset(pairs: SyncPairs, *, batch_size: int, n_batches: int, shuffle: bool, seed: int = 0,
                      counter: EpochCounter | None = None, min_shift: int = 2, max_shift: int = 15,
                      p_other_clip: float = 0.25):
    """tf.data batches ``((video, audio), labels)`` of :meth:`SyncPairs.draw`.

    With ``shuffle`` the pairs depend on ``(seed, epoch)`` (new pairs every epoch, repeatable on resume);
    without, every epoch yields the same pairs (validation).

    Returns
    -------
    (tf.data.Dataset, int)
        The dataset and its batches per epoch.
    """
    import tensorflow as tf

    counter = counter or EpochCounter()
    w, k = pairs.window, pairs.k
    S = pairs.crops[0].shape[-1]
    F = pairs.feats[0].shape[-1]

    def gen():
        rng = np.random.default_rng([seed, counter.epoch, 3] if shuffle else [seed, 7])
        for _ in range(n_batches):
            v, a, y = pairs.draw(batch_size, rng, min_shift=min_shift, max_shift=max_shift, p_other_clip=p_other_clip)
            yield (v, a), y

    sig = ((tf.TensorSpec((None, w, S, S), tf.float32), tf.TensorSpec((None, w * k, F), tf.float32)),
           tf.TensorSpec((None,), tf.float32))
    ds = tf.data.Dataset.from_generator(gen, output_signature=sig)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    return ds.prefetch(2), n_batches


def _sync_configs(run_dir, resume, preset_name, audio_features, model_config, train_config, data_paths):
    from ..models.syncnet import SYNCNET_PRESETS, SyncNetConfig, syncnet_preset

    if resume:
        run = RunDir(run_dir)
        doc = run.config()
        if doc.get("kind") != "syncnet":
            raise ParameterError(f"{run.path} holds a {doc.get('kind')} run, not a syncnet run")
        model_config = run.model_config()
        saved = run.train_config()
        train_config = saved if train_config is None else train_config.resolved(saved.to_dict())
        data_paths = data_paths or [doc["data"]["path"], *doc.get("extra_data", [])]
    else:
        if preset_name not in SYNCNET_PRESETS:
            raise ParameterError(f"unknown SyncNet preset {preset_name!r}; expected one of {sorted(SYNCNET_PRESETS)}")
        if model_config is None:
            model_config = syncnet_preset(preset_name, audio_features=audio_features)
        train_config = (train_config or TrainConfig()).resolved(SYNCNET_PRESETS[preset_name]["training"])
    if not isinstance(model_config, SyncNetConfig):
        raise ParameterError(f"model_config must be a SyncNetConfig, got {type(model_config).__name__}")
    if isinstance(data_paths, (str, Path)):
        data_paths = [data_paths]
    if not data_paths:
        raise ParameterError("at least one prepared dataset is required for a new run")
    return model_config, train_config, [dataset_file(p) for p in data_paths]


def train_syncnet(data_paths, run_dir, *, preset: str = "small", audio_features: str | None = None, model_config=None,
                  train_config: TrainConfig | None = None, resume: bool = False, overwrite: bool = False,
                  val_pairs: int = 1024, source_weights=None) -> dict:
    """Train (or resume) the SyncNet lip-sync expert on one or more prepared datasets.

    Parameters
    ----------
    data_paths : str, Path or sequence of them
        Prepared folders or ``dataset.h5`` files; training pairs come from the union of their
        ``train_split`` clips, validation pairs from their ``val_split`` clips. With ``resume``, may be None.
    run_dir : str or Path
        Run folder (``config.json`` records every dataset: ``data.path`` and ``extra_data``).
    preset : {"small", "paper"}
    audio_features : {"mfcc", "audspec"}, optional
        Default: the preset's (MFCC). MFCC needs :func:`add_sync_features` on every dataset first.
    model_config : SyncNetConfig, optional
        Overrides ``preset`` / ``audio_features``.
    train_config : TrainConfig, optional
        ``steps_per_epoch`` sets the batches per epoch (default: windows of the training clips / batch).
    resume, overwrite
        As :func:`lip2audspec.training.train_lipnet`.
    val_pairs : int
        Fixed validation pairs (half in sync).
    source_weights : sequence of float, optional
        Share of the training pairs drawn from each dataset (:class:`SyncPairs`); default: by clip count.
        Recorded in the run (a resumed run keeps it).

    Returns
    -------
    dict
        As :func:`lip2audspec.training.train_lipnet` (``samples_per_second`` counts pairs).
    """
    from ..models.syncnet import build_syncnet

    model_config, train_config, paths = _sync_configs(run_dir, resume, preset, audio_features, model_config,
                                                      train_config, data_paths)
    if resume:
        source_weights = RunDir(run_dir).config().get("source_weights")
    with GridDataset(paths[0]) as ds:
        spec = ds.spec
    kind, S = model_config.audio_features, model_config.crop_size

    def make_datasets(batch, counter):
        tr_src, va_src = [], []
        for p in paths:
            with GridDataset(p) as ds:
                tr = ds.split(train_config.train_split)
                tr_src.append((p, tr if train_config.max_train_clips is None else tr[: train_config.max_train_clips]))
                va_src.append((p, ds.split(train_config.val_split)))
        train_pairs = SyncPairs(tr_src, kind=kind, crop_size=S, window=model_config.window,
                                k=model_config.frames_per_video_frame, source_weights=source_weights)
        val = SyncPairs(va_src, kind=kind, crop_size=S, window=model_config.window, k=model_config.frames_per_video_frame)
        n_windows = int(np.sum(train_pairs.n_frames - model_config.window + 1))
        steps = train_config.steps_per_epoch or max(1, n_windows // batch)
        train, _ = sync_pair_dataset(train_pairs, batch_size=batch, n_batches=steps, shuffle=True, seed=train_config.seed,
                                     counter=counter)
        va, _ = sync_pair_dataset(val, batch_size=batch, n_batches=max(1, val_pairs // batch), shuffle=False,
                                  seed=train_config.seed)
        log.info("sync pairs: %d training clips (%d windows), %d validation clips; %d steps per epoch",
                 len(train_pairs), n_windows, len(val), steps)
        return (train, va), steps * batch

    extra = {"extra_data": [str(Path(p).resolve()) for p in paths[1:]], "audio_features": kind,
             "source_weights": None if source_weights is None else [float(w) for w in source_weights]}
    return _fit("syncnet", data_path=paths[0], spec=spec, run_dir=run_dir, model_config=model_config,
                train_config=train_config, resume=resume, overwrite=overwrite, build=build_syncnet,
                make_datasets=make_datasets, extra=extra)

"""Training loops for the autoencoder and the lip network: run folders, resume, callbacks, strategies.

Both follow the same path (:func:`_fit`): build or reload the model inside a ``tf.distribute`` strategy
scope, stream batches from the prepared HDF5 dataset (:mod:`.pipelines`), and train with

* atomic checkpoints every epoch: ``model.keras`` (last, with optimiser state) and ``best.keras``
  (best validation loss), then ``state.json`` (epoch and callback state) — so ``--resume RUN_DIR``
  continues from the last finished epoch with the same learning rate, plateau/early-stopping counters
  and data order;
* ReduceLROnPlateau (lip network: divide by 5 after 4 epochs without validation improvement),
  EarlyStopping, CSV history (appended on resume), TensorBoard, Keras progress bar.

Distribution: ``strategy="mirrored"`` uses all local devices (GPUs, or CPU logical devices, see
:func:`configure_cpu_devices`), ``"multiworker"`` the workers in ``TF_CONFIG``. The batch size in the
training config is per replica: the global batch is ``batch_size * replicas`` and, with ``scale_lr``,
the learning rate is multiplied by ``replicas`` (linear scaling rule).
"""

from __future__ import annotations

import functools
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .. import __version__
from ..data.dataset import GridDataset, add_dataset_array, dataset_file
from ..errors import DataError, ParameterError
from .compat import check_model_fits
from .config import TrainConfig
from .pipelines import EpochCounter, clip_dataset, frame_dataset, window_dataset
from .runs import RunDir

__all__ = ["train_autoencoder", "train_lipnet", "train_sequence", "train_or_resume", "add_bottleneck_targets",
           "init_from_run", "configure_cpu_devices"]

log = logging.getLogger(__name__)


def configure_cpu_devices(n: int) -> None:
    """Split the CPU into ``n`` logical devices (must run before TensorFlow initialises its devices);
    lets ``strategy="mirrored"`` be exercised on a machine without GPUs."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration()] * int(n))


def _strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


@contextmanager
def _log_to(path: Path):
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("lip2audspec")
    root.addHandler(handler)
    old = root.level
    root.setLevel(min(old or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
        handler.close()


def _keras_callbacks():
    import keras

    class AtomicCheckpoint(keras.callbacks.Callback):
        """Save ``model.keras`` every epoch and ``best.keras`` on improvement, each via temp + rename."""

        def __init__(self, run: RunDir, monitor: str = "val_loss"):
            super().__init__()
            self.run, self.monitor, self.best = run, monitor, np.inf

        def _save(self, name: str):
            final = self.run.file(name)
            tmp = final.with_name(f".{final.stem}.tmp.keras")
            self.model.save(tmp)
            os.replace(tmp, final)

        def on_epoch_end(self, epoch, logs=None):
            self._save(RunDir.LAST)
            value = (logs or {}).get(self.monitor)
            if value is not None and value < self.best:
                self.best = float(value)
                self._save(RunDir.BEST)

    class RunState(keras.callbacks.Callback):
        """Tell the data pipeline the epoch; persist and restore the other callbacks' state."""

        FIELDS = ("best", "wait", "cooldown_counter", "stopped_epoch")

        def __init__(self, run: RunDir, counter: EpochCounter, tracked: dict, restore: dict | None):
            super().__init__()
            self.run, self.counter, self.tracked, self.restore = run, counter, tracked, restore

        def on_train_begin(self, logs=None):  # after the tracked callbacks reset themselves
            for name, cb in self.tracked.items():
                for f, v in ((self.restore or {}).get(name) or {}).items():
                    setattr(cb, f, v)

        def on_epoch_begin(self, epoch, logs=None):
            self.counter.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            cbs = {name: {f: _plain(getattr(cb, f)) for f in self.FIELDS if hasattr(cb, f)} for name, cb in self.tracked.items()}
            lr = float(np.asarray(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
            self.run.write_state({"epoch": epoch + 1, "learning_rate": lr, "callbacks": cbs,
                                  "seed_generators": _seed_states(self.model),
                                  "logs": {k: _plain(v) for k, v in (logs or {}).items()}})

    return AtomicCheckpoint, RunState


def _seed_generators(model) -> dict:
    """The model's random-number generators (noise, dropout, augmentation) by layer path."""
    out = {}
    for i, layer in enumerate(model._flatten_layers(include_self=False)):
        sg = getattr(layer, "seed_generator", None)
        if sg is not None:
            out[f"{i}:{layer.name}"] = sg
    return out


def _seed_states(model) -> dict:
    import keras

    return {k: np.asarray(keras.ops.convert_to_numpy(sg.state)).tolist() for k, sg in _seed_generators(model).items()}


def _restore_seed_states(model, states: dict) -> None:
    """Keras saves the generators' seeds but not how far they have advanced; put them back where the
    interrupted run left them, so a resumed run draws the same noise/dropout as an uninterrupted one."""
    for k, sg in _seed_generators(model).items():
        if k in (states or {}):
            sg.state.assign(np.asarray(states[k], dtype=sg.state.dtype))


def _plain(v):
    try:
        return float(v) if not isinstance(v, (int, bool)) else v
    except (TypeError, ValueError):
        return None


def _fit(kind: str, *, data_path, spec, run_dir, model_config, train_config: TrainConfig, resume: bool, overwrite: bool,
         build, make_datasets, extra: dict | None = None, on_model=None, callbacks=None) -> dict:
    """Train (or resume) one run; ``train_config`` is resolved (no None optimiser settings).

    ``on_model(model)``, if given, is called on the built or reloaded model before training (e.g. to attach
    a frozen helper model that is not saved with it). ``callbacks``: extra Keras callbacks of the family
    (run after the checkpoint, before the run state is written)."""
    import keras
    import tensorflow as tf

    run = RunDir(run_dir)
    if train_config.deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.utils.set_random_seed(train_config.seed)
    strategy = _strategy(train_config.strategy)
    replicas = strategy.num_replicas_in_sync
    batch = train_config.batch_size * replicas
    state = run.state() if resume else {"epoch": 0}
    initial_epoch = int(state.get("epoch", 0))
    if not resume:
        run.create({"kind": kind, "model": model_config.to_dict(), "train": train_config.to_dict(),
                    "data": {"path": str(Path(data_path).resolve()), "prepare_config": spec.prepare,
                             "spec": spec.to_json_dict()},
                    "replicas": replicas, "global_batch": batch, "lip2audspec": __version__, **(extra or {})},
                   overwrite=overwrite)
    with _log_to(run.file(RunDir.LOG)):
        log.info("%s %s: %d replica(s), global batch %d, epochs %d..%d", "resuming" if resume else "training", kind,
                 replicas, batch, initial_epoch + 1, train_config.epochs)
        if initial_epoch >= train_config.epochs:
            log.info("nothing to do: %d epochs already done", initial_epoch)
            return {"run": str(run.path), "epochs_done": initial_epoch, "history": [], "replicas": replicas}
        counter = EpochCounter(initial_epoch)
        train_ds, n_train = make_datasets(batch, counter)
        with strategy.scope():
            if resume:
                model = run.load_model("last", compile=True)
                _restore_seed_states(model, state.get("seed_generators"))
            else:
                lr = train_config.learning_rate * (replicas if train_config.scale_lr else 1)
                model = build(model_config).compile_for_training(learning_rate=lr)
            if on_model is not None:
                on_model(model)
        reduce_lr = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=train_config.lr_factor,
                                                      patience=train_config.lr_patience, verbose=1)
        early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=train_config.patience, verbose=1)
        AtomicCheckpoint, RunState = _keras_callbacks()
        ckpt = AtomicCheckpoint(run)
        tracked = {"reduce_lr": reduce_lr, "early_stopping": early, "checkpoint": ckpt}
        extra_callbacks = list(callbacks or [])
        callbacks = [keras.callbacks.CSVLogger(str(run.file(RunDir.HISTORY)), append=resume), reduce_lr, early, ckpt,
                     *extra_callbacks]
        if train_config.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=str(run.file("logs")), write_graph=False))
        callbacks.append(RunState(run, counter, tracked, state.get("callbacks") if resume else None))
        t0 = time.perf_counter()
        hist = model.fit(train_ds[0], validation_data=train_ds[1], epochs=train_config.epochs, initial_epoch=initial_epoch,
                         shuffle=False,  # the pipelines shuffle (seeded, resumable); silences a Keras warning
                         callbacks=callbacks, verbose=train_config.verbose)
        seconds = time.perf_counter() - t0
        epochs_run = len(hist.history.get("loss", []))
        samples = n_train * epochs_run
        log.info("%s: %d epoch(s) in %.1f s (%.1f samples/s); best val_loss %.4f", kind, epochs_run, seconds,
                 samples / max(seconds, 1e-9), ckpt.best)
    history = [{k: float(v[i]) for k, v in hist.history.items()} for i in range(epochs_run)]
    return {"run": str(run.path), "epochs_done": initial_epoch + epochs_run, "history": history, "replicas": replicas,
            "global_batch": batch, "seconds": seconds, "samples_per_second": samples / max(seconds, 1e-9),
            "best_val_loss": ckpt.best}


def _dataset_spec(path):
    with GridDataset(path) as ds:
        return ds.spec


def train_autoencoder(data_path, run_dir, *, preset: str = "small", model_config=None,
                      train_config: TrainConfig | None = None, resume: bool = False, overwrite: bool = False) -> dict:
    """Train the frame-wise autoencoder on a prepared dataset's spectrogram frames.

    Parameters
    ----------
    data_path : str or Path
        Prepared folder or its ``dataset.h5``. With ``resume``, may be None (taken from the run).
    run_dir : str or Path
        Run folder (created; or resumed with ``resume=True``).
    preset : {"small", "paper"}
        Model preset giving the defaults: the model config and the optimiser settings that
        ``train_config`` leaves unset (None).
    model_config : AutoencoderConfig, optional
        Default: the preset's.
    train_config : TrainConfig, optional
    resume : bool
        Continue the run in ``run_dir`` from its last finished epoch (configs come from the run).
    overwrite : bool
        Replace a run already in ``run_dir``.

    Returns
    -------
    dict
        ``run``, ``epochs_done``, ``history`` (per-epoch logs), ``samples_per_second`` (frames/s),
        ``best_val_loss``, ``replicas``, ``global_batch``.
    """
    from ..models import build_autoencoder

    model_config, train_config, path = _configs("autoencoder", run_dir, resume, preset, model_config, train_config,
                                                data_path)
    spec = _dataset_spec(path)
    check_model_fits(spec, model_config)
    make_datasets = _split_datasets(path, train_config, frame_dataset)
    return _fit("autoencoder", data_path=path, spec=spec, run_dir=run_dir, model_config=model_config,
                train_config=train_config, resume=resume, overwrite=overwrite, build=build_autoencoder,
                make_datasets=make_datasets)


def train_lipnet(data_path, run_dir, *, preset: str = "small", model_config=None,
                 train_config: TrainConfig | None = None, autoencoder_run=None, resume: bool = False,
                 overwrite: bool = False) -> dict:
    """Train the lip network on windows of mouth crops -> the autoencoder's bottleneck codes.

    If the dataset has no ``bottleneck`` targets yet, they are computed with the encoder of
    ``autoencoder_run`` (:func:`add_bottleneck_targets`) first. The model is checked against the
    dataset's spec (:func:`~lip2audspec.training.compat.check_model_fits`): crops of another size are
    resized on load; anything that cannot be adapted fails at once with the command that fixes it.

    Parameters
    ----------
    data_path, run_dir, preset, train_config, resume, overwrite
        As :func:`train_autoencoder`.
    model_config : LipNetConfig, optional
        Default: the preset's.
    autoencoder_run : str or Path, optional
        Run folder of a trained autoencoder (needed when the dataset lacks bottleneck targets).

    Returns
    -------
    dict
        As :func:`train_autoencoder` (``samples_per_second`` counts windows).
    """
    from ..models import build_lipnet

    model_config, train_config, path = _configs("lipnet", run_dir, resume, preset, model_config, train_config,
                                                data_path)
    spec = _dataset_spec(path)
    if "bottleneck" not in spec.derived:
        if autoencoder_run is None:
            raise DataError(f"{path} has no bottleneck targets: pass the autoencoder run (--autoencoder RUN_DIR)")
        add_bottleneck_targets(path, autoencoder_run)
        spec = _dataset_spec(path)
    fit = check_model_fits(spec, model_config, target="bottleneck")
    make_datasets = _split_datasets(path, train_config, functools.partial(
        window_dataset, context=model_config.context, window=fit["window"], crop_size=model_config.crop_size))
    extra = {"autoencoder_run": str(Path(autoencoder_run).resolve()) if autoencoder_run else
             spec.derived["bottleneck"].get("autoencoder_run")}
    return _fit("lipnet", data_path=path, spec=spec, run_dir=run_dir, model_config=model_config,
                train_config=train_config, resume=resume, overwrite=overwrite, build=build_lipnet,
                make_datasets=make_datasets, extra=extra)


def train_sequence(data_path, run_dir, *, arch: str = "framesync", preset: str = "small", model_config=None,
                   train_config: TrainConfig | None = None, autoencoder_run=None, init=None, resume: bool = False,
                   overwrite: bool = False) -> dict:
    """Train a whole-clip (sequence) family on a prepared dataset's clips.

    Each training example is a whole clip (:func:`~lip2audspec.training.pipelines.clip_dataset`): all
    its mouth-crop inputs and all its ``k T`` target frames (the compressed spectrogram, or the
    autoencoder's codes when the config's ``target`` is ``"bottleneck"``). Batches count clips.

    Parameters
    ----------
    data_path, run_dir, train_config, resume, overwrite
        As :func:`train_autoencoder`.
    arch : str
        Family name (:data:`lip2audspec.models.FAMILIES`, e.g. ``"framesync"``).
    preset : {"small", "paper"}
        The family's preset (model config and optimiser defaults).
    model_config : config of the family, optional
        Default: the preset's.
    autoencoder_run : str or Path, optional
        Needed for ``target="bottleneck"`` when the dataset has no codes yet; recorded in the run.
    init : str or Path, optional
        Run folder whose ``best.keras`` weights initialise the model (e.g. pretrained on many synthetic
        speakers): every layer whose name and weight shapes match is copied (:func:`init_from_run`).
        Recorded in the run's ``config.json`` (``init_run``); ignored on resume.

    Returns
    -------
    dict
        As :func:`train_autoencoder` (``samples_per_second`` counts clips).
    """
    from ..models.families import family as get_family

    fam = get_family(arch)
    kind = fam.config_class.KIND
    model_config, train_config, path = _configs(kind, run_dir, resume, preset, model_config, train_config, data_path,
                                                family=fam)
    spec = _dataset_spec(path)
    ae = autoencoder_run
    if model_config.target == "bottleneck":
        if "bottleneck" not in spec.derived:
            if autoencoder_run is None:
                raise DataError(f"{path} has no bottleneck targets: pass the autoencoder run (--autoencoder RUN_DIR)")
            add_bottleneck_targets(path, autoencoder_run)
            spec = _dataset_spec(path)
        ae = autoencoder_run or spec.derived["bottleneck"].get("autoencoder_run")
    check_model_fits(spec, model_config)
    make_datasets = _split_datasets(path, train_config, functools.partial(
        clip_dataset, target=model_config.target, crop_size=model_config.crop_size))
    extra = {"arch": arch, "autoencoder_run": str(Path(ae).resolve()) if ae else None,
             "init_run": str(Path(init).resolve()) if init and not resume else None}

    def build(config):
        model = fam.model_class(config)
        if init is not None:
            init_from_run(model, init)
        return model

    res = _fit(kind, data_path=path, spec=spec, run_dir=run_dir, model_config=model_config, train_config=train_config,
               resume=resume, overwrite=overwrite, build=build, make_datasets=make_datasets, extra=extra)
    if "guided_weight" in model_config.to_dict():  # an attention decoder: did it align?
        res["alignment"] = _alignment(RunDir(run_dir))
    return res


def _alignment(run: RunDir) -> dict:
    """Write ``alignment.json`` (:func:`~lip2audspec.models.attention.alignment_report` of the whole
    history) and log whether and when the attention aligned."""
    import csv

    from ..fileio import write_json_atomic
    from ..models.attention import alignment_report

    with open(run.file(RunDir.HISTORY), newline="") as fh:
        rows = list(csv.DictReader(fh))
    report = alignment_report(rows)
    write_json_atomic(run.file("alignment.json"), report)
    (log.info if report["aligned"] else log.warning)("%s: %s", run.path, report["message"])
    return report


def init_from_run(model, run, *, which: str = "best") -> int:
    """Copy the weights of another run's model into ``model`` where layer names and weight shapes match.

    Parameters
    ----------
    model : keras.Model
        A freshly built model.
    run : str or Path
        Run folder (its ``best.keras``, or ``model.keras`` with ``which="last"``).

    Returns
    -------
    int
        Layers copied (each with all its weights).

    Raises
    ------
    ModelError
        No layer of ``run``'s model matches ``model`` (another family or sizes): nothing to start from.
    """
    from ..errors import ModelError

    source = RunDir(run).load_model(which)
    src = {layer.name: layer for layer in source._flatten_layers(include_self=False)}
    copied, skipped = 0, []
    for layer in model._flatten_layers(include_self=False):
        other = src.get(layer.name)
        if other is None or not layer.weights:
            continue
        w = other.get_weights()
        if [tuple(a.shape) for a in w] == [tuple(v.shape) for v in layer.weights]:
            layer.set_weights(w)
            copied += 1
        else:
            skipped.append(layer.name)
    if copied == 0:
        raise ModelError(f"no layer of the model in {run} matches this model (another family or other sizes); "
                         "cannot initialise from it")
    log.info("initialised %d layer(s) from %s%s", copied, run, f"; shapes differ for {skipped}" if skipped else "")
    return copied


def train_or_resume(train_fn, data_path, run_dir, *, train_config: TrainConfig, **kwargs) -> dict:
    """Start a run, or resume it if ``run_dir`` already holds one (a finished run is not retrained).

    Handy in notebooks and demos that are re-run: the first call trains, later calls continue an
    interrupted run up to ``train_config.epochs`` or return at once.

    Parameters
    ----------
    train_fn : callable
        :func:`train_autoencoder` or :func:`train_lipnet`.
    data_path, run_dir
        As for ``train_fn``.
    train_config : TrainConfig
        Settings of a new run; on resume only its ``epochs`` (and verbosity) apply, the run's own
        settings stay.
    **kwargs
        Passed to ``train_fn`` (``model_config`` for a new run, ``autoencoder_run``).

    Returns
    -------
    dict
        ``train_fn``'s summary.
    """
    run = RunDir(run_dir)
    if run.exists and run.file(RunDir.LAST).is_file():
        state = run.state()
        if ((state.get("callbacks") or {}).get("early_stopping") or {}).get("stopped_epoch", 0):
            log.info("%s stopped early at epoch %d; not resumed", run.path, state.get("epoch", 0))
            return {"run": str(run.path), "epochs_done": int(state.get("epoch", 0)), "history": [], "stopped_early": True}
        kwargs.pop("model_config", None)
        tc = run.train_config().replace(epochs=train_config.epochs, verbose=train_config.verbose)
        return train_fn(None, run_dir, resume=True, train_config=tc, **kwargs)
    return train_fn(data_path, run_dir, train_config=train_config, overwrite=True, **kwargs)


def _split_datasets(path, train_config: TrainConfig, make_dataset):
    """``make_datasets(batch, counter)``: shuffled training and ordered validation datasets of the
    configured splits, and the number of training samples per epoch."""

    def make_datasets(batch, counter):
        with GridDataset(path) as ds:
            tr = ds.split(train_config.train_split)
            tr = tr if train_config.max_train_clips is None else tr[: train_config.max_train_clips]
            va = ds.split(train_config.val_split)
        train, n = make_dataset(path, tr, batch_size=batch, shuffle=True, seed=train_config.seed, counter=counter,
                                shuffle_clips=train_config.shuffle_clips, steps=train_config.steps_per_epoch)
        val, _ = make_dataset(path, va, batch_size=batch, shuffle=False)
        return (train, val), min(n, train_config.steps_per_epoch or n) * batch

    return make_datasets


def _configs(kind, run_dir, resume, preset_name, model_config, train_config, data_path, family=None):
    """The model config, the resolved training config and the dataset file of a new or resumed run
    (``family``: a sequence :class:`~lip2audspec.models.families.Family`, whose presets give the defaults)."""
    from ..models import config_class, preset

    cls = config_class(kind)
    if resume:
        run = RunDir(run_dir)
        doc = run.config()
        if doc.get("kind") != kind:
            raise ParameterError(f"{run.path} holds a {doc.get('kind')} run, not a {kind} run")
        model_config = run.model_config()
        saved = run.train_config()
        train_config = saved if train_config is None else train_config.resolved(saved.to_dict())
        data_path = data_path or doc["data"]["path"]
    elif family is not None:
        model_config = model_config if model_config is not None else family.preset(preset_name)
        train_config = (train_config or TrainConfig()).resolved(family.training[preset_name])
    else:
        p = preset(preset_name)
        model_config = model_config if model_config is not None else getattr(p, kind)
        train_config = (train_config or TrainConfig()).resolved(p.training[kind])
    if not isinstance(model_config, cls):
        raise ParameterError(f"model_config must be a {cls.__name__}, got {type(model_config).__name__}")
    if data_path is None:
        raise ParameterError("data_path is required for a new run")
    return model_config, train_config, dataset_file(data_path)


def add_bottleneck_targets(data_path, autoencoder_run, *, overwrite: bool = False, batch_size: int = 8192) -> np.ndarray:
    """Encode every clip's spectrogram with the autoencoder's encoder and store ``bottleneck`` (N, T*k, D).

    Parameters
    ----------
    data_path : str or Path
        Prepared folder or ``dataset.h5``.
    autoencoder_run : str or Path
        Run folder of a trained autoencoder (its ``best.keras`` is used).
    overwrite : bool
        Replace existing bottleneck targets.

    Returns
    -------
    ndarray, float32, shape (N, T*k, D)
    """
    from ..models import apply_framewise

    path = dataset_file(data_path)
    model = RunDir(autoencoder_run).load_model("best")
    with GridDataset(path) as ds:
        spec = ds.array("spec", slice(None))
    codes = apply_framewise(model.encoder, spec, batch_size=batch_size).astype(np.float32)
    add_dataset_array(path, "bottleneck", codes, overwrite=overwrite, attrs={"autoencoder_run": str(Path(autoencoder_run).resolve())})
    log.info("bottleneck targets %s added to %s", codes.shape, path)
    return codes

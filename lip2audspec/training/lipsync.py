"""Training the Wav2Lip generator (:mod:`lip2audspec.models.wav2lip`) on a face dataset, against a frozen
lip-sync expert.

The run folder, checkpoints, resume and callbacks are those of :mod:`lip2audspec.training.fit`
(``config.json`` with ``kind: "wav2lip"``, the model and training configs, the data, and the expert's run
folder). The expert (a trained SyncNet on the auditory spectrogram, :mod:`lip2audspec.models.syncnet`)
is loaded frozen and attached to the generator for the sync loss; it is not saved in the generator's
``.keras`` files. Without an expert the generator trains on L1 (+ GAN) alone, and the run says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ParameterError
from .config import TrainConfig
from .fit import _fit
from .lipsync_data import FaceWindows, _faces_file, face_window_dataset, load_faces
from .runs import RunDir, load_keras_model

__all__ = ["train_lipsync", "load_expert", "lipsync_run_config"]

log = logging.getLogger(__name__)


def load_expert(run_or_file):
    """A trained SyncNet from its run folder (``best.keras``) or a ``.keras`` file, frozen.

    Raises
    ------
    FileNotFoundError, ModelError
    """
    p = Path(run_or_file)
    model = RunDir(p).load_model("best") if p.is_dir() else load_keras_model(p)
    if not hasattr(model, "video_encoder") or not hasattr(model, "audio_encoder"):
        raise ParameterError(f"{p} does not hold a SyncNet expert (a model with video and audio encoders)")
    model.trainable = False
    return model


def lipsync_run_config(run_dir) -> tuple:
    """``(Wav2LipConfig, TrainConfig, doc)`` of a Wav2Lip run folder."""
    from ..models.wav2lip import Wav2LipConfig

    run = RunDir(run_dir)
    doc = run.config()
    if doc.get("kind") != "wav2lip":
        raise ParameterError(f"{run.path} holds a {doc.get('kind')} run, not a wav2lip run")
    return Wav2LipConfig.from_dict(doc["model"]), TrainConfig.from_dict(doc["train"]), doc


def train_lipsync(faces, run_dir, *, expert_run=None, preset: str = "small", model_config=None,
                  train_config: TrainConfig | None = None, resume: bool = False, overwrite: bool = False,
                  val_batches: int = 8, sync_schedule: dict | None = None) -> dict:
    """Train (or resume) a Wav2Lip generator.

    Parameters
    ----------
    faces : str or Path, or a list of them
        Face dataset(s) (``faces.h5`` or its folder, :func:`~lip2audspec.training.lipsync_data.build_face_dataset`;
        several are pooled, e.g. synthetic + real s1); with ``resume`` may be None (taken from the run).
    run_dir : str or Path
    expert_run : str or Path, optional
        Run folder (or ``.keras``) of the frozen lip-sync expert for the sync loss (an ``audspec`` SyncNet
        with the generator's window). None: no sync loss (logged). On resume: the run's own, unless one is
        given (e.g. a run pre-trained on L1 alone continues with the sync loss, as Wav2Lip switches it on
        late); the change is recorded in ``config.json``.
    preset : {"small", "paper"}
        Model preset and optimiser defaults.
    model_config : Wav2LipConfig, optional
        Default: the preset's (``face_size`` must match the face dataset).
    train_config : TrainConfig, optional
        On resume only its ``epochs``, ``verbose`` and ``steps_per_epoch`` (if set) apply. ``steps_per_epoch`` is the number of batches drawn per epoch (default 100); ``max_train_clips``
        limits the training clips.
    resume, overwrite
        As :func:`~lip2audspec.training.train_lipnet`.
    val_batches : int
        Fixed validation batches.
    sync_schedule : dict, optional
        With ``resume``: a new ``{"sync_start_step": N, "sync_start_below": BCE}`` (either key) for a run
        whose sync loss has not been switched on yet (e.g. when the BCE condition cannot be met); the change
        is recorded in ``config.json`` (``model`` and ``schedule_history``). A new run takes its schedule
        from ``model_config``.

    Returns
    -------
    dict
        The run summary of :func:`~lip2audspec.training.fit._fit` (``history`` with ``l1`` and ``sync``).
    """
    from ..data.dataset import GridDataset
    from ..models.wav2lip import Wav2Lip, Wav2LipConfig, WAV2LIP_PRESETS, wav2lip_preset

    if resume:
        model_config, saved, doc = lipsync_run_config(run_dir)
        if train_config is not None:  # a resumed run keeps its settings; only how long and how loud change
            train_config = saved.replace(epochs=train_config.epochs, verbose=train_config.verbose,
                                         steps_per_epoch=train_config.steps_per_epoch or saved.steps_per_epoch)
        else:
            train_config = saved
        faces = faces or doc.get("faces_paths") or doc["data"]["path"]
        if expert_run is None:
            expert_run = doc.get("expert_run")
        elif str(Path(expert_run).resolve()) != doc.get("expert_run"):
            from ..fileio import write_json_atomic

            log.info("%s: sync expert %s -> %s from epoch %d", run_dir, doc.get("expert_run"), expert_run,
                     RunDir(run_dir).state().get("epoch", 0))
            doc = {**doc, "expert_run": str(Path(expert_run).resolve()),
                   "expert_history": [*doc.get("expert_history", []), {"from_epoch": RunDir(run_dir).state().get("epoch", 0),
                                                                       "expert_run": str(Path(expert_run).resolve())}]}
            write_json_atomic(RunDir(run_dir).file(RunDir.CONFIG), doc)
        if sync_schedule:
            model_config, doc = _change_schedule(RunDir(run_dir), model_config, doc, sync_schedule)
    else:
        if sync_schedule:
            raise ParameterError("sync_schedule changes a resumed run's schedule; a new run takes it from model_config")
        model_config = model_config if model_config is not None else wav2lip_preset(preset)
        train_config = (train_config or TrainConfig(steps_per_epoch=100)).resolved(WAV2LIP_PRESETS[preset]["training"])
        if train_config.steps_per_epoch is None:
            train_config = train_config.replace(steps_per_epoch=100)
    if not isinstance(model_config, Wav2LipConfig):
        raise ParameterError(f"model_config must be a Wav2LipConfig, got {type(model_config).__name__}")
    if faces is None:
        raise ParameterError("faces (the face dataset) is required for a new run")
    paths = [str(_faces_file(f).resolve()) for f in ([faces] if isinstance(faces, (str, Path)) else faces)]
    path = paths[0]
    train = load_faces(paths, train_config.train_split, max_clips=train_config.max_train_clips)
    val = load_faces(paths, train_config.val_split)
    if train.faces.shape[2] != model_config.face_size:
        raise ParameterError(f"the face dataset has {train.faces.shape[2]} px faces; the model wants {model_config.face_size} "
                             f"(build the faces at that size, or set face_size)")
    if train.spec.shape[-1] != model_config.audio_dim:
        raise ParameterError(f"the face dataset has {train.spec.shape[-1]} audio channels; the model wants {model_config.audio_dim}")
    expert = load_expert(expert_run) if expert_run is not None else None
    if expert is None:
        log.warning("no lip-sync expert: the generator trains without the sync loss")
    with GridDataset(train.info["prepared"]) as ds:
        spec = ds.spec
    tw = FaceWindows(train, window=model_config.window, audio_frames=model_config.audio_frames)
    vw = FaceWindows(val, window=model_config.window, audio_frames=model_config.audio_frames)

    def make_datasets(batch, counter):
        tr, n = face_window_dataset(tw, batch_size=batch, n_batches=train_config.steps_per_epoch, shuffle=True,
                                    seed=train_config.seed, counter=counter)
        va, _ = face_window_dataset(vw, batch_size=batch, n_batches=val_batches, shuffle=False, seed=train_config.seed)
        return (tr, va), n * batch

    switch = doc.get("sync_switch") if resume else None

    def attach(model):
        model.attach_expert(expert)
        if switch is not None:  # the schedule already switched the sync loss on: keep it on
            model.switch_sync_on(int(switch["step"]))
        else:  # the run's schedule (config.json; it may have been changed on resume)
            model.apply_sync_schedule(model_config.sync_start_step, model_config.sync_start_below)

    extra = {"faces_paths": paths, "expert_run": str(Path(expert_run).resolve()) if expert_run is not None else None,
             "faces": {k: train.info[k] for k in ("face_size", "scale", "prepared", "grid_dir")}}
    return _fit("wav2lip", data_path=path, spec=spec, run_dir=run_dir, model_config=model_config, train_config=train_config,
                resume=resume, overwrite=overwrite, build=Wav2Lip, make_datasets=make_datasets, extra=extra, on_model=attach,
                callbacks=[_sync_schedule_callback(RunDir(run_dir), model_config, switched=switch is not None,
                                                   has_expert=expert is not None)])


def _change_schedule(run: RunDir, model_config, doc: dict, schedule: dict):
    from ..fileio import write_json_atomic

    unknown = sorted(set(schedule) - {"sync_start_step", "sync_start_below"})
    if unknown:
        raise ParameterError(f"sync_schedule takes sync_start_step and sync_start_below, got {unknown}")
    if doc.get("sync_switch") is not None:
        raise ParameterError(f"{run.path}: the sync loss was already switched on at step {doc['sync_switch']['step']}; "
                             "its schedule can no longer change")
    new = model_config.replace(**schedule)
    if new == model_config:
        return model_config, doc
    epoch = run.state().get("epoch", 0)
    log.info("%s: sync schedule %s from epoch %d", run.path, schedule, epoch)
    doc = {**doc, "model": new.to_dict(),
           "schedule_history": [*doc.get("schedule_history", []),
                                {"from_epoch": epoch, "sync_start_step": new.sync_start_step,
                                 "sync_start_below": new.sync_start_below,
                                 "was": {"sync_start_step": model_config.sync_start_step,
                                         "sync_start_below": model_config.sync_start_below}}]}
    write_json_atomic(run.file(RunDir.CONFIG), doc)
    return new, doc


def _sync_schedule_callback(run: RunDir, config, *, switched: bool, has_expert: bool):
    """Keras callback of the sync-loss schedule (:class:`~lip2audspec.models.wav2lip.Wav2LipConfig`
    ``sync_start_step`` / ``sync_start_below``): at the end of each epoch, once the optimiser step has
    reached ``sync_start_step`` and (if set) ``val_sync < sync_start_below``, switch the sync loss on and
    record ``sync_switch`` (the epoch at whose end it was decided, the optimiser step from which the loss
    counts, val_sync, val_l1_lower) in the run's ``config.json``."""
    import keras

    from ..fileio import write_json_atomic

    class SyncSchedule(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.switched = switched
            self.first_step = 0

        def on_train_begin(self, logs=None):
            self.first_step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

        def on_epoch_end(self, epoch, logs=None):
            if self.switched or not has_expert or config.sync_weight <= 0:
                return
            logs = logs or {}
            step = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            val_sync = logs.get("val_sync")
            if step < config.sync_start_step:
                return
            if config.sync_start_below > 0 and not (val_sync is not None and val_sync < config.sync_start_below):
                return
            if config.sync_start_below > 0:
                self.model.switch_sync_on(step)
            # (without a BCE condition the switch is the schedule's step, already in the graph)
            self.switched = True
            first = max(self.model.sync_from_step, self.first_step)  # the first step this run trained with it
            record = {"epoch": epoch + 1, "step": first,
                      "val_sync": None if val_sync is None else float(val_sync),
                      "val_l1_lower": None if logs.get("val_l1_lower") is None else float(logs["val_l1_lower"])}
            log.info("%s: sync loss switched on from step %d (decided at the end of epoch %d, val_sync %s)", run.path, first,
                     epoch + 1, val_sync)
            write_json_atomic(run.file(RunDir.CONFIG), {**run.config(), "sync_switch": record})

    return SyncSchedule()

"""Run folders: everything a training run needs to be inspected, reloaded and resumed.

::

    RUN/
      config.json   schema, kind, model config, training config (resolved), dataset spec, versions
      model.keras   the model after the last finished epoch (with optimiser state)
      best.keras    the model with the best validation loss so far
      history.csv   one row per epoch (Keras CSVLogger, appended on resume)
      state.json    last finished epoch and the callbacks' state (best, waits, learning rate)
      train.log     log messages
      logs/         TensorBoard
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ..errors import DataError, ModelError, ParameterError
from ..fileio import write_json_atomic
from ..models.config import split_optimizer_settings

__all__ = ["RunDir", "RUN_SCHEMA", "migrate_run_config", "load_keras_model"]

log = logging.getLogger(__name__)

#: layout version of a run folder's config.json (1: lip2audspec 0.1.0, optimiser settings in the model config)
RUN_SCHEMA = 2

# what the training code of schema 1 used when neither config set the learning-rate schedule
_V1_SCHEDULE = {"lr_factor": 0.2, "lr_patience": 4}


def migrate_run_config(doc: dict) -> dict:
    """Bring a run folder's ``config.json`` document to the current :data:`RUN_SCHEMA`.

    Schema 1 (lip2audspec 0.1.0) kept ``learning_rate``, ``batch_size``, ``lr_factor`` and
    ``lr_patience`` in the model config, with ``None`` in the training config meaning "the model's":
    they move into the training config (where it had None), and the schedule's implicit defaults
    (factor 0.2, patience 4) become explicit. The file itself is not rewritten.

    Raises
    ------
    ParameterError
        A schema newer than this version of lip2audspec knows.
    """
    schema = doc.get("schema", 1)
    if not isinstance(schema, int) or schema > RUN_SCHEMA:
        raise ParameterError(f"run config schema {schema!r} is newer than this lip2audspec reads ({RUN_SCHEMA}): "
                             "upgrade lip2audspec")
    if schema == 1:
        model, moved = split_optimizer_settings(doc.get("model") or {})
        train = dict(doc.get("train") or {})
        for k, v in {**_V1_SCHEDULE, **moved}.items():
            if train.get(k) is None:
                train[k] = v
        doc = {**doc, "schema": RUN_SCHEMA, "model": model, "train": train}
    return doc


class RunDir:
    """A training run folder.

    Parameters
    ----------
    path : str or Path
    """

    CONFIG = "config.json"
    LAST = "model.keras"
    BEST = "best.keras"
    HISTORY = "history.csv"
    STATE = "state.json"
    LOG = "train.log"

    def __init__(self, path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def exists(self) -> bool:
        return self.file(self.CONFIG).is_file()

    def create(self, config: dict, *, overwrite: bool = False) -> "RunDir":
        """Start a new run: write ``config.json``. Refuses a folder that already holds a run."""
        if self.exists and not overwrite:
            raise ParameterError(f"{self.path} already holds a run; resume it (--resume {self.path}) or choose another folder")
        self.path.mkdir(parents=True, exist_ok=True)
        for name in (self.LAST, self.BEST, self.HISTORY, self.STATE):
            self.file(name).unlink(missing_ok=True)
        write_json_atomic(self.file(self.CONFIG), {"schema": RUN_SCHEMA, **config})
        return self

    def config(self) -> dict:
        """The run's ``config.json``, migrated to the current schema (:func:`migrate_run_config`)."""
        if not self.exists:
            raise FileNotFoundError(f"no run at {self.path} (no {self.CONFIG})")
        try:
            doc = json.loads(self.file(self.CONFIG).read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{self.file(self.CONFIG)} is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise DataError(f"{self.file(self.CONFIG)} does not hold a run configuration")
        return migrate_run_config(doc)

    def train_config(self):
        """The run's :class:`~lip2audspec.training.TrainConfig`."""
        from .config import TrainConfig

        return TrainConfig.from_dict(self.config()["train"])

    def model_config(self):
        """The run's model configuration (the config class of its ``kind``)."""
        from ..models import config_class

        doc = self.config()
        return config_class(doc.get("kind")).from_dict(doc["model"])

    def state(self) -> dict:
        p = self.file(self.STATE)
        return json.loads(p.read_text()) if p.is_file() else {"epoch": 0}

    def write_state(self, state: dict) -> None:
        write_json_atomic(self.file(self.STATE), state)

    def model_path(self, which: str = "best") -> Path:
        """``best.keras`` (default) or ``model.keras`` (``which="last"``); raises if missing."""
        name = {"best": self.BEST, "last": self.LAST}.get(which)
        if name is None:
            raise ParameterError(f"which must be 'best' or 'last', got {which!r}")
        p = self.file(name)
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found: has the run finished an epoch?")
        return p

    def load_model(self, which: str = "best", *, compile: bool = False):
        """Load ``best.keras`` / ``model.keras`` with :func:`load_keras_model`."""
        return load_keras_model(self.model_path(which), compile=compile)

    def __repr__(self):
        return f"RunDir({str(self.path)!r})"


def load_keras_model(path, *, compile: bool = False):
    """Load a ``.keras`` file saved by lip2audspec (its custom layers are registered first).

    Parameters
    ----------
    path : str or Path
    compile : bool
        Restore the optimiser and loss too (to resume training).

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelError
        The file exists but Keras cannot load it (truncated, not a ``.keras`` archive, saved by an
        incompatible version, unknown layers); the message is one short line, the Keras error is chained.
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    from .. import models  # noqa: F401  (registers the custom objects)
    import keras

    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as exc:
        if not zipfile.is_zipfile(path):  # Keras then says "File not found", which misleads
            reason = "not a complete .keras (zip) archive"
        else:
            lines = str(exc).strip().splitlines()
            reason = f"{type(exc).__name__}: {lines[0][:200] if lines else ''}".rstrip(": ")
        raise ModelError(f"cannot load model from {path}: {reason}; the file may be truncated or written by another "
                         f"version of lip2audspec/Keras (retrain, or copy the run again)") from exc

"""Training settings, optimiser settings included (model configs hold the architecture only)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import Config, check_bool, check_choice, check_int, check_optional_int, check_real
from ..errors import ParameterError
from ..models.config import OPTIMIZER_KEYS

__all__ = ["TrainConfig", "STRATEGIES"]

STRATEGIES = ("default", "mirrored", "multiworker")


@dataclass(frozen=True)
class TrainConfig(Config):
    """How a model is trained.

    Parameters
    ----------
    epochs : int
        Last epoch (training stops earlier on early stopping).
    learning_rate : float, optional
        Adam learning rate (before the replica scaling of ``scale_lr``).
    batch_size : int, optional
        Batch size per replica (autoencoder: frames; lip network: windows); the global batch is
        ``batch_size * replicas`` under a distribution strategy.
    lr_factor, lr_patience : float, int, optional
        Learning-rate schedule (ReduceLROnPlateau on the validation loss): multiply by ``lr_factor`` after
        ``lr_patience`` epochs without improvement (Lip2AudSpec: divide by 5 after 4 epochs).
    patience : int
        Early stopping: epochs without validation improvement (restores nothing; ``best.keras`` keeps
        the best model).
    seed : int
        Seeds weights, data order and augmentation: a run is repeatable.
    strategy : {"default", "mirrored", "multiworker"}
        ``tf.distribute`` strategy: one device; all local devices (GPUs, or logical CPU devices);
        several workers described by ``TF_CONFIG``.
    scale_lr : bool
        Multiply the learning rate by the number of replicas (linear scaling rule, with the global
        batch growing by the same factor).
    shuffle_clips : int
        Clips whose frames/windows are shuffled together (the shuffle buffer, in clips).
    train_split, val_split : str
        Dataset splits (``seen/train``, ``seen/val``).
    max_train_clips : int, optional
        Use at most this many training clips (quick experiments).
    steps_per_epoch : int, optional
        Cap on batches per epoch.
    verbose : int or "auto"
        Keras progress output (1: progress bar, 2: one line per epoch).
    deterministic : bool
        ``tf.config.experimental.enable_op_determinism()``: bit-repeatable runs (slower).
    tensorboard : bool
        Write TensorBoard logs to ``RUN/logs``.

    Notes
    -----
    The optimiser settings (:data:`lip2audspec.models.config.OPTIMIZER_KEYS`) default to None, which the training functions
    replace by the model preset's values for the family (:meth:`resolved`; e.g. the ``small`` preset's
    learning rate 1e-3, batch 128 frames for the autoencoder and 32 windows for the lip network). A run
    folder records the resolved values, so it resumes exactly.

    Schema 2 (lip2audspec 0.2): the optimiser settings moved here from the model configs; files of
    schema 1 are migrated (``None`` kept for what the model config then held; see
    :func:`lip2audspec.training.runs.migrate_run_config`).

    Examples
    --------
    >>> tc = TrainConfig(epochs=5).resolved({"learning_rate": 1e-3, "batch_size": 128})
    >>> tc.learning_rate, tc.batch_size, tc.lr_factor
    (0.001, 128, None)
    """

    SCHEMA_VERSION = 2

    epochs: int = 30
    learning_rate: float | None = None
    batch_size: int | None = None
    lr_factor: float | None = None
    lr_patience: int | None = None
    patience: int = 10
    seed: int = 0
    strategy: str = "default"
    scale_lr: bool = True
    shuffle_clips: int = 32
    train_split: str = "seen/train"
    val_split: str = "seen/val"
    max_train_clips: int | None = None
    steps_per_epoch: int | None = None
    verbose: int | str = "auto"
    deterministic: bool = False
    tensorboard: bool = True

    def __post_init__(self):
        check_int(self, "epochs")
        check_optional_int(self, "batch_size")
        check_int(self, "patience")
        check_optional_int(self, "lr_patience", lo=0)
        check_int(self, "seed", lo=0)
        check_int(self, "shuffle_clips")
        check_optional_int(self, "max_train_clips")
        check_optional_int(self, "steps_per_epoch")
        if self.learning_rate is not None:
            check_real(self, "learning_rate", lo=0.0, lo_open=True)
        if self.lr_factor is not None:
            check_real(self, "lr_factor", lo=0.0, lo_open=True, hi=1.0, hi_open=True, what=" (learning-rate multiplier)")
        check_choice(self, "strategy", STRATEGIES)
        if self.verbose not in (0, 1, 2, "auto") or isinstance(self.verbose, bool):
            raise ParameterError(f"TrainConfig.verbose must be 0, 1, 2 or 'auto', got {self.verbose!r}")
        for name in ("scale_lr", "deterministic", "tensorboard"):
            check_bool(self, name)
        for name in ("train_split", "val_split"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ParameterError(f"TrainConfig.{name} must be a split name such as 'seen/train', got {getattr(self, name)!r}")

    def resolved(self, defaults) -> "TrainConfig":
        """A copy whose unset (None) optimiser settings take the values in ``defaults``.

        Parameters
        ----------
        defaults : mapping
            Optimiser settings by name (a model preset's ``training[family]``); other keys are ignored.
        """
        changes = {k: defaults[k] for k in OPTIMIZER_KEYS if getattr(self, k) is None and k in defaults}
        return self.replace(**changes) if changes else self

    @classmethod
    def migrate(cls, d: dict, version: int) -> dict:
        # schema 1 had no learning_rate (it lived in the model config): None = take it from elsewhere
        return dict(d)

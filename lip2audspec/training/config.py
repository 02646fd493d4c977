"""Training settings (model architecture and optimiser settings live in the model configs)."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

from ..errors import ParameterError

__all__ = ["TrainConfig", "STRATEGIES"]

STRATEGIES = ("default", "mirrored", "multiworker")


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained.

    Parameters
    ----------
    epochs : int
        Last epoch (training stops earlier on early stopping).
    batch_size : int, optional
        Global batch size; default: the model config's (autoencoder 128 frames, lip network 32 windows),
        times the number of replicas under a distribution strategy.
    patience : int
        Early stopping: epochs without validation improvement (restores nothing; ``best.keras`` keeps
        the best model).
    lr_factor, lr_patience : float, int, optional
        Learning-rate schedule (ReduceLROnPlateau on the validation loss); default: the model
        config's (lip network: divide by 5 after 4 epochs), the autoencoder uses the same defaults.
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
    """

    epochs: int = 30
    batch_size: int | None = None
    patience: int = 10
    lr_factor: float | None = None
    lr_patience: int | None = None
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
        def _int(name, lo, optional=False):
            v = getattr(self, name)
            if optional and v is None:
                return
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
                raise ParameterError(f"TrainConfig.{name} must be an integer >= {lo}{' or None' if optional else ''}, got {v!r}")

        _int("epochs", 1)
        _int("batch_size", 1, optional=True)
        _int("patience", 1)
        _int("lr_patience", 1, optional=True)
        _int("seed", 0)
        _int("shuffle_clips", 1)
        _int("max_train_clips", 1, optional=True)
        _int("steps_per_epoch", 1, optional=True)
        if self.lr_factor is not None and not (isinstance(self.lr_factor, numbers.Real) and 0 < self.lr_factor < 1):
            raise ParameterError(f"TrainConfig.lr_factor must be in (0, 1) or None, got {self.lr_factor!r}")
        if self.strategy not in STRATEGIES:
            raise ParameterError(f"TrainConfig.strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        if self.verbose not in (0, 1, 2, "auto"):
            raise ParameterError(f"TrainConfig.verbose must be 0, 1, 2 or 'auto', got {self.verbose!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ParameterError(f"unknown TrainConfig keys {sorted(unknown)}")
        return cls(**d)

    def replace(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**self.to_dict(), **changes})

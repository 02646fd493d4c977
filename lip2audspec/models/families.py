"""The model families ``train_main --arch`` can train, by name: config class, model class, presets.

====================  ==========  =========================================================================
``--arch``            run kind    model
====================  ==========  =========================================================================
``lip2audspec``       lipnet      the window network of Lip2AudSpec (:class:`~lip2audspec.models.LipNet`),
                                  predicting the autoencoder's codes window by window (the default)
``framesync``         framesync   whole clip, non-autoregressive: 3D-CNN + BiLSTM + upsample x4 + conv
                                  (:class:`~lip2audspec.models.framesync.FrameSync`)
``lip2wav``           lip2wav     3D-CNN encoder + Tacotron-2 location-sensitive attention decoder
                                  (:class:`~lip2audspec.models.lip2wav.Lip2Wav`)
``lipsound2``         lipsound2   3D-CNN + 2 BiLSTMs + location-aware attention decoder with one LSTM
                                  (:class:`~lip2audspec.models.lipsound2.LipSound2`)
====================  ==========  =========================================================================

Every sequence family has a ``paper`` preset (sizes as published, for a GPU) and a ``small`` preset
(trains on 2 CPU cores), as data, plus its optimiser defaults per preset (batch size in clips).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ParameterError
from .framesync import FRAMESYNC_PRESETS, FrameSync, FrameSyncConfig
from .lip2wav import LIP2WAV_PRESETS, Lip2Wav, Lip2WavConfig
from .lipsound2 import LIPSOUND2_PRESETS, LipSound2, LipSound2Config

__all__ = ["Family", "FAMILIES", "ARCHS", "WINDOW_ARCH", "family", "family_of_kind", "lip_run_needs_autoencoder"]

#: the window network's ``--arch`` name (trained by :func:`lip2audspec.training.train_lipnet`)
WINDOW_ARCH = "lip2audspec"


@dataclass(frozen=True)
class Family:
    """A sequence model family.

    Attributes
    ----------
    name : str
        ``--arch`` name (also the run folder's ``kind`` and the config's ``KIND``).
    config_class, model_class : type
    presets : mapping of str to config
        ``paper`` and ``small``.
    training : mapping of str to mapping
        Optimiser defaults per preset (``learning_rate``, ``batch_size`` in clips, ``lr_factor``,
        ``lr_patience``).
    """

    name: str
    config_class: type
    model_class: type
    presets: Mapping
    training: Mapping

    def preset(self, name: str):
        if name not in self.presets:
            raise ParameterError(f"family {self.name!r} has no preset {name!r}; expected one of {sorted(self.presets)}")
        return self.presets[name]


def _training(batch_small: int, batch_paper: int, lr_small: float = 1e-3, lr_paper: float = 1e-3) -> Mapping:
    sched = {"lr_factor": 0.5, "lr_patience": 3}
    return types.MappingProxyType({"small": {"learning_rate": lr_small, "batch_size": batch_small, **sched},
                                   "paper": {"learning_rate": lr_paper, "batch_size": batch_paper, **sched}})


FAMILIES = types.MappingProxyType({
    "framesync": Family("framesync", FrameSyncConfig, FrameSync, FRAMESYNC_PRESETS, _training(16, 16)),
    "lip2wav": Family("lip2wav", Lip2WavConfig, Lip2Wav, LIP2WAV_PRESETS, _training(16, 16)),
    "lipsound2": Family("lipsound2", LipSound2Config, LipSound2, LIPSOUND2_PRESETS, _training(16, 16)),
})

#: every ``--arch`` choice
ARCHS = (WINDOW_ARCH, *FAMILIES)


def family(name: str) -> Family:
    """The sequence family called ``name`` (``ParameterError`` naming the choices otherwise)."""
    if name not in FAMILIES:
        raise ParameterError(f"unknown model family {name!r}; expected one of {list(ARCHS)}")
    return FAMILIES[name]


def family_of_kind(kind: str) -> Family | None:
    """The sequence family whose runs have ``kind`` (None for the window network and the autoencoder)."""
    return next((f for f in FAMILIES.values() if f.config_class.KIND == kind), None)


def lip_run_needs_autoencoder(config: dict, *, source) -> bool:
    """Whether a lip network run predicts the autoencoder's codes (and so needs its autoencoder to reach audio).

    True for the window network (run kind ``lipnet``) and for a sequence family trained with
    ``target="bottleneck"``; False for one that predicts the spectrogram itself.

    Parameters
    ----------
    config : dict
        The run's ``config.json``.
    source
        The run folder, named in the error.

    Raises
    ------
    ParameterError
        The run is not a lip network run (``train_main``), e.g. an autoencoder run.
    """
    kind = config.get("kind")
    if kind != "lipnet" and family_of_kind(kind) is None:
        raise ParameterError(f"{source} is a {kind} run, not a lip network run (train_main)")
    return kind == "lipnet" or (config.get("model") or {}).get("target") == "bottleneck"

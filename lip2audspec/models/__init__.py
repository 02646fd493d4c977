"""Keras 3 models of Lip2AudSpec (H. Akbari, H. Arora, L. Cao, N. Mesgarani, ICASSP 2018).

* :class:`Autoencoder` / :func:`build_autoencoder`: frame-wise auditory-spectrogram autoencoder whose
  sigmoid bottleneck codes are the lip network's targets (``model.encoder``, ``model.decoder``).
* :class:`LipNet` / :func:`build_lipnet`: window of mouth crops ``(window, S, S, 3)`` -> the window's
  codes ``(4 * window, D)``.
* Configurations are frozen dataclasses (:class:`AutoencoderConfig`, :class:`LipNetConfig`) with the
  ``paper`` and ``small`` presets in :data:`PRESETS`.

Importing this package registers the custom Keras objects (package ``"lip2audspec"``), so
``keras.saving.load_model(path)`` works afterwards. The Keras backend defaults to TensorFlow.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .autoencoder import Autoencoder, apply_framewise, build_autoencoder, compile_autoencoder  # noqa: E402
from .config import PRESETS, AutoencoderConfig, LipNetConfig, ModelPreset, load_config, preset  # noqa: E402
from .layers import (  # noqa: E402
    CorrelationMSELoss,
    PearsonCorrelation,
    RandomFlipOrNoise,
    frame_correlation,
    pearson_correlation,
)
from .lipnet import LipNet, build_lipnet, compile_lipnet  # noqa: E402

__all__ = [
    "AutoencoderConfig",
    "LipNetConfig",
    "ModelPreset",
    "PRESETS",
    "preset",
    "load_config",
    "Autoencoder",
    "build_autoencoder",
    "compile_autoencoder",
    "apply_framewise",
    "LipNet",
    "build_lipnet",
    "compile_lipnet",
    "CorrelationMSELoss",
    "PearsonCorrelation",
    "RandomFlipOrNoise",
    "frame_correlation",
    "pearson_correlation",
]

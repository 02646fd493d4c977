"""Keras 3 models of Lip2AudSpec (H. Akbari, H. Arora, L. Cao, N. Mesgarani, ICASSP 2018).

* :class:`Autoencoder` / :func:`build_autoencoder`: frame-wise auditory-spectrogram autoencoder whose
  sigmoid bottleneck codes are the lip network's targets (``model.encoder``, ``model.decoder``).
* :class:`LipNet` / :func:`build_lipnet`: window of mouth crops ``(window, S, S, 3)`` -> the window's
  codes ``(4 * window, D)``.
* :class:`Wav2Lip` / :func:`build_wav2lip`: speech-driven lip generation (Wav2Lip, Prajwal et al. 2020),
  with its ``paper`` / ``small`` presets in :data:`WAV2LIP_PRESETS`.
* Configurations are frozen dataclasses on :class:`lip2audspec.config.Config` (:class:`AutoencoderConfig`,
  :class:`LipNetConfig`) with the ``paper`` and ``small`` presets in :data:`PRESETS` (each preset also
  carries its per-family optimiser defaults as data, :attr:`ModelPreset.training`).
* :class:`SyncNet` / :func:`build_syncnet`: the lip-sync expert (mouth window and audio window ->
  embeddings; :mod:`lip2audspec.models.syncnet`, LSE scores in :mod:`lip2audspec.sync`).
* Whole-clip (sequence) families, chosen by name (``train_main --arch``, :data:`FAMILIES`):
  :class:`FrameSync` (3D-CNN + BiLSTM, non-autoregressive, frame-synchronous).
* :class:`ConfiguredModel`: the base of every model family (config in, ``get_config`` mirrors it,
  ``compile_for_training(learning_rate=...)``, ``infer`` and ``compute_losses`` hooks).

Importing this package registers the custom Keras objects (package ``"lip2audspec"``), so
``keras.saving.load_model(path)`` works afterwards. The Keras backend defaults to TensorFlow.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .autoencoder import Autoencoder, apply_framewise, build_autoencoder  # noqa: E402
from .base import ConfiguredModel  # noqa: E402
from .config import (  # noqa: E402
    OPTIMIZER_KEYS,
    PRESETS,
    AutoencoderConfig,
    LipNetConfig,
    ModelPreset,
    config_class,
    load_config,
    preset,
    split_optimizer_settings,
)
from .layers import (  # noqa: E402
    CorrelationMSELoss,
    PearsonCorrelation,
    RandomFlipOrNoise,
    RandomShift,
    frame_correlation,
    pearson_correlation,
    segment_temporal_correlation,
)
from .lipnet import LipNet, build_lipnet  # noqa: E402
from .wav2lip import WAV2LIP_PRESETS, Wav2Lip, Wav2LipConfig, build_wav2lip, wav2lip_preset  # noqa: E402
from .syncnet import SyncNet, SyncNetConfig, build_syncnet, syncnet_preset  # noqa: E402
from .framesync import FRAMESYNC_PRESETS, FrameSync, FrameSyncConfig  # noqa: E402
from .families import ARCHS, FAMILIES, family  # noqa: E402

__all__ = [
    "config_class",
    "AutoencoderConfig",
    "LipNetConfig",
    "ModelPreset",
    "PRESETS",
    "preset",
    "load_config",
    "OPTIMIZER_KEYS",
    "split_optimizer_settings",
    "ConfiguredModel",
    "Autoencoder",
    "build_autoencoder",
    "apply_framewise",
    "LipNet",
    "build_lipnet",
    "FrameSync",
    "FrameSyncConfig",
    "FRAMESYNC_PRESETS",
    "FAMILIES",
    "ARCHS",
    "family",
    "CorrelationMSELoss",
    "PearsonCorrelation",
    "RandomFlipOrNoise",
    "RandomShift",
    "frame_correlation",
    "pearson_correlation",
    "segment_temporal_correlation",
    "Wav2LipConfig",
    "WAV2LIP_PRESETS",
    "wav2lip_preset",
    "Wav2Lip",
    "build_wav2lip",
    "SyncNet",
    "SyncNetConfig",
    "build_syncnet",
    "syncnet_preset",
]

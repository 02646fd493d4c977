"""Lip2Wav (K R Prajwal, R Mukhopadhyay, V P Namboodiri, C V Jawahar, CVPR 2020) on the shared sequence parts.

3D-CNN face/mouth encoder with residual blocks + BN at 25 fps (:func:`~lip2audspec.models.sequence.visual_front_end`;
Lip2Wav's encoder has no recurrent layer) -> Tacotron-2 location-sensitive attention decoder (prenet
2 x 256, two LSTMs of 1024, attention with cumulative weights, r frames per step, postnet of 5
convolutions; :class:`~lip2audspec.models.attention.AttentionDecoder`), teacher forcing in training,
autoregressive inference. The output length is fixed by the video (k frames per video frame), so there
is no stop token. Lip2Wav trains on the L1/L2 spectrogram losses before and after the postnet; here MSE
before + after, plus the guided attention loss (not in Lip2Wav) so the alignment is found in CPU-sized
budgets.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

from .attention import AttentionConfig, AttentionLipToSpeech

__all__ = ["Lip2WavConfig", "Lip2Wav", "LIP2WAV_PRESETS"]


@dataclass(frozen=True)
class Lip2WavConfig(AttentionConfig):
    """Lip2Wav: the shared :class:`~lip2audspec.models.attention.AttentionConfig` fields, no encoder LSTM.

    Examples
    --------
    >>> LIP2WAV_PRESETS["paper"].decoder_lstm
    (1024, 1024)
    """

    KIND = "lip2wav"


class Lip2Wav(AttentionLipToSpeech):
    """Lip2Wav: ``(B, T, S, S, 3)`` -> ``(B, k T, out_dim)`` (autoregressive; ``compute_losses`` trains it)."""

    config_class = Lip2WavConfig
    default_name = "lip2wav"


LIP2WAV_PRESETS = types.MappingProxyType({
    # Lip2Wav / Tacotron 2 sizes (96 px faces in Lip2Wav; mouth crops here): encoder 3D convs 32-64-128-256
    # with 2 residual blocks each (3x3x3), prenet 256-256, LSTMs 1024-1024, attention 128 with 32 location
    # filters of width 31, r = 2, postnet 5 x 512.
    "paper": Lip2WavConfig(crop_size=96, front_filters=(32, 64, 128, 256), res_blocks=(2, 2, 2, 2), res_kernel=(3, 3, 3),
                           front_units=512, reduction=2, prenet_units=(256, 256), decoder_lstm=(1024, 1024),
                           attention_dim=128, postnet_filters=512),
    # CPU sizes: the framesync small front end, prenet 128-128, LSTMs 256-256, r = 4 (one step per video
    # frame), postnet 5 x 128; a diagonal attention prior of 3 video frames (not in Lip2Wav) so that the
    # alignment is there from the first updates of a CPU-sized budget.
    "small": Lip2WavConfig(crop_size=48, front_filters=(8, 16, 32, 64), res_blocks=(0, 1, 1, 1), res_kernel=(1, 3, 3),
                           front_units=256, reduction=4, prenet_units=(128, 128), decoder_lstm=(256, 256),
                           attention_dim=128, location_kernel=15, postnet_filters=128, attention_prior=3.0),
})

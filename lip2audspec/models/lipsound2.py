"""LipSound2 (L Qu, C Weber, S Wermter, IEEE TNNLS 2023) on the shared sequence parts.

3D-CNN blocks (:func:`~lip2audspec.models.sequence.visual_front_end`) + two BiLSTMs -> location-aware
attention decoder with *one* LSTM (:class:`~lip2audspec.models.attention.AttentionDecoder` with
``decoder_lstm`` of length 1) -> postnet; loss = MSE before + MSE after the postnet (+ the guided
attention loss, not in LipSound2). LipSound2 pretrains self-supervised on unlabelled audio-visual data
and then fine-tunes on the target speaker: ``train_main --arch lipsound2 --init PRETRAINED_RUN``. No stop
token: the output length is fixed by the video (k frames per video frame).
"""

from __future__ import annotations

import types
from dataclasses import dataclass

from .attention import AttentionConfig, AttentionLipToSpeech

__all__ = ["LipSound2Config", "LipSound2", "LIPSOUND2_PRESETS"]


@dataclass(frozen=True)
class LipSound2Config(AttentionConfig):
    """LipSound2: two encoder BiLSTMs and a one-LSTM decoder by default.

    Examples
    --------
    >>> LIPSOUND2_PRESETS["small"].encoder_lstm, LIPSOUND2_PRESETS["small"].decoder_lstm
    ((128, 128), (256,))
    """

    KIND = "lipsound2"

    encoder_lstm: tuple = (256, 256)
    decoder_lstm: tuple = (512,)


class LipSound2(AttentionLipToSpeech):
    """LipSound2: ``(B, T, S, S, 3)`` -> ``(B, k T, out_dim)`` (autoregressive; ``compute_losses`` trains it)."""

    config_class = LipSound2Config
    default_name = "lipsound2"


LIPSOUND2_PRESETS = types.MappingProxyType({
    # GPU sizes: 3D-CNN blocks 32-64-128-256 (2 residual blocks each, 3x3x3), 2 BiLSTMs of 256, one decoder
    # LSTM of 1024, prenet 256-256, r = 2, postnet 5 x 512.
    "paper": LipSound2Config(crop_size=96, front_filters=(32, 64, 128, 256), res_blocks=(2, 2, 2, 2),
                             res_kernel=(3, 3, 3), front_units=512, encoder_lstm=(256, 256), reduction=2,
                             prenet_units=(256, 256), decoder_lstm=(1024,), postnet_filters=512),
    # CPU sizes: the framesync small front end, 2 BiLSTMs of 128, one LSTM of 256, r = 4, postnet 5 x 128,
    # a diagonal attention prior of 3 video frames (not in LipSound2; see attention.py).
    "small": LipSound2Config(crop_size=48, front_filters=(8, 16, 32, 64), res_blocks=(0, 1, 1, 1), res_kernel=(1, 3, 3),
                             front_units=256, encoder_lstm=(128, 128), reduction=4, prenet_units=(128, 128),
                             decoder_lstm=(256,), location_kernel=15, postnet_filters=128, attention_prior=3.0),
})

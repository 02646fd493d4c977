"""Non-autoregressive, frame-synchronous lip-to-speech network: the fast, honest whole-clip baseline.

``(B, T, S, S, 3)`` mouth-crop inputs (25 fps) -> 3D-CNN front end with residual blocks + BN
(:func:`~lip2audspec.models.sequence.visual_front_end`, as Lip2Wav's encoder) -> BiLSTM(s) over the
whole clip -> upsample x k (each video frame's state repeated for its k = 4 spectrogram frames) ->
Conv1D + BN + ReLU layers at the spectrogram rate (100 frames/s, smoothing across the repeats) ->
Dense to ``out_dim`` (128 spectrogram channels, or the autoencoder's codes with ``target="bottleneck"``,
then with a sigmoid). One forward pass predicts the whole clip: no attention, no autoregression, so it
trains in few epochs and infers in milliseconds; its output length is fixed by the video (k T frames).

Loss: Lip2AudSpec's per-frame correlation + MSE (:class:`~lip2audspec.models.layers.CorrelationMSELoss`).
Not a published architecture: the encoder is Lip2Wav's and LipSound2's (3D-CNN + BiLSTMs), the
frame-synchronous head replaces their attention decoders.
"""

from __future__ import annotations

import types
from dataclasses import dataclass

import keras

from ..config import check_int, check_int_tuple, check_real
from .base import ConfiguredModel
from .sequence import SequenceConfig, bilstm_stack, visual_front_end

__all__ = ["FrameSyncConfig", "FrameSync", "FRAMESYNC_PRESETS"]


@dataclass(frozen=True)
class FrameSyncConfig(SequenceConfig):
    """Frame-synchronous head on the shared sequence front end (see :class:`SequenceConfig` for those fields).

    Parameters
    ----------
    lstm_units : tuple of int
        Width of each BiLSTM layer (per direction) at the video rate.
    lstm_dropout : float
        Dropout after each BiLSTM.
    post_filters : tuple of int
        Conv1D layers after the x k upsampling (one width each; may be empty).
    post_kernel : int
        Their kernel in spectrogram frames (5 = 50 ms).

    Examples
    --------
    >>> FrameSyncConfig(crop_size=48).input_shape
    (None, 48, 48, 3)
    """

    KIND = "framesync"

    lstm_units: tuple = (128, 128)
    lstm_dropout: float = 0.2
    post_filters: tuple = (128,)
    post_kernel: int = 5

    def __post_init__(self):
        self._check_sequence()
        check_int_tuple(self, "lstm_units")
        check_int_tuple(self, "post_filters", allow_empty=True)
        check_int(self, "post_kernel")
        check_real(self, "lstm_dropout", hi=1.0, hi_open=True, what=" (a dropout rate)")


def _framesync_graph(c: FrameSyncConfig):
    inp = keras.Input(c.input_shape, name="lip_clip")
    x = visual_front_end(inp, c)
    x = bilstm_stack(x, c.lstm_units, dropout=c.lstm_dropout)
    x = keras.layers.UpSampling1D(c.frames_per_video_frame, name="upsample")(x)
    for i, f in enumerate(c.post_filters, 1):
        x = keras.layers.Conv1D(f, c.post_kernel, padding="same", use_bias=False, kernel_initializer="he_normal",
                                name=f"post{i}_conv")(x)
        x = keras.layers.BatchNormalization(name=f"post{i}_bn")(x)
        x = keras.layers.ReLU(name=f"post{i}_relu")(x)
    act = "sigmoid" if c.target == "bottleneck" else None  # codes lie in (0, 1); spectrograms are linear
    out = keras.layers.Dense(c.out_dim, activation=act, name="target")(x)
    return inp, out


class FrameSync(ConfiguredModel):
    """Functional frame-synchronous network ``(B, T, S, S, 3) -> (B, k T, out_dim)``.

    Parameters
    ----------
    config : FrameSyncConfig or dict
    name : str
        Default ``"framesync"``.

    Examples
    --------
    >>> m = FrameSync(FRAMESYNC_PRESETS["small"]).compile_for_training(learning_rate=1e-3)  # doctest: +SKIP
    >>> m.output_shape  # doctest: +SKIP
    (None, None, 128)
    """

    config_class = FrameSyncConfig
    default_name = "framesync"

    @staticmethod
    def build_graph(config: FrameSyncConfig):
        return _framesync_graph(config)

    def infer(self, inputs, **kwargs):
        """One forward pass as NumPy through a compiled function (reused across calls and clip lengths;
        the eager call is about 100x slower on CPU)."""
        import numpy as np
        import tensorflow as tf

        if getattr(self, "_infer_fn", None) is None:
            self._infer_fn = tf.function(lambda x: self(x, training=False), reduce_retracing=True)
        return np.asarray(self._infer_fn(tf.convert_to_tensor(np.asarray(inputs, np.float32))))


FRAMESYNC_PRESETS = types.MappingProxyType({
    # GPU sizes: Lip2Wav's encoder widths (3D convs 32-64-128-256 with 2 residual blocks each, 3x3x3) and
    # LipSound2's two BiLSTMs of 256 per direction.
    "paper": FrameSyncConfig(crop_size=96, front_filters=(32, 64, 128, 256), res_blocks=(2, 2, 2, 2), res_kernel=(3, 3, 3),
                             front_units=512, lstm_units=(256, 256), post_filters=(256, 256)),
    # CPU sizes (48 px crops): 8-16-32-64 filters, no residual block at 24 px, spatial-only residual
    # convolutions, one BiLSTM layer of 128. A training step of 32 clips took 11 s on 2 shared cores.
    "small": FrameSyncConfig(crop_size=48, front_filters=(8, 16, 32, 64), res_blocks=(0, 1, 1, 1), res_kernel=(1, 3, 3),
                             front_units=256, lstm_units=(128,), post_filters=(128,)),
})

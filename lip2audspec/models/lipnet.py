"""Lip-reading network of Lip2AudSpec (Akbari et al., ICASSP 2018): mouth-crop window -> bottleneck codes.

``(B, window, S, S, 3)`` (frame, 1st and 2nd temporal difference) -> augmentation (training only) ->
Conv3D stack -> per-frame flatten ``(B, window, features)`` -> LSTM -> Dense -> sigmoid codes
``(B, out_frames, out_dim)``: the ``4 * window`` autoencoder codes of the window's 10 ms spectrogram
frames, predicted at once by one Dense layer (as in the authors' code).

Differences from the authors' Keras 2 code, on purpose: their channels-first tensor was reshaped
(not transposed) to ``(time, features)`` before the LSTM, which mixed time and features; here the
per-frame flatten keeps time steps apart. Everything else (layer sizes, initialisers, regularisation,
dropout) follows the ``paper`` preset of :class:`~lip2audspec.models.config.LipNetConfig`.
"""

from __future__ import annotations

import keras

from .base import ConfiguredModel
from .config import LipNetConfig
from .layers import RandomFlipOrNoise

__all__ = ["LipNet", "build_lipnet"]


def _lipnet_graph(c: LipNetConfig):
    inp = keras.Input(c.input_shape, name="lip_window")
    x = RandomFlipOrNoise(c.flip_prob, c.noise_prob, c.noise_std, seed=c.augment_seed, name="augment")(inp)
    n = len(c.conv_filters)
    for i, f in enumerate(c.conv_filters, 1):
        x = keras.layers.Conv3D(
            f, c.conv_kernel, padding="same", kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(c.l2), name=f"conv{i}",
        )(x)
        x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
        if i == n and c.last_conv_activation == "elu":
            x = keras.layers.ELU(name=f"conv{i}_act")(x)
        else:
            x = keras.layers.LeakyReLU(negative_slope=c.leaky_alpha, name=f"conv{i}_act")(x)
        if i in c.pool_after:
            x = keras.layers.MaxPooling3D(pool_size=(1, 2, 2), name=f"conv{i}_pool")(x)
        if i in c.dropout_after:
            x = keras.layers.Dropout(c.conv_dropout, name=f"conv{i}_drop")(x)
    # (B, T, h, w, f) -> (B, T, h*w*f): time stays the sequence axis
    x = keras.layers.TimeDistributed(keras.layers.Flatten(), name="frame_features")(x)
    x = keras.layers.LSTM(c.lstm_units, return_sequences=c.lstm_return_sequences, kernel_initializer="he_normal",
                          name="lstm")(x)
    x = keras.layers.BatchNormalization(name="lstm_bn")(x)
    x = keras.layers.ELU(name="lstm_act")(x)
    x = keras.layers.Dropout(c.lstm_dropout, name="lstm_drop")(x)
    if c.lstm_return_sequences:
        x = keras.layers.Flatten(name="lstm_flat")(x)
    x = keras.layers.Dense(c.dense_units, kernel_initializer="he_normal", name="fc")(x)
    x = keras.layers.BatchNormalization(name="fc_bn")(x)
    x = keras.layers.ELU(name="fc_act")(x)
    x = keras.layers.Dropout(c.dense_dropout, name="fc_drop")(x)
    x = keras.layers.Dense(c.out_frames * c.out_dim, activation="sigmoid", kernel_initializer="he_normal",
                           name="codes_flat")(x)
    out = keras.layers.Reshape((c.out_frames, c.out_dim), name="codes")(x)
    return inp, out


class LipNet(ConfiguredModel):
    """Functional lip network ``(B, window, S, S, channels) -> (B, out_frames, out_dim)`` in (0, 1).

    Construction, ``get_config`` (mirrors the config; older ``.keras`` files are migrated),
    ``compile_for_training`` and ``infer`` come from :class:`~lip2audspec.models.base.ConfiguredModel`.

    Parameters
    ----------
    config : LipNetConfig or dict
        Kept as ``model.config``.
    name : str
        Default ``"lipnet"``.

    Examples
    --------
    >>> m = LipNet(preset("small").lipnet).compile_for_training(learning_rate=1e-3)  # doctest: +SKIP
    >>> m.output_shape  # doctest: +SKIP
    (None, 20, 32)
    """

    config_class = LipNetConfig
    default_name = "lipnet"

    @staticmethod
    def build_graph(config: LipNetConfig):
        return _lipnet_graph(config)


def build_lipnet(config: LipNetConfig | None = None) -> LipNet:
    """Build (not compile) the lip network; ``config`` defaults to the ``paper`` configuration.

    Compile with ``model.compile_for_training(learning_rate=...)``; the learning-rate schedule (divide by
    ``lr_factor`` after ``lr_patience`` epochs without validation improvement) is a callback of the
    training code, with its defaults in ``PRESETS[name].training["lipnet"]``.
    """
    return LipNet(config if config is not None else LipNetConfig())

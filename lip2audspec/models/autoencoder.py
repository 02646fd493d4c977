"""Frame-wise auditory-spectrogram autoencoder of Lip2AudSpec (Akbari et al., ICASSP 2018).

The encoder compresses one 10 ms frame of the compressed auditory spectrogram (128 channels,
``spec ** 0.3``) into a D-dimensional code in (0, 1) (D = 32 in the paper); those codes are the lip
network's targets, and the decoder maps predicted codes back to spectrogram frames.

The model is frame-wise: its input is ``(batch, n_channels)``. Sequences ``(T, n_channels)`` or
``(N, T, n_channels)`` are handled by flattening frames into the batch (see :func:`apply_framewise`);
the training code does the same.
"""

from __future__ import annotations

import keras
import numpy as np

from ..errors import ParameterError
from .base import ConfiguredModel
from .config import AutoencoderConfig

__all__ = ["Autoencoder", "build_autoencoder", "apply_framewise"]


def _dense_block(x, units: int, alpha: float, name: str):
    x = keras.layers.Dense(units, name=f"{name}_dense")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.LeakyReLU(negative_slope=alpha, name=f"{name}_act")(x)


def _build_encoder(c: AutoencoderConfig) -> keras.Model:
    inp = keras.Input((c.n_channels,), name="frames")
    x = inp
    for i, u in enumerate(c.encoder_units, 1):
        x = _dense_block(x, u, c.leaky_alpha, f"enc{i}")
    x = keras.layers.Dense(
        c.bottleneck,
        kernel_regularizer=keras.regularizers.L1L2(l1=c.kernel_l1, l2=c.kernel_l2),
        activity_regularizer=keras.regularizers.L1L2(l1=c.activity_l1, l2=c.activity_l2),
        name="code_dense",
    )(x)
    x = keras.layers.BatchNormalization(name="code_bn")(x)
    code = keras.layers.Activation("sigmoid", name="code")(x)
    return keras.Model(inp, code, name="encoder")


def _build_decoder(c: AutoencoderConfig) -> keras.Model:
    inp = keras.Input((c.bottleneck,), name="codes")
    x = inp
    for i, u in enumerate(c.decoder_units, 1):
        x = _dense_block(x, u, c.leaky_alpha, f"dec{i}")
    out = keras.layers.Dense(c.n_channels, name="spectrogram")(x)
    return keras.Model(inp, out, name="decoder")


class Autoencoder(ConfiguredModel):
    """Functional autoencoder ``frames (B, n_channels) -> reconstruction (B, n_channels)``.

    Graph: ``decoder(GaussianNoise(noise_std)(encoder(frames)))``; the noise is active in training only,
    so at inference ``model(x) == model.decoder(model.encoder(x))``. Construction, ``get_config``
    (mirrors the config; older ``.keras`` files are migrated), ``compile_for_training`` and ``infer``
    come from :class:`~lip2audspec.models.base.ConfiguredModel`.

    Parameters
    ----------
    config : AutoencoderConfig or dict
        Architecture (kept as ``model.config``).
    name : str
        Default ``"autoencoder"``.

    Attributes
    ----------
    encoder : keras.Model
        ``(B, n_channels) -> (B, bottleneck)`` codes in (0, 1); shares its layers with this model.
    decoder : keras.Model
        ``(B, bottleneck) -> (B, n_channels)``; shares its layers with this model.
    config : AutoencoderConfig

    Examples
    --------
    >>> ae = Autoencoder(AutoencoderConfig(encoder_units=(64,), decoder_units=(64,)))  # doctest: +SKIP
    >>> ae.compile_for_training(learning_rate=1e-3).encoder.output_shape  # doctest: +SKIP
    (None, 32)
    """

    config_class = AutoencoderConfig
    default_name = "autoencoder"

    @staticmethod
    def build_graph(config: AutoencoderConfig):
        encoder = _build_encoder(config)
        decoder = _build_decoder(config)
        frames = keras.Input((config.n_channels,), name="spectrogram_frames")
        noisy = keras.layers.GaussianNoise(config.noise_std, name="code_noise")(encoder(frames))
        return frames, decoder(noisy)

    @property
    def encoder(self) -> keras.Model:
        return self.get_layer("encoder")

    @property
    def decoder(self) -> keras.Model:
        return self.get_layer("decoder")


def build_autoencoder(config: AutoencoderConfig | None = None) -> Autoencoder:
    """Build (not compile) the autoencoder; ``config`` defaults to the ``paper`` configuration.

    Compile with ``model.compile_for_training(learning_rate=...)`` (the rate is a training setting).
    """
    return Autoencoder(config if config is not None else AutoencoderConfig())


def apply_framewise(model: keras.Model, x, *, batch_size: int = 4096) -> np.ndarray:
    """Run a frame-wise model (autoencoder, encoder or decoder) on arrays of any leading shape.

    Parameters
    ----------
    model : keras.Model
        Input ``(B, F_in)``, output ``(B, F_out)``.
    x : array_like, shape (..., F_in)
        E.g. a spectrogram (T, 128) or windows (N, 20, 128).
    batch_size : int
        Frames per forward pass.

    Returns
    -------
    ndarray, float32, shape (..., F_out)
        Inference-mode outputs (no noise, BatchNorm moving statistics).
    """
    arr = np.asarray(x, dtype=np.float32)
    f_in = model.input_shape[-1]
    if arr.ndim < 1 or arr.shape[-1] != f_in:
        raise ParameterError(f"apply_framewise: input must have shape (..., {f_in}), got {arr.shape}")
    flat = arr.reshape(-1, f_in)
    if flat.shape[0] == 0:
        return np.zeros(arr.shape[:-1] + (model.output_shape[-1],), np.float32)
    outs = [np.asarray(model(flat[i:i + batch_size], training=False)) for i in range(0, flat.shape[0], batch_size)]
    out = np.concatenate(outs, axis=0)
    return out.reshape(arr.shape[:-1] + (out.shape[-1],)).astype(np.float32, copy=False)

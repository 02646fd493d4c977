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
from .config import AutoencoderConfig
from .layers import CorrelationMSELoss, PearsonCorrelation

__all__ = ["Autoencoder", "build_autoencoder", "compile_autoencoder", "apply_framewise"]


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


@keras.saving.register_keras_serializable(package="lip2audspec")
class Autoencoder(keras.Model):
    """Functional autoencoder ``frames (B, n_channels) -> reconstruction (B, n_channels)``.

    Graph: ``decoder(GaussianNoise(noise_std)(encoder(frames)))``; the noise is active in training only,
    so at inference ``model(x) == model.decoder(model.encoder(x))``.

    Parameters
    ----------
    config : AutoencoderConfig or dict
        Architecture and training settings (kept as ``model.config``; ``get_config`` stores it, so
        ``.keras`` files rebuild the same graph).
    name : str

    Attributes
    ----------
    encoder : keras.Model
        ``(B, n_channels) -> (B, bottleneck)`` codes in (0, 1); shares its layers with this model.
    decoder : keras.Model
        ``(B, bottleneck) -> (B, n_channels)``; shares its layers with this model.
    config : AutoencoderConfig
    """

    def __init__(self, config, name: str = "autoencoder", **kwargs):
        if isinstance(config, dict):
            config = AutoencoderConfig.from_dict(config)
        if not isinstance(config, AutoencoderConfig):
            raise ParameterError(f"Autoencoder needs an AutoencoderConfig, got {type(config).__name__}")
        encoder = _build_encoder(config)
        decoder = _build_decoder(config)
        frames = keras.Input((config.n_channels,), name="spectrogram_frames")
        code = encoder(frames)
        noisy = keras.layers.GaussianNoise(config.noise_std, name="code_noise")(code)
        out = decoder(noisy)
        kwargs.pop("trainable", None)
        super().__init__(inputs=frames, outputs=out, name=name, **kwargs)
        self.config = config

    @property
    def encoder(self) -> keras.Model:
        return self.get_layer("encoder")

    @property
    def decoder(self) -> keras.Model:
        return self.get_layer("decoder")

    def get_config(self):
        return {"name": self.name, "config": self.config.to_dict()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        return cls(AutoencoderConfig.from_dict(config.pop("config")), **config)


def build_autoencoder(config: AutoencoderConfig | None = None) -> Autoencoder:
    """Build (not compile) the autoencoder; ``config`` defaults to the ``paper`` configuration."""
    return Autoencoder(config if config is not None else AutoencoderConfig())


def compile_autoencoder(model: keras.Model, config: AutoencoderConfig | None = None, **compile_kwargs) -> keras.Model:
    """Compile with Adam(``learning_rate``), :class:`CorrelationMSELoss` and correlation / MSE metrics.

    Parameters
    ----------
    model : keras.Model
    config : AutoencoderConfig, optional
        Defaults to ``model.config``.
    **compile_kwargs
        Passed to ``model.compile`` (e.g. ``jit_compile``, ``steps_per_execution``).

    Returns
    -------
    keras.Model
        ``model``, compiled.
    """
    config = config if config is not None else getattr(model, "config", None)
    if not isinstance(config, AutoencoderConfig):
        raise ParameterError("compile_autoencoder needs an AutoencoderConfig (model.config or config=)")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.learning_rate),
        loss=CorrelationMSELoss(corr_weight=config.corr_weight, mse_weight=config.mse_weight),
        metrics=[PearsonCorrelation(), keras.metrics.MeanSquaredError(name="mse")],
        **compile_kwargs,
    )
    return model


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

"""The location-sensitive attention decoder shared by Lip2Wav and LipSound2, its losses and its diagnostics.

Decoder (Tacotron 2: J Shen et al., ICASSP 2018; used by Lip2Wav, K R Prajwal et al., CVPR 2020, and
LipSound2, L Qu, C Weber, S Wermter, IEEE TNNLS 2023): at each step it

1. passes the previous output frame through the *prenet* (Dense + ReLU + dropout, twice; the dropout
   stays on at inference, as in Tacotron 2, unless ``prenet_dropout_at_inference`` is False),
2. runs the *attention LSTM* on [prenet output, previous context],
3. scores every encoder frame with *location-sensitive attention*: ``v^T tanh(W q + V h_j + U f_j)``
   where ``q`` is the attention LSTM's state, ``h_j`` the encoder output and ``f_j`` a convolution of
   the previous and the *cumulative* attention weights (so the alignment moves forward and does not
   attend twice), softmax over the encoder frames -> context vector,
4. runs the remaining *decoder LSTMs* on [attention state, context] and projects [state, context] to
   the next ``r`` target frames (reduction factor ``r``),

and after the last step a *postnet* of 5 Conv1D layers (BN, tanh but the last) adds a residual
correction. Training uses teacher forcing (the true previous frame is fed); inference feeds the
model's own output back (autoregressive decoding).

**No stop token.** The number of output frames is fixed by the video: ``k`` spectrogram frames per
video frame (``k T`` frames, ``k T / r`` decoder steps), so the decoder never has to decide when to
stop; Tacotron 2's stop-token projection is left out.

**Alignment.** Attention decoders are slow to discover their alignment; the alignment between lips and
speech is close to the diagonal (``k`` output frames per video frame), so a *guided attention loss*
(H Tachibana, K Uenoyama, S Aihara, ICASSP 2018) penalises weight far from it:
``mean_n sum_t A[n, t] * (1 - exp(-(t / T - n / N)^2 / (2 g^2)))``, the share of each step's weight that
lies off the diagonal, averaged over steps. (The paper averages over all ``N x T`` cells, which divides
the loss by ``T``: at ``T = 75`` video frames it was ~0.008 next to an MSE of ~1 and never moved the
alignment.) Optionally a static *diagonal prior* (as the alignment priors of K J Shih et al., "RAD-TTS",
2021 and R Badlani et al., "One TTS alignment to rule them all", ICASSP 2022) adds
``-(t - c_n)^2 / (2 s^2)`` to the attention energies, ``c_n`` the diagonal position of step n and ``s``
= ``attention_prior`` video frames, in training and at inference: the attention can still move within a
few frames of the diagonal (lips lead the sound by a frame or two) but cannot wander off it, so the
decoder is aligned from its first updates. :func:`diagonality` measures how much
attention weight lies within a band around the diagonal (logged every epoch as ``diagonality`` /
``val_diagonality``); a run whose validation diagonality never reaches :data:`ALIGNED` is reported as not
aligned (:func:`alignment_report`).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from ..config import check_bool, check_int, check_int_tuple, check_real
from ..errors import ParameterError
from .base import ConfiguredModel
from .sequence import SequenceConfig, bilstm_stack, visual_front_end

__all__ = ["AttentionConfig", "AttentionDecoder", "AttentionLipToSpeech", "guided_attention_weights",
           "guided_attention_loss", "diagonal_log_prior", "diagonality", "alignment_report", "ALIGNED"]

#: validation diagonality from which a decoder counts as aligned
ALIGNED = 0.5


@dataclass(frozen=True)
class AttentionConfig(SequenceConfig):
    """Sequence front end + encoder BiLSTMs + the location-sensitive attention decoder.

    Parameters
    ----------
    encoder_lstm : tuple of int
        BiLSTM widths (per direction) after the front end (may be empty: the front end's features are
        the memory).
    reduction : int
        Output frames per decoder step r (divides ``frames_per_video_frame``).
    prenet_units : tuple of int
        Prenet widths.
    prenet_dropout : float
        Prenet dropout.
    prenet_dropout_at_inference : bool
        Keep the prenet dropout on at inference (Tacotron 2 does: the noise helps the autoregressive
        decoder; the output then varies from call to call unless ``augment_seed`` seeds it).
    decoder_lstm : tuple of int
        Attention LSTM width, then any further decoder LSTM widths.
    attention_dim : int
        Width of the attention's hidden space.
    location_filters, location_kernel : int
        Convolution of the previous and cumulative weights.
    postnet_filters : int
        Width of the postnet's hidden convolutions.
    postnet_layers : int
        Postnet convolutions (5).
    postnet_kernel : int
    guided_weight : float
        Weight of the guided attention loss (0: none).
    guided_sigma : float
        Width g of the guided attention prior (fraction of the sequence).
    attention_prior : float
        Standard deviation, in video frames, of the static diagonal prior added to the attention energies
        (0: none, the published decoders).
    diagonal_band : float
        Half-width of the band counted by :func:`diagonality`, in video frames.
    """

    encoder_lstm: tuple = ()
    reduction: int = 2
    prenet_units: tuple = (128, 128)
    prenet_dropout: float = 0.5
    prenet_dropout_at_inference: bool = True
    decoder_lstm: tuple = (256, 256)
    attention_dim: int = 128
    location_filters: int = 32
    location_kernel: int = 31
    postnet_filters: int = 256
    postnet_layers: int = 5
    postnet_kernel: int = 5
    guided_weight: float = 1.0
    guided_sigma: float = 0.2
    attention_prior: float = 0.0
    diagonal_band: float = 2.0

    def __post_init__(self):
        self._check_sequence()
        check_int_tuple(self, "encoder_lstm", allow_empty=True)
        check_int_tuple(self, "prenet_units")
        check_int_tuple(self, "decoder_lstm")
        for name in ("reduction", "attention_dim", "location_filters", "location_kernel", "postnet_filters",
                     "postnet_layers", "postnet_kernel"):
            check_int(self, name)
        if self.frames_per_video_frame % self.reduction:
            raise ParameterError(f"{type(self).__name__}.reduction={self.reduction} must divide frames_per_video_frame="
                                 f"{self.frames_per_video_frame} (whole decoder steps per video frame)")
        check_real(self, "prenet_dropout", hi=1.0, hi_open=True, what=" (a dropout rate)")
        check_bool(self, "prenet_dropout_at_inference")
        check_real(self, "guided_weight")
        check_real(self, "guided_sigma", lo=0.0, lo_open=True)
        check_real(self, "attention_prior", lo=0.0, what=" (video frames; 0 turns the prior off)")
        check_real(self, "diagonal_band", lo=0.0, lo_open=True)


# ---------------------------------------------------------------------------------------------------------------
def guided_attention_weights(n_out: int, n_in: int, *, sigma: float = 0.2) -> np.ndarray:
    """Penalty matrix of the guided attention loss: ``1 - exp(-(n / N - t / T)^2 / (2 sigma^2))``.

    Parameters
    ----------
    n_out : int
        Decoder steps N.
    n_in : int
        Encoder frames T.
    sigma : float
        Width of the allowed band (fraction of the sequence).

    Returns
    -------
    ndarray, float32, shape (n_out, n_in)
        0 on the diagonal, towards 1 far from it.

    Examples
    --------
    >>> w = guided_attention_weights(4, 4, sigma=0.2)
    >>> float(w[0, 0]), round(float(w[0, 3]), 3)
    (0.0, 0.999)
    """
    if n_out < 1 or n_in < 1:
        raise ParameterError(f"guided_attention_weights needs n_out, n_in >= 1, got {n_out}, {n_in}")
    n = (np.arange(n_out) + 0.5) / n_out
    t = (np.arange(n_in) + 0.5) / n_in
    return (1.0 - np.exp(-((n[:, None] - t[None, :]) ** 2) / (2.0 * sigma ** 2))).astype(np.float32)


def guided_attention_loss(weights, *, sigma: float = 0.2):
    """Off-diagonal share of the attention weight: ``weights * guided_attention_weights`` summed over the
    encoder frames, averaged over steps and batch (a ``keras.ops`` scalar in [0, 1)).

    Summing over the encoder frames (Tachibana et al. average over all cells) keeps the loss's scale
    independent of the clip length: ~0 for a diagonal alignment, about ``mean(guided_attention_weights)``
    for uniform attention, towards 1 for an anti-diagonal one.

    Parameters
    ----------
    weights : tensor, shape (B, N, T)
        Attention weights of N decoder steps over T encoder frames (rows sum to 1).
    sigma : float
        Width g of the band (fraction of the sequence).

    Examples
    --------
    >>> import numpy as np
    >>> round(float(guided_attention_loss(np.eye(4)[None], sigma=0.2)), 3)
    0.0
    >>> round(float(guided_attention_loss(np.eye(4)[::-1][None].copy(), sigma=0.2)), 3)
    0.771
    """
    shape = ops.shape(weights)
    n_out, n_in = shape[1], shape[2]
    n = (ops.cast(ops.arange(n_out), "float32") + 0.5) / ops.cast(n_out, "float32")
    t = (ops.cast(ops.arange(n_in), "float32") + 0.5) / ops.cast(n_in, "float32")
    w = 1.0 - ops.exp(-ops.square(n[:, None] - t[None, :]) / (2.0 * sigma ** 2))
    return ops.mean(ops.sum(ops.cast(weights, "float32") * w[None], axis=-1))


def diagonality(weights, *, band: float = 2.0):
    """Share of attention weight within ``band`` encoder frames of the diagonal (``keras.ops``; NumPy works).

    For decoder step n of N over T encoder frames, the diagonal position is ``(n + 0.5) T / N - 0.5``;
    the score is the weight on frames within ``band`` of it, averaged over steps and batch: 1 for a
    perfectly diagonal alignment, about ``(2 band + 1) / T`` for uniform attention.

    Parameters
    ----------
    weights : tensor or ndarray, shape (B, N, T) or (N, T)
    band : float
        Half-width in encoder frames.

    Returns
    -------
    scalar
        In [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> float(diagonality(np.eye(5)))
    1.0
    >>> round(float(diagonality(np.full((5, 5), 0.2), band=0.5)), 2)
    0.2
    """
    w = ops.convert_to_tensor(weights, dtype="float32")
    if len(w.shape) == 2:
        w = w[None]
    shape = ops.shape(w)
    inside = ops.cast(ops.abs(_off_diagonal(shape[1], shape[2])) <= band, "float32")
    return ops.mean(ops.sum(w * inside[None], axis=-1))


def _off_diagonal(n_out, n_in):
    """``(N, T)`` distance in encoder frames of frame t from step n's diagonal position
    ``(n + 0.5) T / N - 0.5`` (``keras.ops``; the sizes may be symbolic)."""
    centre = (ops.cast(ops.arange(n_out), "float32") + 0.5) * ops.cast(n_in, "float32") / ops.cast(n_out, "float32") - 0.5
    return ops.cast(ops.arange(n_in), "float32")[None, :] - centre[:, None]


def diagonal_log_prior(n_out, n_in, *, sigma: float):
    """Static diagonal attention prior in the log domain: ``-(t - c_n)^2 / (2 sigma^2)``, shape ``(N, T)``.

    Added to the attention energies of decoder step n over encoder frames t (``c_n`` = the step's
    diagonal position, as in :func:`diagonality`); ``sigma`` in encoder (video) frames.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.asarray(diagonal_log_prior(4, 4, sigma=1.0))
    >>> p.shape, bool(p[2, 2] == 0), float(p[2, 0])
    ((4, 4), True, -2.0)
    """
    if not sigma > 0:
        raise ParameterError(f"diagonal_log_prior needs sigma > 0 (video frames), got {sigma!r}")
    return -ops.square(_off_diagonal(n_out, n_in)) / (2.0 * float(sigma) ** 2)


def alignment_report(history, *, threshold: float = ALIGNED) -> dict:
    """When did the attention align? From a run's per-epoch logs (``history.csv`` rows or fit history).

    Parameters
    ----------
    history : list of dict
        One dict per epoch with ``val_diagonality`` (or ``diagonality``).
    threshold : float
        Diagonality from which the decoder counts as aligned.

    Returns
    -------
    dict
        ``aligned`` (bool), ``epoch`` (1-based first aligned epoch or None), ``best`` (highest
        diagonality), ``threshold``, ``message``.

    Examples
    --------
    >>> alignment_report([{"val_diagonality": 0.1}, {"val_diagonality": 0.7}])["epoch"]
    2
    """
    scores = [float(h.get("val_diagonality", h.get("diagonality", "nan"))) for h in history]
    first = next((i + 1 for i, s in enumerate(scores) if s >= threshold), None)
    best = max((s for s in scores if s == s), default=float("nan"))
    msg = (f"attention aligned at epoch {first} (val diagonality >= {threshold:g}; best {best:.3f})" if first else
           f"attention NEVER aligned in {len(scores)} epoch(s) (best val diagonality {best:.3f} < {threshold:g}): "
           "do not use this model")
    return {"aligned": first is not None, "epoch": first, "best": best, "threshold": threshold, "message": msg}


# ---------------------------------------------------------------------------------------------------------------
class AttentionDecoder(keras.layers.Layer):
    """Prenet -> attention LSTM -> location-sensitive attention -> decoder LSTMs -> r frames per step.

    Built for a memory width ``memory_dim`` at construction (``build`` needs no sample call).
    :meth:`decode` runs all ``n_steps`` steps with ``keras.ops.scan`` (teacher forcing when ``teacher``
    is given, otherwise feeding back its own output) and returns the frames ``(B, n_steps r, D)`` and
    the attention weights ``(B, n_steps, T)``.

    Parameters
    ----------
    config : AttentionConfig
    memory_dim : int
        Width of the encoder output.
    """

    def __init__(self, config: AttentionConfig, memory_dim: int, **kwargs):
        super().__init__(**kwargs)
        c = self.c = config
        self.memory_dim = int(memory_dim)
        self.out_dim, self.r = c.out_dim, c.reduction
        self.prenet = [keras.layers.Dense(u, activation="relu", name=f"prenet{i}") for i, u in enumerate(c.prenet_units, 1)]
        self.prenet_drop = keras.layers.Dropout(c.prenet_dropout, seed=c.augment_seed, name="prenet_drop")
        self.cells = [keras.layers.LSTMCell(u, name=f"lstm{i}") for i, u in enumerate(c.decoder_lstm, 1)]
        self.query = keras.layers.Dense(c.attention_dim, use_bias=False, name="att_query")
        self.keys = keras.layers.Dense(c.attention_dim, use_bias=False, name="att_keys")
        self.location_conv = keras.layers.Conv1D(c.location_filters, c.location_kernel, padding="same", use_bias=False,
                                                 name="att_location_conv")
        self.location = keras.layers.Dense(c.attention_dim, use_bias=False, name="att_location")
        self.energy = keras.layers.Dense(1, name="att_v")
        self.project = keras.layers.Dense(c.out_dim * c.reduction, name="frame_projection")
        self.build((None, None, self.memory_dim))

    def build(self, input_shape):
        c, m = self.c, self.memory_dim
        d = self.out_dim
        for layer, units in zip(self.prenet, c.prenet_units):
            layer.build((None, d))
            d = units
        width = c.prenet_units[-1] + m
        for cell in self.cells:
            cell.build((None, width))
            width = cell.units + m
        self.query.build((None, c.decoder_lstm[0]))
        self.keys.build((None, None, m))
        self.location_conv.build((None, None, 2))
        self.location.build((None, None, c.location_filters))
        self.energy.build((None, None, c.attention_dim))
        self.project.build((None, c.decoder_lstm[-1] + m))
        self.built = True

    def _prenet(self, x, training):
        on = training or self.c.prenet_dropout_at_inference
        for layer in self.prenet:
            x = self.prenet_drop(layer(x), training=on)
        return x

    def _step(self, memory, keys, prev_frame, states, context, w, w_cum, training, log_prior=None):
        x = ops.concatenate([self._prenet(prev_frame, training), context], axis=-1)
        new_states = []
        h, s = self.cells[0](x, states[0], training=training)
        new_states.append(s)
        loc = self.location(self.location_conv(ops.stack([w, w_cum], axis=-1)))
        e = self.energy(ops.tanh(self.query(h)[:, None, :] + keys + loc))[..., 0]
        if log_prior is not None:  # (B, T): the static diagonal prior of this step
            e = e + log_prior
        w = ops.softmax(e, axis=-1)
        w_cum = w_cum + w
        context = ops.sum(w[..., None] * memory, axis=1)
        out = h
        for cell, st in zip(self.cells[1:], states[1:]):
            out, st = cell(ops.concatenate([out, context], axis=-1), st, training=training)
            new_states.append(st)
        frames = self.project(ops.concatenate([out, context], axis=-1))
        return frames, new_states, context, w, w_cum

    def decode(self, memory, n_steps, *, teacher=None, training=False):
        """All decoder steps.

        Parameters
        ----------
        memory : tensor, shape (B, T, memory_dim)
        n_steps : int
            Decoder steps (output frames / r).
        teacher : tensor, shape (B, n_steps r, D), optional
            True frames for teacher forcing (step i sees the last frame of step i - 1's group).
        training : bool

        Returns
        -------
        frames : tensor, shape (B, n_steps r, D)
        weights : tensor, shape (B, n_steps, T)
        """
        B, T = ops.shape(memory)[0], ops.shape(memory)[1]
        keys = self.keys(memory)
        zeros = lambda n: ops.zeros((B, n), dtype=memory.dtype)  # noqa: E731
        init = ([[zeros(cell.units), zeros(cell.units)] for cell in self.cells], zeros(self.memory_dim),
                ops.zeros((B, T), dtype=memory.dtype), ops.zeros((B, T), dtype=memory.dtype), zeros(self.out_dim * self.r))
        # Each step's inputs travel in xs (n_steps, B, .): the teacher frame (D) if teacher forcing, then the
        # step's row of the diagonal prior (T) if there is one; xs of width 1 only sets the number of steps.
        parts = []
        if teacher is not None:
            last = teacher[:, self.r - 1 :: self.r, :]  # (B, n_steps, D): the last frame of every group
            prev = ops.concatenate([ops.zeros_like(last[:, :1]), last[:, :-1]], axis=1)
            parts.append(ops.cast(ops.transpose(prev, (1, 0, 2)), memory.dtype))
        prior = self.c.attention_prior > 0
        if prior:
            rows = ops.cast(diagonal_log_prior(n_steps, T, sigma=self.c.attention_prior), memory.dtype)
            parts.append(ops.broadcast_to(rows[:, None, :], (n_steps, B, T)))
        xs = ops.concatenate(parts, axis=-1) if parts else ops.zeros((n_steps, B, 1), dtype=memory.dtype)
        d = self.out_dim if teacher is not None else 0

        def step(carry, x):
            states, context, w, w_cum, prev = carry
            frame_in = x[..., :d] if teacher is not None else prev[:, -self.out_dim :]  # the last frame of the group
            log_prior = x[..., d:] if prior else None
            frames, states, context, w, w_cum = self._step(memory, keys, frame_in, states, context, w, w_cum, training,
                                                           log_prior)
            carry = (states, context, w, w_cum, frames)
            return carry, carry  # keras.ops.scan (TensorFlow) stacks outputs shaped like the carry

        _, (_, _, weights, _, frames) = ops.scan(step, init, xs=xs)
        frames = ops.reshape(ops.transpose(frames, (1, 0, 2)), (B, -1, self.out_dim))
        return frames, ops.transpose(weights, (1, 0, 2))


def _postnet(c: AttentionConfig, name: str = "postnet") -> keras.Model:
    inp = keras.Input((None, c.out_dim), name=f"{name}_in")
    x = inp
    for i in range(1, c.postnet_layers + 1):
        last = i == c.postnet_layers
        x = keras.layers.Conv1D(c.out_dim if last else c.postnet_filters, c.postnet_kernel, padding="same",
                                name=f"{name}{i}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=c.bn_momentum, name=f"{name}{i}_bn")(x)
        if not last:
            x = keras.layers.Activation("tanh", name=f"{name}{i}_tanh")(x)
            x = keras.layers.Dropout(0.5, name=f"{name}{i}_drop")(x)
    return keras.Model(inp, x, name=name)


class AttentionLipToSpeech(ConfiguredModel, register=False):
    """Encoder (3D-CNN front end + BiLSTMs) + :class:`AttentionDecoder` + postnet (a subclassed family base).

    ``model(x)`` decodes autoregressively (inference); :meth:`compute_losses` trains with teacher forcing
    on ``(x, y)`` batches: MSE before and after the postnet (LipSound2, Tacotron 2), plus
    ``guided_weight`` times the guided attention loss; ``diagonality`` is reported too (not minimised).
    With ``target="bottleneck"`` the output goes through a sigmoid (codes lie in (0, 1)).
    """

    loss_keys = ("loss", "mse_before", "mse_after", "guided", "diagonality")

    def build_layers(self, c: AttentionConfig) -> None:
        inp = keras.Input(c.input_shape, name="lip_clip")
        x = visual_front_end(inp, c)
        if c.encoder_lstm:
            x = bilstm_stack(x, c.encoder_lstm)
        self.encoder = keras.Model(inp, x, name="encoder")
        self.decoder = AttentionDecoder(c, int(x.shape[-1]), name="decoder")
        self.postnet = _postnet(c)

    def _out(self, y):
        return ops.sigmoid(y) if self.config.target == "bottleneck" else y

    def _run(self, x, teacher=None, training=False):
        memory = self.encoder(x, training=training)
        c = self.config
        n_steps = ops.shape(x)[1] * (c.frames_per_video_frame // c.reduction)
        before, weights = self.decoder.decode(memory, n_steps, teacher=teacher, training=training)
        after = before + self.postnet(before, training=training)
        return self._out(before), self._out(after), weights

    def call(self, inputs, training=False):
        """Autoregressive decoding: ``(B, T, S, S, 3)`` -> ``(B, k T, out_dim)`` (after the postnet)."""
        return self._run(inputs, training=training)[1]

    def attention(self, inputs, targets=None):
        """Attention weights ``(B, k T / r, T)`` (teacher-forced when ``targets`` are given), as NumPy."""
        return np.asarray(ops.convert_to_numpy(self._run(inputs, teacher=targets)[2]))

    def compute_losses(self, data, training: bool) -> dict:
        x, y = data
        before, after, weights = self._run(x, teacher=y, training=training)
        mse_before = ops.mean(ops.square(before - y))
        mse_after = ops.mean(ops.square(after - y))
        guided = guided_attention_loss(weights, sigma=self.config.guided_sigma)
        loss = mse_before + mse_after + self.config.guided_weight * guided
        if self.losses:
            loss = loss + ops.sum(self.losses)
        band = self.config.diagonal_band
        return {"loss": loss, "mse_before": mse_before, "mse_after": mse_after, "guided": guided,
                "diagonality": diagonality(weights, band=band)}

    def infer(self, inputs, **kwargs):
        """Autoregressive decoding as NumPy (a compiled function, reused across calls)."""
        import tensorflow as tf

        if getattr(self, "_infer_fn", None) is None:
            self._infer_fn = tf.function(lambda x: self._run(x, training=False)[1], reduce_retracing=True)
        return np.asarray(self._infer_fn(tf.convert_to_tensor(np.asarray(inputs, np.float32))))

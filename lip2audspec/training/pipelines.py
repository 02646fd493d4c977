"""tf.data input pipelines streaming from a prepared HDF5 dataset.

Batches are assembled in a Python generator that reads clips from the HDF5 file a chunk at a time
(``shuffle_clips`` clips), so memory stays bounded whatever the dataset size:

* clip order is a permutation drawn from ``(seed, epoch)``; within each chunk the frames (autoencoder) or
  windows (lip network) are permuted again; batches are yielded ready-made and prefetched by tf.data;
* the epoch number comes from :class:`EpochCounter` (updated by a Keras callback at the start of every
  epoch), so a resumed run draws exactly the order an uninterrupted run would have drawn.

Sequence models (:func:`clip_dataset`) take whole clips: all ``T`` frames of a clip's inputs and its
``k T`` target frames (the prepared dataset stores every clip at the same length ``T``; a shorter
recording, e.g. GRID's 74-frame clips, was padded by preparation), with the same seeded clip order.

Lip-network windows are cut from whole-clip inputs (normalised frame, 1st and 2nd difference;
:func:`lip2audspec.data.inputs.context_windows`), so differences at a window's first frame use the
preceding frames of the clip; with ``context`` the inputs extend that many frames beyond each side.
"""

from __future__ import annotations

import math

import numpy as np

from ..data.dataset import GridDataset
from ..data.inputs import context_windows, lip_inputs, resize_crops, window_starts
from ..errors import DataError

__all__ = ["EpochCounter", "frame_dataset", "window_dataset", "clip_dataset"]


class EpochCounter:
    """The current epoch, shared between a Keras callback and the data generators."""

    def __init__(self, epoch: int = 0):
        self.epoch = int(epoch)


def _batches(chunks, batch_size: int, rng):
    """Yield (x, y) batches from an iterator of (x, y) chunks, permuting each chunk with ``rng``."""
    carry_x = carry_y = None
    for x, y in chunks:
        if rng is not None:
            p = rng.permutation(len(x))
            x, y = x[p], y[p]
        if carry_x is not None:
            x, y = np.concatenate([carry_x, x]), np.concatenate([carry_y, y])
        n_full = len(x) // batch_size * batch_size
        for i in range(0, n_full, batch_size):
            yield x[i : i + batch_size], y[i : i + batch_size]
        carry_x, carry_y = (x[n_full:], y[n_full:]) if n_full < len(x) else (None, None)
    if carry_x is not None and len(carry_x):
        yield carry_x, carry_y


def _epoch_generator(path, clips, load_chunk, *, stream: int, batch_size: int, shuffle: bool, seed: int,
                     counter: "EpochCounter", shuffle_clips: int):
    """The generator function of one epoch's batches, shared by the three datasets.

    Each call draws the clip order of ``counter.epoch`` (:func:`_clip_order`), reads the clips in chunks of
    ``shuffle_clips`` with ``load_chunk(ds, part) -> (x, y)`` and batches them (:func:`_batches`), permuting
    each chunk with a generator seeded by ``(seed, epoch, stream)`` when ``shuffle``; ``stream`` keeps the
    datasets' random streams apart.
    """
    def gen():
        order = _clip_order(clips, shuffle, seed, counter.epoch)
        rng = np.random.default_rng([seed, counter.epoch, stream]) if shuffle else None
        with GridDataset(path) as ds:
            chunks = (load_chunk(ds, order[i : i + shuffle_clips]) for i in range(0, len(order), shuffle_clips))
            yield from _batches(chunks, batch_size, rng)

    return gen


def _clip_order(clips, shuffle: bool, seed: int, epoch: int):
    clips = np.asarray(clips, dtype=np.int64)
    if not shuffle:
        return clips
    return clips[np.random.default_rng([seed, epoch]).permutation(len(clips))]


def _lip_source(path, clips, target: str, crop_size):
    """Clip indices as an array (none: DataError) and the dataset's k, T, crop side S (or ``crop_size``),
    target width D and window config; a missing target is a DataError."""
    clips = np.asarray(clips, dtype=np.int64)
    if len(clips) == 0:
        raise DataError(f"no clips in the requested split of {path}")
    with GridDataset(path) as ds:
        if not ds.has(target):
            raise DataError(f"{path} has no '{target}' targets" + (" (train the autoencoder and add them first)"
                                                                    if target == "bottleneck" else ""))
        return clips, {"k": ds.k, "T": ds.spec.n_frames, "S": crop_size or ds.spec.crop_size,
                       "D": ds.spec.target_dim(target), "window": ds.window_config}


def _dataset(gen, n_items: int, batch_size: int, x_spec, y_spec, steps: int | None):
    import tensorflow as tf

    n_batches = math.ceil(n_items / batch_size)
    if steps is not None:
        n_batches = min(n_batches, steps)
    ds = tf.data.Dataset.from_generator(gen, output_signature=(x_spec, y_spec))
    if steps is not None:
        ds = ds.take(steps)
    ds = ds.apply(tf.data.experimental.assert_cardinality(n_batches))
    return ds.prefetch(2), n_batches


def frame_dataset(path, clips, *, batch_size: int, shuffle: bool, seed: int = 0, counter: EpochCounter | None = None,
                  shuffle_clips: int = 32, steps: int | None = None):
    """Autoencoder batches ``(frames, frames)`` of spectrogram frames (B, 128) from ``clips``.

    Returns
    -------
    (tf.data.Dataset, int)
        The dataset and its number of batches per epoch.
    """
    import tensorflow as tf

    clips = np.asarray(clips, dtype=np.int64)
    if len(clips) == 0:
        raise DataError(f"no clips in the requested split of {path}")
    counter = counter or EpochCounter()

    def load_chunk(ds, part):
        spec = ds.array("spec", np.sort(part)).astype(np.float32)  # sorted indices: one h5py read
        frames = spec.reshape(-1, spec.shape[-1])
        return frames, frames

    gen = _epoch_generator(path, clips, load_chunk, stream=1, batch_size=batch_size, shuffle=shuffle, seed=seed,
                           counter=counter, shuffle_clips=shuffle_clips)

    with GridDataset(path) as ds:
        n_per_clip, n_ch = ds.spec.target_frames, ds.spec.spec_channels
    spec = tf.TensorSpec((None, n_ch), tf.float32)
    return _dataset(gen, len(clips) * n_per_clip, batch_size, spec, spec, steps)


def window_dataset(path, clips, *, target: str = "bottleneck", batch_size: int, shuffle: bool, seed: int = 0,
                   counter: EpochCounter | None = None, shuffle_clips: int = 32, steps: int | None = None,
                   context: int = 0, window=None, crop_size: int | None = None):
    """Lip-network batches ``(windows (B, W + 2 context, S, S, 3), targets (B, k W, D))`` from ``clips``.

    ``window`` (a :class:`~lip2audspec.data.inputs.WindowConfig`, default the dataset's) sets the window
    length and hop; ``crop_size`` (default the dataset's) resizes the crops on load
    (:func:`~lip2audspec.data.inputs.resize_crops`).

    Returns
    -------
    (tf.data.Dataset, int)
    """
    import tensorflow as tf

    clips, info = _lip_source(path, clips, target, crop_size)
    counter = counter or EpochCounter()
    wc, k, T, S, D = window or info["window"], info["k"], info["T"], info["S"], info["D"]
    starts = window_starts(T, wc)

    def load_chunk(ds, part):
        xs, ys = [], []
        for c in part:
            y = ds.array(target, int(c)).astype(np.float32)
            crops = resize_crops(ds.array("crops", int(c)), S)
            xs.append(context_windows(crops, starts, window=wc.window, context=context))
            ys.append(np.stack([y[k * s : k * (s + wc.window)] for s in starts]))
        return np.concatenate(xs), np.concatenate(ys)

    gen = _epoch_generator(path, clips, load_chunk, stream=2, batch_size=batch_size, shuffle=shuffle, seed=seed,
                           counter=counter, shuffle_clips=shuffle_clips)

    x_spec = tf.TensorSpec((None, wc.window + 2 * context, S, S, 3), tf.float32)
    y_spec = tf.TensorSpec((None, k * wc.window, D), tf.float32)
    return _dataset(gen, len(clips) * len(starts), batch_size, x_spec, y_spec, steps)


def clip_dataset(path, clips, *, target: str = "spec", batch_size: int, shuffle: bool, seed: int = 0,
                 counter: EpochCounter | None = None, shuffle_clips: int = 32, steps: int | None = None,
                 crop_size: int | None = None):
    """Whole-clip batches ``(inputs (B, T, S, S, 3), targets (B, k T, D))`` for sequence models.

    Every clip contributes one example: the inputs of all its ``T`` frames (normalised frame, 1st and
    2nd temporal difference, :func:`~lip2audspec.data.inputs.lip_inputs`) and all its ``k T`` target
    frames (``target``: ``"spec"``, the compressed auditory spectrogram, or a derived target such as
    ``"bottleneck"``). The clip order is the permutation drawn from ``(seed, epoch)`` as for
    :func:`window_dataset`; clips are then permuted again within each chunk of ``shuffle_clips``
    (generator seeded by ``(seed, epoch, 3)``), so a resumed run draws the order an uninterrupted run
    would have drawn.

    Parameters
    ----------
    path : str or Path
        Prepared ``dataset.h5``.
    clips : array_like of int
        Clip indices (a split).
    target : str
        Target array of the dataset.
    batch_size : int
        Clips per batch (the last batch of an epoch may be smaller).
    shuffle : bool
        Seeded order (training) or the given order (validation).
    seed : int
    counter : EpochCounter, optional
        The current epoch (updated by the training loop).
    shuffle_clips : int
        Clips read (and shuffled) together.
    steps : int, optional
        Cap on batches per epoch.
    crop_size : int, optional
        Resize the crops on load (default: the dataset's size).

    Returns
    -------
    (tf.data.Dataset, int)
        The dataset and its number of batches per epoch.

    Examples
    --------
    >>> ds, n = clip_dataset("prepared/dataset.h5", [0, 1, 2], batch_size=2, shuffle=True)  # doctest: +SKIP
    >>> x, y = next(iter(ds))  # doctest: +SKIP
    >>> x.shape, y.shape  # doctest: +SKIP
    (TensorShape([2, 75, 48, 48, 3]), TensorShape([2, 300, 128]))
    """
    import tensorflow as tf

    clips, info = _lip_source(path, clips, target, crop_size)
    counter = counter or EpochCounter()
    k, T, S, D = info["k"], info["T"], info["S"], info["D"]

    def load_chunk(ds, part):
        xs = [lip_inputs(resize_crops(ds.array("crops", int(c)), S)) for c in part]
        ys = [ds.array(target, int(c)).astype(np.float32) for c in part]
        return np.stack(xs), np.stack(ys)

    gen = _epoch_generator(path, clips, load_chunk, stream=3, batch_size=batch_size, shuffle=shuffle, seed=seed,
                           counter=counter, shuffle_clips=shuffle_clips)

    x_spec = tf.TensorSpec((None, T, S, S, 3), tf.float32)
    y_spec = tf.TensorSpec((None, k * T, D), tf.float32)
    return _dataset(gen, len(clips), batch_size, x_spec, y_spec, steps)

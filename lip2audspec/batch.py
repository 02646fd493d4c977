"""Many videos -> speech with both cores busy: decode + crop, lip network, aud2wav pipelined.

``lip2audspec reconstruct --batch`` used to run :meth:`Reconstructor.from_video` clip after clip, so
each stage waited for the others. :func:`reconstruct_batch` overlaps them with threads (every stage
releases the GIL where it works: OpenCV decoding and face detection, TensorFlow, the nogil aud2wav
kernels):

1. a decoder thread reads and crops the next clips (at most ``prefetch`` ahead);
2. the calling thread runs the lip network and the decoder (:meth:`Reconstructor.from_crops` with no
   aud2wav iterations, which returns the spectrogram);
3. ``workers`` threads invert the spectrograms (:func:`lip2audspec.auditory.aud2wav`, one thread per
   clip) and write the wavs.

The result of every clip is bit-identical to :meth:`Reconstructor.from_video`'s: the same crops, the
same key (the digest of the crops) and so the same aud2wav restarts (tests/test_batch.py).
"""

from __future__ import annotations

import copy
import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from .auditory import aud2wav, peak_normalize
from .auditory.aud2wav import default_threads
from .data.video import read_video
from .errors import DataError, ParameterError
from .seeding import derived_rng

__all__ = ["BatchItem", "reconstruct_batch"]

log = logging.getLogger(__name__)


@dataclass
class BatchItem:
    """One clip of :func:`reconstruct_batch`: where it came from, where it went, or why it failed.

    ``result`` is the :class:`~lip2audspec.reconstruct.Reconstruction` (audio, spectrogram, key, seed,
    restarts, timings of its own stages) or None when ``error`` says why the clip was skipped.
    """

    video: Path
    output: Path
    result: object = None
    error: str | None = None
    timings: dict = field(default_factory=dict)


def _crops(rec, path: Path):
    """Decode and crop one video as :meth:`Reconstructor.from_video` does."""
    t0 = time.perf_counter()
    video = read_video(path, gray=True, fps=rec.fps)
    if video.frames.shape[0] < rec.window:
        raise DataError(f"video {path} is too short: {video.frames.shape[0]} frames at {rec.fps:g} fps, "
                        f"at least {rec.window} needed")
    t1 = time.perf_counter()
    crops = rec.cropper.crop(video.frames, source=str(path)).crops
    return crops, {"read": t1 - t0, "crop": time.perf_counter() - t1}


def reconstruct_batch(rec, videos, outputs, *, workers: int | None = None, prefetch: int = 4, on_done=None,
                      keep_results: bool = True) -> list:
    """Reconstruct many videos with decoding, the network and aud2wav overlapped.

    Parameters
    ----------
    rec : Reconstructor
        Loaded once; its ``n_iter``, ``seed`` and cropper apply to every clip.
    videos : sequence of path
    outputs : sequence of path
        The wav to write for each video (folders are created).
    workers : int, optional
        aud2wav threads (default :func:`lip2audspec.auditory.aud2wav.default_threads`).
    prefetch : int
        Clips decoded and cropped ahead of the network (memory: their frames and crops).
    on_done : callable, optional
        Called with each finished :class:`BatchItem`, in input order (e.g. a progress bar, plots).
    keep_results : bool
        Keep each clip's :class:`~lip2audspec.reconstruct.Reconstruction` in its item (about 1 MB a
        3 s clip); False drops it after ``on_done`` so that memory stays bounded on any number of clips.

    Returns
    -------
    list of BatchItem, in input order
        A clip whose video is unusable (:class:`~lip2audspec.errors.DataError`: unreadable, too short,
        no face) has ``error`` set and no output; other errors propagate.

    Examples
    --------
    >>> from lip2audspec.pretrained import reconstructor_for                   # doctest: +SKIP
    >>> items = reconstruct_batch(reconstructor_for("grid-s1"), ["a.mpg"], ["a.wav"])  # doctest: +SKIP
    """
    videos = [Path(v) for v in videos]
    outputs = [Path(o) for o in outputs]
    if len(videos) != len(outputs):
        raise ParameterError(f"{len(videos)} videos but {len(outputs)} outputs")
    if rec.crop_config.method == "mask" and not (rec.crop_config.mask_boxes or {}).get(""):
        raise ParameterError("the run used the 'mask' cropper, which needs a box for these videos; pass a crop "
                             "config with one, or use --cropper landmarks/haar")
    if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 1:
        raise ParameterError(f"prefetch must be a positive integer, got {prefetch!r}")
    workers = default_threads() if workers is None else workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be a positive integer, got {workers!r}")
    net = copy.copy(rec)
    net.n_iter = 0  # the network stage stops at the spectrogram; the inversion runs in the pool
    p = rec.target_config.auditory
    items = [BatchItem(video=v, output=o) for v, o in zip(videos, outputs)]

    def invert(item, r):
        t0 = time.perf_counter()
        res = aud2wav(r.spectrogram, n_iter=rec.n_iter, rng=derived_rng(rec.seed, "recon", r.key), threads=1,
                      **p.to_dict())
        r = replace(r, audio=peak_normalize(res.x_best), errors=res.errors, restarts=res.restarts,
                    timings={**r.timings, "aud2wav": time.perf_counter() - t0})
        rec.write(r, item.output)
        item.result, item.timings = r, r.timings
        return item

    def finish(item, fut):
        if fut is not None:
            fut.result()
        if on_done is not None:
            on_done(item)
        if not keep_results:
            item.result = None

    with ThreadPoolExecutor(1, thread_name_prefix="batch-decode") as dec, \
            ThreadPoolExecutor(workers, thread_name_prefix="batch-aud2wav") as inv:
        decoding = deque()
        nxt = 0
        for _ in range(min(prefetch, len(items))):
            decoding.append(dec.submit(_crops, rec, items[nxt].video))
            nxt += 1
        inverting = deque()  # (item, future or None), in input order; at most 2 * workers outstanding
        for item in items:
            fut = decoding.popleft()
            if nxt < len(items):
                decoding.append(dec.submit(_crops, rec, items[nxt].video))
                nxt += 1
            try:
                crops, t_dec = fut.result()
            except DataError as exc:
                item.error = str(exc)
                inverting.append((item, None))
                continue
            r = net.from_crops(crops, source=str(item.video))
            r.timings = {**t_dec, **{k: v for k, v in r.timings.items() if k != "aud2wav"}}
            inverting.append((item, inv.submit(invert, item, r)))
            while len(inverting) > 2 * workers or (inverting and inverting[0][1] is None):
                finish(*inverting.popleft())
        while inverting:
            finish(*inverting.popleft())
    return items

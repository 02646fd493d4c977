"""Spectrogram-domain scores of trained models on a prepared split (no audio, no aud2wav).

* :func:`score_autoencoder`: how well the autoencoder reproduces held-out spectrogram frames — the
  per-frame correlation (the paper's autoencoder figure, 0.98 on GRID) and Corr2D per clip;
* :func:`score_lipnet`: Corr2D between the spectrogram decoded from the lip network's codes and the
  true one (the paper's measure), per clip, with the inference time.

Both work in the compressed spectrogram domain the models are trained on.
"""

from __future__ import annotations

import time

import numpy as np

from ..data.dataset import GridDataset, dataset_file, split_name
from ..errors import ParameterError
from .metrics import corr2d, frame_correlation_np

__all__ = ["bundle_fixture_check", "score_autoencoder", "score_lipnet", "score_videos"]


def _model(model_or_run):
    if isinstance(model_or_run, (str, bytes)) or hasattr(model_or_run, "__fspath__"):
        from ..training.runs import RunDir

        return RunDir(model_or_run).load_model("best")
    return model_or_run


def _clips(ds: GridDataset, split: str, max_clips: int | None):
    clips = np.sort(ds.split(split_name(split)))
    if max_clips is not None:
        clips = clips[:max_clips]
    if len(clips) == 0:
        raise ParameterError(f"split {split!r} of {ds.path} has no clips")
    return clips


def score_autoencoder(autoencoder, data, *, split: str = "seen/test", max_clips: int | None = None) -> dict:
    """Reconstruction quality of an autoencoder on the spectrograms of a split.

    Parameters
    ----------
    autoencoder : keras.Model or str or Path
        The model (with ``encoder``/``decoder``) or its run folder (``best.keras`` is used).
    data : str or Path
        Prepared folder or ``dataset.h5``.
    split : str
        ``seen/test`` (alias ``test``), ``unseen/test`` (``unseen``), ...
    max_clips : int, optional
        Score only the first clips of the split.

    Returns
    -------
    dict
        ``frame_r`` (mean Pearson r across channels of every frame), ``frame_r_loud`` (the same over the
        louder half of the frames, i.e. without near-silent ones), ``corr2d`` (mean over clips),
        ``n_clips``, ``n_frames``.

    Examples
    --------
    >>> score_autoencoder("runs/ae", "prepared")["frame_r"]  # doctest: +SKIP
    0.97
    """
    from ..inference import decode, encode

    model = _model(autoencoder)
    with GridDataset(dataset_file(data)) as ds:
        spec = ds.array("spec", _clips(ds, split, max_clips)).astype(np.float32)
    rec = decode(model, encode(model, spec))
    flat, flat_rec = spec.reshape(-1, spec.shape[-1]), rec.reshape(-1, rec.shape[-1])
    energy = flat.mean(axis=1)
    loud = energy >= np.median(energy)
    return {"frame_r": frame_correlation_np(flat, flat_rec),
            "frame_r_loud": frame_correlation_np(flat[loud], flat_rec[loud]),
            "corr2d": float(np.mean([corr2d(a, b) for a, b in zip(spec, rec)])),
            "n_clips": int(spec.shape[0]), "n_frames": int(flat.shape[0])}


def score_lipnet(lipnet, autoencoder=None, data=None, *, split: str = "seen/test", max_clips: int | None = None) -> dict:
    """Corr2D between spectrograms predicted from mouth crops and the true ones, clip by clip (every family).

    :func:`lip2audspec.inference.predict_clip` predicts each clip (the window network on every window at
    hop 1, overlaps averaged; a whole-clip family in one call); the autoencoder's decoder turns predicted
    codes into spectrogram frames. Families that predict the spectrogram itself need no autoencoder.

    Parameters
    ----------
    lipnet : keras.Model or str or Path
        Model or run folder (any ``train_main --arch``).
    autoencoder : keras.Model or str or Path, optional
        Needed when the model predicts bottleneck codes (the window network; ``target="bottleneck"``).
    data, split, max_clips
        As :func:`score_autoencoder`.

    Returns
    -------
    dict
        ``corr2d`` (mean), ``corr2d_std``, ``per_clip`` (list of ``(speaker, id, corr2d)``),
        ``ms_per_clip`` (median time of the model + decoder per clip), ``n_clips``.

    Examples
    --------
    >>> score_lipnet("runs/framesync", data="prepared")["corr2d"]  # doctest: +SKIP
    0.84
    """
    from ..inference import decode, predict_clip

    if data is None:
        raise ParameterError("score_lipnet needs data: a prepared folder or its dataset.h5")
    lipnet = _model(lipnet)
    ae = None if autoencoder is None else _model(autoencoder)
    per_clip, times = [], []
    with GridDataset(dataset_file(data)) as ds:
        for i in _clips(ds, split, max_clips):
            crops = ds.array("crops", int(i))
            true = ds.array("spec", int(i))
            t0 = time.perf_counter()
            pred = predict_clip(lipnet, crops)
            if pred.shape[-1] != true.shape[-1]:  # bottleneck codes
                if ae is None:
                    raise ParameterError(f"the model predicts {pred.shape[-1]} codes per frame, not the {true.shape[-1]} "
                                         "spectrogram channels: pass its autoencoder")
                pred = decode(ae, pred)
            times.append(time.perf_counter() - t0)
            n = min(len(pred), len(true))
            per_clip.append((str(ds.clip_speakers[i]), str(ds.ids[i]), corr2d(pred[:n], true[:n])))
    c = np.array([p[2] for p in per_clip])
    return {"corr2d": float(c.mean()), "corr2d_std": float(c.std()), "per_clip": per_clip,
            "ms_per_clip": float(np.median(times) * 1000), "n_clips": len(per_clip)}


def score_videos(reconstructor, videos, *, audio_source: str = "video") -> dict:
    """Reconstruct video files and score them against their own speech: Corr2D and STOI.

    A quick check of a trained (or bundled) model on a handful of clips, without a prepared dataset:
    each video's speech (its audio track, or the wav beside it with ``audio_source="wav"``) gives the
    true target; the reconstruction's target and audio are compared with it.

    Parameters
    ----------
    reconstructor : Reconstructor
        E.g. ``lip2audspec.pretrained.load("grid-s1").reconstructor()``.
    videos : sequence of str or Path
        Video files (25 fps after resampling; at least one window long).
    audio_source : {"video", "wav"}
        ``"wav"``: the speech is in a ``.wav`` of the same name beside the video.

    Returns
    -------
    dict
        ``corr2d``, ``stoi`` (means) and ``per_clip`` (name, corr2d, stoi).

    Examples
    --------
    >>> from lip2audspec import pretrained                                    # doctest: +SKIP
    >>> score_videos(pretrained.load("grid-s1").reconstructor(), ["bbaf2n.mpg"])  # doctest: +SKIP
    """
    from pathlib import Path

    from ..data.targets import audio_for_target, auditory_target
    from .intelligibility import stoi

    videos = [Path(v) for v in videos]
    if not videos:
        raise ParameterError("score_videos needs at least one video")
    tcfg = reconstructor.target_config
    per_clip = []
    for v in videos:
        rec = reconstructor.from_video(v)
        n_frames = rec.crops.shape[0]
        src = v if audio_source == "video" else v.with_suffix(".wav")
        original = audio_for_target(src, n_video_frames=n_frames, config=tcfg, source=audio_source)
        true = auditory_target(original, n_video_frames=n_frames, config=tcfg)
        per_clip.append({"name": v.name, "corr2d": float(corr2d(true, rec.target)),
                         "stoi": float(stoi(original, rec.audio, sr=tcfg.auditory.sr))})
    return {"corr2d": float(np.mean([c["corr2d"] for c in per_clip])),
            "stoi": float(np.mean([c["stoi"] for c in per_clip])), "per_clip": per_clip}


#: how far a bundled model's re-measured fixture scores may drift from its card (tests/test_grid_s1_model.py)
FIXTURE_TOLERANCE = {"corr2d": 0.005, "stoi": 0.02}


def bundle_fixture_check(name: str, videos, *, root=None, n_iter: int = 20, seed: int = 0) -> dict:
    """A bundled model's own scores on a few video files, in the form of its card's ``fixture_check``.

    Bundling scripts store it in the card; the package's tests measure the shipped weights again and
    compare within ``tolerance``.

    Parameters
    ----------
    name : str
        Bundled model (:func:`lip2audspec.pretrained.load`).
    videos : sequence of Path
        E.g. the test-split clips of the real s1 fixture.
    root : optional
        Folder of bundles.
    n_iter, seed : int
        aud2wav iterations and seed of the reconstructions.

    Returns
    -------
    dict
        ``clips`` (video stems), ``corr2d``, ``stoi``, ``per_clip``, ``iterations``, ``seed``, ``tolerance``.
    """
    from pathlib import Path

    from .. import pretrained

    rec = pretrained.load(name, root=root).reconstructor(n_iter=n_iter, seed=seed)
    fx = score_videos(rec, videos)
    return {"clips": [Path(v).stem for v in videos], "corr2d": fx["corr2d"], "stoi": fx["stoi"],
            "per_clip": fx["per_clip"], "iterations": n_iter, "seed": seed, "tolerance": dict(FIXTURE_TOLERANCE)}

"""``evaluate``: score a trained lip network on a prepared split and write the report.

For every clip of the split (optionally the first ``clips_per_speaker`` of each speaker):

* **original**: the clip's recorded audio (16 kHz, the video's 3 s), from the GRID folder the dataset
  was prepared from, read from the source the dataset spec records (``audio_source``: the clip's wav
  file, or the audio track of its video file);
* **oracle**: ``aud2wav(wav2aud(original))`` — the ceiling of the auditory representation;
* **recon**: our reconstruction from the stored mouth crops (:class:`lip2audspec.reconstruct.Reconstructor`).

Scores (oracle and recon against the original): Corr2D of the compressed auditory spectrograms (the
paper's measure, in the domain the network is trained on), STOI, ESTOI, PESQ narrow-band (8 kHz, P.862 +
P.862.1) and wide-band (16 kHz, P.862.2); and the word accuracy of the offline GRID recogniser on all three
conditions, overall and per word position. Results go to ``report.json``, ``report.md`` and
``index.html`` (:func:`lip2audspec.evaluation.report.write_report`).

Reproducibility: aud2wav's restarts from noise draw from generators derived from ``seed`` and the clip
(``(seed, "oracle" | "recon", "<speaker>/<id>")``, :func:`lip2audspec.seeding.derived_rng`), so a clip's
numbers do not depend on the clip order or on ``clips_per_speaker``; the seed is recorded in
``report.json`` (``seed`` and ``meta.seed``) and in the report headers. With the same seed, data and runs,
two evaluations on one machine give identical metrics (tests/test_reproducibility.py). Across machines,
float differences in the last bits (oneDNN, BLAS, thread scheduling) can flip aud2wav's restart
decisions; see the README's "Reproducibility" paragraph.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..auditory import aud2wav, peak_normalize, wav2aud
from ..corpora.grid import GridLayout
from ..data.dataset import GridDataset, dataset_file, split_name
from ..data.targets import TargetConfig, auditory_target, clip_audio, spectrogram_from_target
from ..errors import DataError, ParameterError
from ..fileio import write_json_atomic
from ..seeding import check_seed, derived_rng
from .asr import GridRecognizer
from .report import write_report
from .summary import ClipResult, score_condition

__all__ = ["evaluate"]

log = logging.getLogger(__name__)


def evaluate(lip_run, data=None, *, out, split: str = "seen/test", n_iter: int = 20, clips_per_speaker: int | None = None,
             report_clips: int = 3, autoencoder_run=None, grid_dir=None, seed: int = 0, progress: bool = True,
             sync_model="default", voice_f0=None) -> dict:
    """Evaluate a lip-network run and write a report folder.

    Parameters
    ----------
    lip_run : str or Path
        ``train_main`` run folder (any ``--arch``).
    data : str or Path, optional
        Prepared folder or ``dataset.h5`` (default: the one the run was trained on).
    out : str or Path
        Report folder.
    split : str
        ``seen/test`` (alias ``test``), ``unseen/test`` (alias ``unseen``), ...
    n_iter : int
        aud2wav iterations for both oracle and reconstruction.
    clips_per_speaker : int, optional
        Evaluate at most this many clips per speaker.
    report_clips : int
        Clips per speaker shown with spectrograms and audio players in ``index.html``.
    grid_dir : str or Path, optional
        GRID folder with the original audio (default: the one recorded in the dataset manifest).
    seed : int
        Non-negative seed of aud2wav's random restarts (oracle and reconstruction), derived per clip from
        ``(seed, condition, "<speaker>/<id>")``; recorded in ``report.json`` and the report headers.
    progress : bool
        Progress bar over the clips.
    sync_model : str, Path or None
        Lip-sync expert (:class:`lip2audspec.sync.SyncExpert`: a train-sync run or bundled name) that scores
        LSE-D / LSE-C of the original audio and of the reconstruction, each with the clip's mouth crops
        (``"default"``: the bundled expert when there is one; None: no sync scores). A reconstruction in
        sync scores close to the original.
    voice_f0 : float, "auto" or None
        Impose a steady voice's harmonics at this pitch (Hz) on the reconstruction's spectrogram before
        aud2wav (:class:`~lip2audspec.reconstruct.Reconstructor`'s ``voice_f0``); ``"auto"``: the speaker's
        pitch estimated from the dataset's training targets (:func:`voice_f0_of_dataset`); None (default):
        the published path. The oracle is never changed. Recorded in ``meta.voice_f0_hz``.

    Returns
    -------
    dict
        The ``report.json`` document (``seed``; per speaker and overall metrics, per-position word
        accuracy; ``meta`` with the seed and the number of aud2wav restarts per condition).

    Notes
    -----
    TensorFlow inference on CPU gave identical outputs from run to run in our tests; for bit-identical GPU
    inference, or runs closer across machines, call ``tf.config.experimental.enable_op_determinism()``
    (process-wide, so it is left to the caller) and set ``TF_ENABLE_ONEDNN_OPTS=0`` before TensorFlow loads.
    """
    from ..reconstruct import Reconstructor
    from ..training.runs import RunDir

    seed = check_seed(seed)
    path = dataset_file(data or RunDir(lip_run).config()["data"]["path"])
    if isinstance(voice_f0, str):
        if voice_f0 != "auto":
            raise ParameterError(f"voice_f0 must be a pitch in Hz, 'auto' or None, got {voice_f0!r}")
        voice_f0 = voice_f0_of_dataset(path)
        log.info("voice_f0: %.0f Hz, estimated from the training targets of %s", voice_f0, path)
    rec = Reconstructor(lip_run, autoencoder_run=autoencoder_run, n_iter=n_iter, seed=seed, voice_f0=voice_f0)
    split = split_name(split)
    tcfg = rec.target_config
    p = tcfg.auditory
    recognizer = GridRecognizer()
    expert = _sync_expert(sync_model)
    results, timings = [], []
    restarts = {"oracle": 0, "recon": 0}
    with GridDataset(path) as ds:
        layout = GridLayout.discover(grid_dir or ds.manifest["source"]["grid_dir"])
        clips = ds.split(split)
        if clips_per_speaker:
            keep, seen = [], {}
            for i in clips:
                spk = ds.clip_speakers[i]
                if seen.get(spk, 0) < clips_per_speaker:
                    keep.append(i)
                    seen[spk] = seen.get(spk, 0) + 1
            clips = np.asarray(keep, dtype=np.int64)
        if len(clips) == 0:
            raise ParameterError(f"split {split} of {path} has no clips")
        from tqdm.auto import tqdm

        for i in tqdm(clips, desc=f"evaluate {split}", unit="clip", disable=not progress):
            spk, uid = str(ds.clip_speakers[i]), str(ds.ids[i])
            n_frames = ds.array("crops", int(i)).shape[0]
            try:
                original = clip_audio(layout.clip_paths(spk, uid), source=ds.spec.audio_source, n_video_frames=n_frames,
                                      config=tcfg)
            except (DataError, FileNotFoundError) as exc:
                raise DataError(f"original audio of {spk}/{uid} not usable under {layout.root}: {exc}") from None
            true_target = ds.array("spec", int(i))
            t0 = time.perf_counter()
            key = f"{spk}/{uid}"
            r = rec.from_crops(ds.array("crops", int(i)), key=key)
            t_rec = time.perf_counter() - t0
            res = aud2wav(wav2aud(original, **p.to_dict()), n_iter=n_iter, rng=derived_rng(seed, "oracle", key),
                          **p.to_dict())
            oracle = peak_normalize(res.x_best)
            restarts["oracle"] += len(res.restarts)
            restarts["recon"] += len(r.restarts)
            oracle_target = auditory_target(oracle, n_video_frames=n_frames, config=tcfg)
            metrics = {
                "oracle": score_condition(original, oracle, sr=p.sr, ref_spec=true_target, deg_spec=oracle_target),
                "recon": score_condition(original, r.audio, sr=p.sr, ref_spec=true_target, deg_spec=r.target),
            }
            if expert is not None:
                crops = ds.array("crops", int(i))
                sync = {"original": expert.score_audio(crops, original, sr=p.sr),
                        "recon": expert.score_audio(crops, r.audio, sr=p.sr)}
                metrics["original"] = {"lse_d": sync["original"].lse_d, "lse_c": sync["original"].lse_c}
                metrics["recon"].update(lse_d=sync["recon"].lse_d, lse_c=sync["recon"].lse_c)
            words = {"original": recognizer.recognize(original, sr=p.sr), "oracle": recognizer.recognize(oracle, sr=p.sr),
                     "recon": recognizer.recognize(r.audio, sr=p.sr)}
            results.append(ClipResult(
                speaker=spk, id=uid, metrics=metrics, words=words,
                audio={"original": (original, p.sr), "oracle": (oracle, p.sr), "recon": (r.audio, p.sr)},
                spectrograms={"true": true_target, "oracle": oracle_target, "recon": r.target},
                frame_ms=p.frame_ms,
            ))
            timings.append({**r.timings, "total": t_rec})
    meta = {"seed": seed, "lip_run": str(Path(lip_run).resolve()), "autoencoder_run": str(rec.autoencoder_run.resolve()) if rec.autoencoder_run else None,
            "arch": RunDir(lip_run).config().get("arch", "lip2audspec"),
            "data": str(path.resolve()), "split": split, "clips": int(len(results)), "aud2wav_iterations": n_iter,
            "aud2wav_restarts": restarts, "voice_f0_hz": voice_f0,
            "spectrogram_domain": f"compressed (power {tcfg.power}) auditory spectrogram, as trained",
            "pesq": "narrow-band at 8 kHz (P.862 + P.862.1) and wide-band at 16 kHz (P.862.2)",
            "sync_expert": None if expert is None else {"source": expert.source, "features": expert.audio_features,
                                                         "note": _sync_note()},
            "seconds_per_clip_from_crops": {k: float(np.median([t[k] for t in timings])) for k in timings[0]}}
    doc = write_report(out, results, title=f"Lip2AudSpec evaluation: {split}", clips=report_clips, meta=meta)
    doc = {"seed": seed, **doc}  # also at the top level of report.json, where scripts look first
    write_json_atomic(Path(out) / "report.json", doc)
    return doc


def voice_f0_of_dataset(data, *, split: str = "seen/train", max_clips: int = 200) -> float:
    """A prepared dataset's speaker pitch (Hz): :func:`~lip2audspec.auditory.harmonics.estimate_f0` over the
    decompressed targets of (at most ``max_clips``, evenly spread) clips of ``split``.

    For a dataset of one speaker (e.g. real GRID s1: 107-108 Hz); with several speakers it is their median.
    """
    from ..auditory.harmonics import estimate_f0

    with GridDataset(dataset_file(data)) as ds:
        clips = ds.split(split)
        if len(clips) == 0:
            raise ParameterError(f"split {split} of {data} has no clips to estimate the voice's pitch from")
        tcfg = TargetConfig.from_dict(ds.manifest["config"]["target"])
        pick = clips[np.unique(np.linspace(0, len(clips) - 1, min(max_clips, len(clips))).astype(int))]
        specs = [np.maximum(spectrogram_from_target(ds.array("spec", int(i)), config=tcfg), 0.0) for i in pick]
    return estimate_f0(specs, **tcfg.auditory.to_dict())


def _sync_note() -> str:
    from ..sync import NOT_COMPARABLE

    return NOT_COMPARABLE


def _sync_expert(sync_model):
    """The lip-sync expert of the report, or None (``sync_model=None``, or ``"default"`` without a bundled one)."""
    if sync_model is None:
        return None
    from ..sync import DEFAULT_EXPERT, SyncExpert

    if sync_model == "default":
        from ..pretrained import bundles

        if DEFAULT_EXPERT not in bundles.available():
            log.info("no bundled lip-sync expert: the report has no LSE-D / LSE-C")
            return None
        sync_model = DEFAULT_EXPERT
    return SyncExpert.load(sync_model)

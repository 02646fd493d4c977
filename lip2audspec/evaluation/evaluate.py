"""``evaluate``: score a trained lip network on a prepared split and write the report.

For every clip of the split (optionally the first ``clips_per_speaker`` of each speaker):

* **original**: the clip's recorded audio (16 kHz, the video's 3 s), from the GRID folder the dataset
  was prepared from;
* **oracle**: ``aud2wav(wav2aud(original))`` — the ceiling of the auditory representation;
* **recon**: our reconstruction from the stored mouth crops (:class:`lip2audspec.reconstruct.Reconstructor`).

Scores (oracle and recon against the original): Corr2D of the compressed auditory spectrograms (the
paper's measure, in the domain the network is trained on), STOI, ESTOI, PESQ narrow-band (8 kHz, P.862 +
P.862.1) and wide-band (16 kHz, P.862.2); and the word accuracy of the offline GRID recogniser on all three
conditions, overall and per word position. Results go to ``report.json``, ``report.md`` and
``index.html`` (:func:`lip2audspec.evaluation.report.write_report`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from ..auditory import aud2wav, peak_normalize, wav2aud
from ..corpora.grid import GridLayout
from ..data.dataset import GridDataset, dataset_file, split_name
from ..data.targets import audio_for_target, auditory_target
from ..errors import DataError, ParameterError
from .asr import GridRecognizer
from .report import write_report
from .summary import ClipResult, score_condition

__all__ = ["evaluate"]

log = logging.getLogger(__name__)


def evaluate(lip_run, data=None, *, out, split: str = "seen/test", n_iter: int = 20, clips_per_speaker: int | None = None,
             report_clips: int = 3, autoencoder_run=None, grid_dir=None, progress: bool = True) -> dict:
    """Evaluate a lip-network run and write a report folder.

    Parameters
    ----------
    lip_run : str or Path
        ``train_main`` run folder.
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

    Returns
    -------
    dict
        The ``report.json`` document (per speaker and overall metrics, per-position word accuracy, meta).
    """
    from ..reconstruct import Reconstructor
    from ..training.runs import RunDir

    rec = Reconstructor(lip_run, autoencoder_run=autoencoder_run, n_iter=n_iter)
    path = dataset_file(data or RunDir(lip_run).config()["data"]["path"])
    split = split_name(split)
    tcfg = rec.target_config
    p = tcfg.auditory
    recognizer = GridRecognizer()
    results, timings = [], []
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
            paths = layout.clip_paths(spk, uid)
            if paths.audio is None:
                raise DataError(f"original audio of {spk}/{uid} not found under {layout.root}")
            n_frames = ds.array("crops", int(i)).shape[0]
            original = audio_for_target(paths.audio, n_video_frames=n_frames, config=tcfg)
            true_target = ds.array("spec", int(i))
            t0 = time.perf_counter()
            r = rec.from_crops(ds.array("crops", int(i)))
            t_rec = time.perf_counter() - t0
            oracle = peak_normalize(aud2wav(wav2aud(original, **p.to_dict()), n_iter=n_iter, **p.to_dict()).x_best)
            oracle_target = auditory_target(oracle, n_video_frames=n_frames, config=tcfg)
            metrics = {
                "oracle": score_condition(original, oracle, sr=p.sr, ref_spec=true_target, deg_spec=oracle_target),
                "recon": score_condition(original, r.audio, sr=p.sr, ref_spec=true_target, deg_spec=r.target),
            }
            words = {"original": recognizer.recognize(original, sr=p.sr), "oracle": recognizer.recognize(oracle, sr=p.sr),
                     "recon": recognizer.recognize(r.audio, sr=p.sr)}
            results.append(ClipResult(
                speaker=spk, id=uid, metrics=metrics, words=words,
                audio={"original": (original, p.sr), "oracle": (oracle, p.sr), "recon": (r.audio, p.sr)},
                spectrograms={"true": true_target, "oracle": oracle_target, "recon": r.target},
                frame_ms=p.frame_ms,
            ))
            timings.append({**r.timings, "total": t_rec})
    meta = {"lip_run": str(Path(lip_run).resolve()), "autoencoder_run": str(rec.autoencoder_run.resolve()),
            "data": str(path.resolve()), "split": split, "clips": int(len(results)), "aud2wav_iterations": n_iter,
            "spectrogram_domain": f"compressed (power {tcfg.power}) auditory spectrogram, as trained",
            "pesq": "narrow-band at 8 kHz (P.862 + P.862.1) and wide-band at 16 kHz (P.862.2)",
            "seconds_per_clip_from_crops": {k: float(np.median([t[k] for t in timings])) for k in timings[0]}}
    return write_report(out, results, title=f"Lip2AudSpec evaluation: {split}", clips=report_clips, meta=meta)

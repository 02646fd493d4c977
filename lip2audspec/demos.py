"""Runnable demonstrations on built-in data (what ``make demo`` runs).

* :func:`lip_demo`, the main job: a synthetic multi-speaker GRID corpus -> preparation -> the ``small``
  autoencoder and lip network -> speech reconstructed from held-out videos -> evaluation report;
* :func:`synthetic_dataset`: a synthetic (or real) GRID folder prepared for training, as the notebooks use it;
* :func:`auditory_round_trip`: synthesized speech -> auditory spectrogram (wav2aud, [10 10 -2 0]) ->
  waveform (aud2wav), with wav files and a figure.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from .auditory import AuditoryParams, aud2wav, resample, wav2aud, write_wav
from .fileio import write_json_atomic

__all__ = ["auditory_round_trip", "demo_speech", "lip_demo", "synthetic_dataset", "DEMO_SENTENCE"]

log = logging.getLogger(__name__)

#: a GRID sentence (id bbaf2n)
DEMO_SENTENCE = "bin blue at f two now"


def demo_speech(text: str = DEMO_SENTENCE, *, sr: int = 16000, voice: str = "en-us+m3", rate: int = 150) -> np.ndarray:
    """Speech synthesized with espeak-ng (the synthetic corpus's engine), resampled to ``sr``.

    Parameters
    ----------
    text : str
    sr : int
        Output sample rate (Hz).
    voice : str
        espeak-ng voice (e.g. ``en-us+m3``, ``en-gb+f2``).
    rate : int
        Speaking rate (words per minute).

    Returns
    -------
    ndarray, float64, shape (n,)
    """
    from .corpora.synthetic.speech import Voice, synthesize

    utt = synthesize(text, voice=Voice(name=voice, rate=rate))
    return resample(utt.audio, sr_in=utt.sr, sr_out=sr)


def auditory_round_trip(out_dir, *, text: str = DEMO_SENTENCE, n_iter: int = 30, params: AuditoryParams | None = None,
                        seed: int = 0, progress: bool = True) -> dict:
    """Speech -> auditory spectrogram -> speech, written to ``out_dir``.

    Writes ``original.wav``, ``spectrogram.npy``, ``reconstructed.wav`` (aud2wav's best iterate,
    peak-normalised), ``round_trip.png`` (both spectrograms and the error curve) and ``summary.json``.

    Parameters
    ----------
    out_dir : str or Path
    text : str
        Sentence to synthesize with espeak-ng.
    n_iter : int
        aud2wav iterations.
    params : AuditoryParams, optional
        Default: Lip2AudSpec's [10 10 -2 0].
    seed : int
        Seed of aud2wav's restarts from noise (``rng``), recorded in the summary.
    progress : bool
        Progress bar for aud2wav.

    Returns
    -------
    dict
        The summary (also in ``summary.json``): durations, timings, final and best relative error, seed.
    """
    params = params or AuditoryParams()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x = demo_speech(text, sr=params.sr)
    write_wav(out / "original.wav", x, sr=params.sr)
    kw = params.to_dict()
    t0 = time.perf_counter()
    spec = wav2aud(x, **kw)
    t_fwd = time.perf_counter() - t0
    np.save(out / "spectrogram.npy", spec)
    t0 = time.perf_counter()
    res = aud2wav(spec, n_iter=n_iter, rng=seed, progress=progress, **kw)
    t_inv = time.perf_counter() - t0
    write_wav(out / "reconstructed.wav", res.x_best, sr=params.sr, normalize=True)
    spec_rec = wav2aud(res.x_best, **kw)

    from .plots import _pyplot, plot_auditory_spectrogram, plot_error_curve, save_figure

    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(8, 8.5), gridspec_kw=dict(height_ratios=[3, 3, 2]))
    plot_auditory_spectrogram(spec, frame_ms=params.frame_ms, shift=params.shift, ax=axes[0], title=f'original: "{text}"')
    plot_auditory_spectrogram(spec_rec, frame_ms=params.frame_ms, shift=params.shift, ax=axes[1], title=f"after aud2wav ({n_iter} iterations)")
    plot_error_curve(res.errors, ax=axes[2])
    fig.tight_layout()
    save_figure(fig, out / "round_trip.png")

    summary = {
        "text": text,
        "params": kw,
        "seed": seed,
        "aud2wav_restarts": list(res.restarts),
        "seconds": len(x) / params.sr,
        "frames": int(spec.shape[0]),
        "wav2aud_s": round(t_fwd, 4),
        "aud2wav_s": round(t_inv, 3),
        "aud2wav_s_per_iteration": round(t_inv / max(n_iter, 1), 4),
        "final_relative_error_pct": float(res.errors[-1, 0]) if n_iter else None,
        "best_relative_error_pct": float(res.errors[:, 0].min()) if n_iter else None,
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) + ["summary.json"],
    }
    write_json_atomic(out / "summary.json", summary)
    log.debug("round trip: %s", json.dumps(summary))
    return summary


def synthetic_dataset(work, *, speakers: int = 4, utterances: int = 80, cropper: str = "haar", crop_size: int = 48,
                      unseen=(), seed: int = 0, workers: int = 2, grid_dir=None, grid_name: str = "grid",
                      prepared_name: str = "prepared", progress: bool = True) -> tuple:
    """Generate (or reuse) a synthetic GRID corpus and prepare it; both steps resume and skip finished work.

    Parameters
    ----------
    work : str or Path
        Working folder: the corpus goes to ``work/grid_name``, the prepared data to ``work/prepared_name``.
    speakers, utterances : int
        Size of the synthetic corpus.
    cropper : {"haar", "landmarks", "mask"}
        Mouth cropper.
    crop_size : int
        Crop side in pixels (the ``small`` preset: 48).
    unseen : tuple of str
        Speakers held out entirely (their clips form ``unseen/test``).
    seed : int
        Corpus and split seed.
    workers : int
        Processes for generation and preparation.
    grid_dir : str or Path, optional
        A real GRID folder to prepare instead of generating one (prepared into ``work/<prepared_name>_grid``,
        never mixed with the synthetic data).

    Returns
    -------
    (Path, Path, dict)
        The GRID folder, the prepared folder and :func:`~lip2audspec.data.prepare.prepare_grid`'s summary.
    """
    from .corpora.synthetic import generate_corpus
    from .data.crop import CropConfig
    from .data.prepare import PrepareConfig, prepare_grid

    work = Path(work)
    if grid_dir:
        grid, prepared = Path(grid_dir), work / f"{prepared_name}_grid"
    else:
        grid, prepared = work / grid_name, work / prepared_name
        generate_corpus(grid, speakers=speakers, utterances=utterances, seed=seed, workers=workers, progress=progress)
    config = PrepareConfig(crop=CropConfig(method=cropper, size=crop_size), unseen=tuple(unseen), seed=seed)
    summary = prepare_grid(grid, prepared, workers=workers, progress=progress, config=config)
    return grid, prepared, summary


#: the lip network family ``make demo`` trains: on the synthetic 2.0 demo corpus the frame-synchronous head
#: (15 epochs, no autoencoder stage) read 45.3 % of the held-out words in 569 s of training, the window
#: network (30 + 30 epochs) 30.7 % in 2323 s (README, "Results of `make demo`")
DEMO_ARCH = "framesync"
#: default lip network epochs of the demo per family (others: the whole-clip default)
DEMO_LIP_EPOCHS = {"lip2audspec": 30}
DEMO_SEQUENCE_EPOCHS = 15
#: changes to a family's ``small`` preset in the demo, chosen on the demo corpus's validation clips: the
#: temporal-correlation loss term raised framesync's val words from 40.1 % to 61.5 % (STOI 0.570 -> 0.616,
#: ESTOI 0.310 -> 0.368; README, "Whole-clip families"). Not in the preset itself: on real GRID s1 it cost
#: words on validation clips.
DEMO_MODEL_CHANGES = {"framesync": {"tcorr_weight": 1.0}}


def lip_demo(out_dir, *, speakers: int = 4, utterances: int = 80, seed: int = 0, workers: int = 2, ae_epochs: int = 30,
             lip_epochs: int | None = None, eval_clips_per_speaker: int = 8, n_iter: int = 20, cropper: str = "haar",
             arch: str = DEMO_ARCH, progress: bool = True) -> dict:
    """The whole pipeline on a synthetic corpus, resumable stage by stage.

    ``out_dir/grid`` (corpus) -> ``prepared`` (48x48 crops, the ``small`` preset's size) -> ``runs/ae``
    (only for the window network ``arch="lip2audspec"``, whose targets are the autoencoder's codes),
    ``runs/lip`` (training; an interrupted run resumes) -> ``report`` (held-out utterances of the seen
    speakers: Corr2D, STOI, ESTOI, PESQ, word accuracy of original / oracle / reconstruction, with
    spectrograms and audio players in ``report/index.html``).

    ``arch``: the lip network family (``train_main --arch``). Default :data:`DEMO_ARCH`, the family that
    measured best at the demo's budget (README, "Whole-clip families"). ``lip_epochs``: default
    :data:`DEMO_LIP_EPOCHS` of the family (the window network's 30 follow 30 autoencoder epochs; a
    whole-clip family's epoch costs more, and its budget keeps the demo within about 15 minutes on 2 cores).

    ``seed`` drives every random choice: the corpus, the split, training, and aud2wav's restarts in the
    evaluation (recorded in ``report/report.json`` and ``demo_summary.json``).

    Returns
    -------
    dict
        Paths and the overall numbers of the report, the seed, and seconds per stage.
    """
    from .corpora.synthetic import generate_corpus
    from .data.crop import CropConfig
    from .data.prepare import PrepareConfig, prepare_grid
    from .evaluation.evaluate import evaluate
    from .models import preset
    from .models.families import WINDOW_ARCH, family
    from .training import TrainConfig, train_autoencoder, train_lipnet, train_or_resume, train_sequence

    if arch != WINDOW_ARCH:
        family(arch)  # an unknown family: one error listing them, before any work
    if lip_epochs is None:
        lip_epochs = DEMO_LIP_EPOCHS.get(arch, DEMO_SEQUENCE_EPOCHS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    times = {}

    def stage(name):
        log.info("demo: %s", name)
        print(f"== {name}", flush=True)
        return time.perf_counter()

    t = stage(f"synthetic corpus: {speakers} speakers x {utterances} utterances")
    generate_corpus(out / "grid", speakers=speakers, utterances=utterances, seed=seed, workers=workers, progress=progress)
    times["corpus"] = time.perf_counter() - t
    small = preset("small")
    t = stage(f"prepare: {cropper} mouth crops {small.lipnet.crop_size}x{small.lipnet.crop_size}, auditory targets")
    prepare_grid(out / "grid", out / "prepared", workers=workers, progress=progress,
                 config=PrepareConfig(crop=CropConfig(method=cropper, size=small.lipnet.crop_size), seed=seed))
    times["prepare"] = time.perf_counter() - t

    def train(name, fn, epochs, **kw):
        tc = TrainConfig(epochs=epochs, seed=seed, verbose=2 if progress else 0, patience=8)
        return train_or_resume(fn, out / "prepared", out / "runs" / name, train_config=tc, **kw)

    if arch == WINDOW_ARCH:
        t = stage(f"train the autoencoder ({ae_epochs} epochs)")
        train("ae", train_autoencoder, ae_epochs)
        times["autoencoder"] = time.perf_counter() - t
        t = stage(f"train the lip network ({lip_epochs} epochs)")
        train("lip", train_lipnet, lip_epochs, autoencoder_run=out / "runs" / "ae")
    else:
        t = stage(f"train the lip network: {arch}, whole clips ({lip_epochs} epochs)")
        changes = DEMO_MODEL_CHANGES.get(arch)
        train("lip", train_sequence, lip_epochs, arch=arch,
              model_config=family(arch).preset("small").replace(**changes) if changes else None)
    times["lipnet"] = time.perf_counter() - t
    t = stage(f"reconstruct and evaluate held-out utterances ({eval_clips_per_speaker} per speaker)")
    doc = evaluate(out / "runs" / "lip", out / "prepared", out=out / "report", split="seen/test", n_iter=n_iter,
                   clips_per_speaker=eval_clips_per_speaker, seed=seed, progress=progress)
    times["evaluate"] = time.perf_counter() - t
    conds = doc["overall"]["conditions"]
    summary = {
        "report": str((out / "report" / "index.html").resolve()),
        "arch": arch,
        "seed": seed,
        "seconds": {k: round(v, 1) for k, v in times.items()},
        "recon": {k: v["mean"] for k, v in conds["recon"]["metrics"].items()},
        "oracle": {k: v["mean"] for k, v in conds["oracle"]["metrics"].items()},
        "word_accuracy": {c: conds[c]["words"]["accuracy"] for c in ("original", "oracle", "recon") if conds[c].get("words")},
    }
    write_json_atomic(out / "demo_summary.json", summary)
    return summary

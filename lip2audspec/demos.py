"""Runnable demonstrations on built-in data (what ``make demo`` runs).

Until the lip pipeline lands, the main demo is the auditory round trip: synthesized speech ->
auditory spectrogram (wav2aud, [10 10 -2 0]) -> waveform (aud2wav), with wav files and a figure.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from .auditory import AuditoryParams, aud2wav, resample, wav2aud, write_wav
from .fileio import write_json_atomic

__all__ = ["auditory_round_trip", "DEMO_SENTENCE"]

log = logging.getLogger(__name__)

#: a GRID sentence (id bbaf2n)
DEMO_SENTENCE = "bin blue at f two now"


def _demo_speech(text: str, sr: int) -> np.ndarray:
    from .data.synthetic.speech import Voice, synthesize

    utt = synthesize(text, voice=Voice(name="en-us+m3", rate=150))
    return resample(utt.audio, sr_in=utt.sr, sr_out=sr)


def auditory_round_trip(out_dir, *, text: str = DEMO_SENTENCE, n_iter: int = 30, params: AuditoryParams | None = None, progress: bool = True) -> dict:
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
    progress : bool
        Progress bar for aud2wav.

    Returns
    -------
    dict
        The summary (also in ``summary.json``): durations, timings, final and best relative error.
    """
    params = params or AuditoryParams()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    x = _demo_speech(text, params.sr)
    write_wav(out / "original.wav", x, sr=params.sr)
    kw = params.to_dict()
    t0 = time.perf_counter()
    spec = wav2aud(x, **kw)
    t_fwd = time.perf_counter() - t0
    np.save(out / "spectrogram.npy", spec)
    t0 = time.perf_counter()
    res = aud2wav(spec, n_iter=n_iter, progress=progress, **kw)
    t_inv = time.perf_counter() - t0
    write_wav(out / "reconstructed.wav", res.x_best, sr=params.sr, normalize=True)
    spec_rec = wav2aud(res.x_best, **kw)

    from .plots import _pyplot, plot_auditory_spectrogram, save_figure

    plt = _pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(8, 8.5), gridspec_kw=dict(height_ratios=[3, 3, 2]))
    plot_auditory_spectrogram(spec, frame_ms=params.frame_ms, shift=params.shift, ax=axes[0], title=f'original: "{text}"')
    plot_auditory_spectrogram(spec_rec, frame_ms=params.frame_ms, shift=params.shift, ax=axes[1], title=f"after aud2wav ({n_iter} iterations)")
    axes[2].plot(np.arange(1, n_iter + 1), res.errors[:, 0], marker=".")
    axes[2].set_xlabel("iteration")
    axes[2].set_ylabel("relative error (%)")
    axes[2].set_yscale("log")
    axes[2].grid(True, alpha=0.3)
    fig.tight_layout()
    save_figure(fig, out / "round_trip.png")

    summary = {
        "text": text,
        "params": kw,
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

"""Figures: auditory spectrograms and error curves (matplotlib, headless-safe)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .fileio import atomic_path

__all__ = ["plot_auditory_spectrogram", "save_figure"]


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # pragma: no cover - backend already fixed by the user
            pass
    import matplotlib.pyplot as plt

    return plt


def plot_auditory_spectrogram(spec, *, frame_ms: float = 10, shift: int = 0, ax=None, title: str | None = None, cmap: str = "magma"):
    """Show an auditory spectrogram (N, 128) with time in s and centre frequency in Hz.

    Parameters
    ----------
    spec : array_like, shape (N, 128)
    frame_ms : float
        Frame length (ms), for the time axis.
    shift : int
        Octave shift, for the frequency axis.
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    from .auditory.filterbank import center_frequencies

    plt = _pyplot()
    spec = np.asarray(spec)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.2))
    n = spec.shape[0]
    ax.imshow(spec.T, origin="lower", aspect="auto", cmap=cmap, extent=(0, n * frame_ms / 1000, 0, spec.shape[1]))
    cf = center_frequencies(shift=shift)
    ticks = [k for k in range(0, spec.shape[1], 24)]
    ax.set_yticks([k + 0.5 for k in ticks])
    ax.set_yticklabels([f"{cf[k]:.0f}" for k in ticks])
    ax.set_xlabel("time (s)")
    ax.set_ylabel("CF (Hz)")
    if title:
        ax.set_title(title)
    return ax


def save_figure(fig, path) -> Path:
    """Save ``fig`` to ``path`` atomically (format from the suffix) and close it."""
    plt = _pyplot()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    return path

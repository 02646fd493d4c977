"""Figures for scripts, reports and notebooks (matplotlib, headless-safe).

Every function draws into ``ax`` (a new figure if None) and returns the Axes, so figures compose:
auditory spectrograms, cochlear filter responses, aud2wav error curves, bottleneck codes (over time and
their PCA), mouth crops, training curves, per-speaker scores and word confusion matrices of an evaluation
report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import ParameterError
from .fileio import atomic_path

__all__ = [
    "plot_auditory_spectrogram", "plot_filterbank", "plot_error_curve", "plot_codes", "plot_crops", "plot_history",
    "plot_speaker_scores", "plot_confusion", "plot_code_pca", "read_history", "save_figure",
]


def _pyplot():
    import matplotlib

    backend = matplotlib.get_backend().lower()
    # keep Agg and notebook backends (inline, widget/ipympl); anything else may need a display
    if backend != "agg" and not any(k in backend for k in ("inline", "ipympl", "widget", "nbagg")):
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

    spec = np.asarray(spec)
    if spec.ndim != 2:
        raise ParameterError(f"spec must have shape (N, channels), got {spec.shape}")
    ax = _axes(ax, (8, 3.2))
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


def _axes(ax, figsize):
    if ax is None:
        _, ax = _pyplot().subplots(figsize=figsize)
    return ax


def plot_filterbank(*, shift: int = 0, channels=None, ax=None, n_freqs: int = 4096):
    """Magnitude responses (dB) of the cochlear filters against frequency (log axis).

    Parameters
    ----------
    shift : int
        Octave shift (sample rate ``16000 * 2**shift``).
    channels : sequence of int, optional
        0-based channels to draw (default: every 8th of the 128).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    from .auditory.filterbank import center_frequencies, frequency_responses

    freqs, mag = frequency_responses(n_freqs=n_freqs, shift=shift)
    channels = list(range(0, mag.shape[0], 8)) if channels is None else list(channels)
    ax = _axes(ax, (8, 3.2))
    cmap = _pyplot().get_cmap("viridis")
    cf = center_frequencies(shift=shift)
    for j, ch in enumerate(channels):
        db = 20 * np.log10(np.maximum(mag[ch], 1e-12))
        ax.semilogx(freqs[1:], db[1:], color=cmap(j / max(len(channels) - 1, 1)), lw=1,
                    label=f"{cf[ch]:.0f} Hz" if j % 4 == 0 else None)
    ax.set_ylim(-60, 5)
    ax.set_xlim(50, freqs[-1])
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("gain (dB)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="CF", fontsize=7, loc="lower left")
    return ax


def plot_error_curve(errors, *, ax=None, label: str | None = None):
    """aud2wav's relative spectrogram error (%) per iteration, on a log axis.

    Parameters
    ----------
    errors : array_like, shape (n_iter,) or (n_iter, k)
        ``Aud2WavResult.errors`` (the first column is drawn).
    """
    e = np.asarray(errors, dtype=float)
    e = e[:, 0] if e.ndim == 2 else e
    ax = _axes(ax, (6, 2.5))
    ax.plot(np.arange(1, len(e) + 1), e, marker=".", label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("relative error (%)")
    ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    if label:
        ax.legend()
    return ax


def plot_codes(codes, *, frame_ms: float = 10, ax=None, title: str | None = None):
    """Bottleneck codes over time: (N, D) in (0, 1), one row per bottleneck unit."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ParameterError(f"codes must have shape (N, D), got {codes.shape}")
    ax = _axes(ax, (8, 2.4))
    n, d = codes.shape
    im = ax.imshow(codes.T, origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
                   extent=(0, n * frame_ms / 1000, 0, d), interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, pad=0.01)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("unit")
    if title:
        ax.set_title(title)
    return ax


def plot_crops(crops, *, n: int = 10, fps: float = 25.0, ax=None, title: str | None = None):
    """A strip of ``n`` mouth crops evenly spaced through a clip ((T, S, S) grey crops)."""
    crops = np.asarray(crops)
    if crops.ndim != 3 or crops.shape[0] == 0:
        raise ParameterError(f"crops must have shape (T, S, S) with T >= 1, got {crops.shape}")
    idx = np.unique(np.linspace(0, crops.shape[0] - 1, min(n, crops.shape[0])).round().astype(int))
    ax = _axes(ax, (min(1.2 * len(idx), 14), 1.6))
    ax.imshow(np.concatenate([crops[i] for i in idx], axis=1), cmap="gray")
    S = crops.shape[2]
    ax.set_xticks([S * (j + 0.5) for j in range(len(idx))])
    ax.set_xticklabels([f"{i / fps:.2f}s" for i in idx], fontsize=7)
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def read_history(history) -> dict:
    """A run's training history as ``{column: ndarray}`` (run folder, ``history.csv`` path or a dict)."""
    import csv

    if isinstance(history, dict):
        return {k: np.asarray(v, dtype=float) for k, v in history.items()}
    path = Path(history)
    if path.is_dir():
        path = path / "history.csv"
    if not path.is_file():
        raise ParameterError(f"no training history at {path}")
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ParameterError(f"{path} holds no epochs yet")
    return {k: np.array([float(r[k]) if r.get(k) not in (None, "") else np.nan for r in rows]) for k in rows[0]}


def plot_history(history, *, metrics=("loss", "pearson_r"), ax=None, title: str | None = None):
    """Training and validation curves per epoch.

    Parameters
    ----------
    history : str, Path or dict
        Run folder, its ``history.csv``, or ``{column: values}``.
    metrics : sequence of str
        Columns to draw; each with its ``val_`` twin when present (dashed).

    Returns
    -------
    matplotlib Axes
    """
    h = read_history(history)
    epochs = h.get("epoch", np.arange(len(next(iter(h.values())))))
    ax = _axes(ax, (6, 3))
    for m in metrics:
        if m not in h:
            raise ParameterError(f"history has no column {m!r}; it has {sorted(h)}")
        line, = ax.plot(epochs + 1, h[m], label=m)
        if f"val_{m}" in h:
            ax.plot(epochs + 1, h[f"val_{m}"], ls="--", color=line.get_color(), label=f"val_{m}")
    ax.set_xlabel("epoch")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_speaker_scores(reports, *, metric: str = "corr2d", condition: str = "recon", ax=None, title: str | None = None):
    """Per-speaker bars of one score from evaluation reports (``report.json`` documents).

    Parameters
    ----------
    reports : dict
        ``{label: report document}``, e.g. ``{"seen": seen_doc, "unseen": unseen_doc}``; each label gets
        its own bar colour, and an "all" bar with its overall value.
    metric : str
        A metric of the report (``corr2d``, ``stoi``, ``estoi``, ``pesq_nb``, ``pesq_wb``) or
        ``word_accuracy`` (in %).
    condition : str
        ``recon`` or ``oracle`` (``original`` for word accuracy).

    Returns
    -------
    matplotlib Axes
    """
    def value(group):
        cond = group["conditions"].get(condition)
        if cond is None:
            return np.nan
        if metric == "word_accuracy":
            w = cond.get("words")
            return 100.0 * w["accuracy"] if w else np.nan
        m = cond["metrics"].get(metric)
        if m is None:
            raise ParameterError(f"report has no metric {metric!r} for {condition!r}; it has {sorted(cond['metrics'])}")
        return np.nan if m["mean"] is None else m["mean"]

    ax = _axes(ax, (7, 3))
    x0, ticks, labels = 0, [], []
    for j, (label, doc) in enumerate(reports.items()):
        names = list(doc["speakers"]) + ["all"]
        vals = [value(doc["speakers"][s]) for s in doc["speakers"]] + [value(doc["overall"])]
        xs = np.arange(x0, x0 + len(names))
        ax.bar(xs, vals, color=f"C{j}", label=label)
        ticks += list(xs)
        labels += names
        x0 += len(names) + 1
    ax.set_xticks(ticks)
    ax.set_xticklabels(labels, rotation=0, fontsize=8)
    ax.set_ylabel(f"{metric} ({condition})")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_confusion(matrix, labels, *, normalize: bool = False, ax=None, title: str | None = None, cmap: str = "Blues"):
    """A confusion matrix with :class:`sklearn.metrics.ConfusionMatrixDisplay` (true words down, heard across).

    Parameters
    ----------
    matrix : array_like, shape (n_true, n_heard)
        Counts, ``n_true <= n_heard``: row ``i`` is the true word ``labels[i]``, column ``j`` the heard word
        ``labels[j]``. Extra columns (e.g. "nothing heard") get empty rows, so the display stays square.
    labels : sequence of str, length n_heard
    normalize : bool
        Colour and annotate each row as fractions of its true word's count (rows with no clips stay 0).
    ax : matplotlib Axes, optional
    title : str, optional
    cmap : str

    Returns
    -------
    matplotlib Axes
        Zero cells are left blank.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    m = np.asarray(matrix, dtype=np.float64)
    labels = [str(x) for x in labels]
    if m.ndim != 2 or m.shape[1] != len(labels) or m.shape[0] > m.shape[1] or m.shape[0] == 0:
        raise ParameterError(f"matrix must have shape (n_true, n_heard) with 0 < n_true <= n_heard = len(labels) "
                             f"= {len(labels)}, got {m.shape}")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ParameterError("matrix must hold non-negative finite counts")
    square = np.zeros((m.shape[1], m.shape[1]))
    square[: m.shape[0]] = m
    if normalize:
        rows = square.sum(axis=1, keepdims=True)
        square = np.divide(square, rows, out=np.zeros_like(square), where=rows > 0)
    n = len(labels)
    ax = _axes(ax, (max(3.2, 0.22 * n + 1.6), max(2.8, 0.22 * n + 1.0)))
    disp = ConfusionMatrixDisplay(square if normalize else square.astype(np.int64), display_labels=labels)
    # values are written by hand, on the non-zero cells only: 26 x 26 text objects cost more than the image
    disp.plot(ax=ax, cmap=cmap, colorbar=False, include_values=False,
              xticks_rotation="vertical" if max(map(len, labels)) > 2 else "horizontal")
    top = square.max()
    for i, j in zip(*np.nonzero(square)):
        v = square[i, j]
        ax.text(j, i, f"{v:.2f}" if normalize else f"{int(v)}", ha="center", va="center", fontsize=6 if n > 12 else 9,
                color="white" if v > top / 2 else "black")
    ax.set_xlabel("heard")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return ax


def plot_code_pca(codes, *, labels=None, max_points: int = 4000, ax=None, title: str | None = None,
                  cmap: str = "viridis"):
    """Bottleneck codes projected on their first two principal components (:class:`sklearn.decomposition.PCA`).

    Parameters
    ----------
    codes : array_like, shape (N, D)
        One code per frame (``D >= 2``), e.g. ``encode(ae, specs.reshape(-1, 128))``.
    labels : array_like, shape (N,), optional
        Colour of each frame: numbers (e.g. frame energy) on a colour scale with a colour bar, anything else
        (speaker, phoneme class) as categories with a legend.
    max_points : int
        At most this many frames are drawn, evenly spaced through ``codes`` (the PCA is fitted on all).
    ax : matplotlib Axes, optional
    title : str, optional
    cmap : str
        Colour map of numeric labels.

    Returns
    -------
    matplotlib Axes
        Axis labels give each component's share of the variance.
    """
    from sklearn.decomposition import PCA

    x = np.asarray(codes, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ParameterError(f"codes must have shape (N, D) with N >= 2 frames and D >= 2 units, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ParameterError("codes contain NaN or infinite values")
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 1:
        raise ParameterError(f"max_points must be a positive integer, got {max_points!r}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (x.shape[0],):
            raise ParameterError(f"labels must have one entry per frame, shape ({x.shape[0]},), got {labels.shape}")
    pca = PCA(n_components=2)
    xy = pca.fit_transform(x)
    idx = np.unique(np.linspace(0, x.shape[0] - 1, min(max_points, x.shape[0])).round().astype(np.int64))
    ax = _axes(ax, (5.5, 4.5))
    style = {"s": 6, "alpha": 0.6, "linewidths": 0}
    if labels is None:
        ax.scatter(xy[idx, 0], xy[idx, 1], **style)
    elif np.issubdtype(labels.dtype, np.number) and not np.issubdtype(labels.dtype, np.bool_):
        sc = ax.scatter(xy[idx, 0], xy[idx, 1], c=labels[idx].astype(np.float64), cmap=cmap, **style)
        ax.figure.colorbar(sc, ax=ax, pad=0.01)
    else:
        for j, cat in enumerate(np.unique(labels)):
            sel = idx[labels[idx] == cat]
            ax.scatter(xy[sel, 0], xy[sel, 1], color=f"C{j % 10}", label=str(cat), **style)
        ax.legend(fontsize=8, markerscale=2.5, loc="best")
    share = pca.explained_variance_ratio_
    ax.set_xlabel(f"PC1 ({100 * share[0]:.0f} % of variance)")
    ax.set_ylabel(f"PC2 ({100 * share[1]:.0f} % of variance)")
    ax.grid(True, alpha=0.3)
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


def plot_sync_distances(score, path=None, *, ax=None, title: str | None = None):
    """Mean embedding distance per audio offset of a :class:`lip2audspec.sync.SyncScore` (``lip2audspec sync --plot``).

    The minimum is LSE-D at the detected offset (positive = audio late); the dashed line is the median,
    LSE-C the gap between the two. Our expert's values are not comparable with published LSE figures.

    Parameters
    ----------
    score : SyncScore
    path : str or Path, optional
        Save the figure there (PNG) and close it.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes, or the saved Path when ``path`` is given
    """
    d = np.asarray(score.mean_distances, float)
    shifts = np.arange(len(d)) - (len(d) - 1) // 2
    ax = _axes(ax, (6, 3))
    fig = ax.figure
    ax.plot(shifts, d, marker="o", ms=3)
    med = float(np.sort(d)[(len(d) - 1) // 2])
    ax.axhline(med, ls="--", c="grey", lw=1, label=f"median (LSE-C {score.lse_c:.3f})")
    ax.plot([score.offset_frames], [score.lse_d], "r*", ms=12, label=f"offset {score.offset_frames:+d} (LSE-D {score.lse_d:.3f})")
    ax.set_xlabel("audio offset (video frames; positive = audio late)")
    ax.set_ylabel("mean distance")
    ax.set_title(title or "lip-sync distance per offset")
    ax.legend(fontsize=8)
    if path is not None:
        return save_figure(fig, path)
    return ax

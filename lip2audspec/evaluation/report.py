"""Evaluation report: ``report.json``, ``report.md`` and a static ``index.html`` with spectrograms and audio.

Renders what :mod:`.summary` computes (:class:`~.summary.ClipResult` per clip, :func:`~.summary.summarize`
for the ``report.json`` document).

Output folder (:func:`write_report`)::

    report.json   report.md   index.html
    clips/<speaker>_<id>/{true,oracle,recon}.png  {original,oracle,recon}.wav   (for the selected clips)
    confusion/<condition>_<slot>.png     (word confusion matrices; letter and digit by default)

``report.md`` shows means with their 95 % bootstrap intervals, the grammar-chance word accuracy and the
most frequent letter and digit confusions; ``index.html`` also shows the confusion-matrix images.

``index.html`` has no external resources (inline CSS, relative links only). :func:`compare_reports` renders
a Markdown table comparing several reports.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import numpy as np

from ..errors import ParameterError
from ..fileio import atomic_path, write_json_atomic, write_text_atomic
from .asr import SLOT_NAMES
from .summary import CONDITIONS, METRICS, MISSING, SPEC_KINDS, ClipResult, _speaker_sort_key, summarize, top_confusions

__all__ = ["CONFUSION_SLOTS", "METRIC_LABELS", "compare_reports", "format_ci", "format_confusions", "write_report"]

METRIC_LABELS = {
    "corr2d": "Corr2D",
    "stoi": "STOI",
    "estoi": "ESTOI",
    "pesq_nb": "PESQ-NB",
    "pesq_wb": "PESQ-WB",
    "lse_d": "LSE-D*",
    "lse_c": "LSE-C*",
}
_SPEC_TITLES = {"true": "true", "oracle": "oracle", "recon": "reconstructed"}


# ---------------------------------------------------------------------------------------------------------------
# Media

def _select(results, clips) -> list:
    if clips is None:
        return []
    if isinstance(clips, (int, np.integer)) and not isinstance(clips, bool):
        if clips < 0:
            raise ParameterError(f"clips must be >= 0, got {clips}")
        seen, out = {}, []
        for r in sorted(results, key=_speaker_sort_key):
            if seen.get(r.speaker, 0) < clips:
                seen[r.speaker] = seen.get(r.speaker, 0) + 1
                out.append(r)
        return out
    wanted = {(str(s), str(i)) for s, i in clips}
    return [r for r in sorted(results, key=_speaker_sort_key) if (r.speaker, r.id) in wanted]


def _write_spectrogram_png(spec, path: Path, *, title: str, frame_ms: float, vmax=None):
    from ..plots import _pyplot, plot_auditory_spectrogram, save_figure

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.2, 2.3))
    plot_auditory_spectrogram(np.asarray(spec, dtype=np.float64), frame_ms=frame_ms, ax=ax, title=title)
    if vmax is not None:
        ax.images[0].set_clim(0, vmax)
    save_figure(fig, path)


def _copy_atomic(src, dst: Path):
    src = Path(src)
    if not src.is_file():
        raise ParameterError(f"media file not found: {src}")
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)


def _write_media(r: ClipResult, out_dir: Path) -> dict:
    from ..auditory.io import write_wav

    rel = Path("clips") / r.key
    folder = out_dir / rel
    folder.mkdir(parents=True, exist_ok=True)
    media = {"spectrograms": {}, "audio": {}}
    arrays = [np.asarray(v) for v in r.spectrograms.values() if not isinstance(v, (str, Path))]
    vmax = max((float(np.percentile(a, 99.5)) for a in arrays if a.size), default=None)
    for kind in SPEC_KINDS:
        v = r.spectrograms.get(kind)
        if v is None:
            continue
        if isinstance(v, (str, Path)):
            name = f"{kind}{Path(v).suffix or '.png'}"
            _copy_atomic(v, folder / name)
        else:
            name = f"{kind}.png"
            _write_spectrogram_png(v, folder / name, title=f"{_SPEC_TITLES[kind]} ({r.speaker} {r.id})", frame_ms=r.frame_ms,
                                   vmax=vmax if vmax and vmax > 0 else None)
        media["spectrograms"][kind] = (rel / name).as_posix()
    for cond in CONDITIONS:
        v = r.audio.get(cond)
        if v is None:
            continue
        name = f"{cond}.wav"
        if isinstance(v, (str, Path)):
            _copy_atomic(v, folder / name)
        else:
            try:
                x, sr = v
            except (TypeError, ValueError):
                raise ParameterError(f"audio[{cond!r}] of {r.key} must be a path or (array, sr)") from None
            # aud2wav output has arbitrary gain: normalise everything but the original recording
            write_wav(folder / name, np.asarray(x), sr=int(sr), normalize=cond != "original")
        media["audio"][cond] = (rel / name).as_posix()
    return media


# ---------------------------------------------------------------------------------------------------------------
# Rendering

def _fmt(v, digits=3) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def _pct(v) -> str:
    return "–" if v is None else f"{100 * v:.1f}%"


def format_ci(mean, ci, *, digits=3, percent=False) -> str:
    """``0.596 [0.571, 0.620]`` or ``35.9 % [31.2, 40.5]``; just the mean without an interval."""
    if mean is None:
        return "–"
    f = (lambda v: f"{100 * v:.1f}") if percent else (lambda v: f"{v:.{digits}f}")
    text = f"{f(mean)} %" if percent else f(mean)
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{f(ci[0])}, {f(ci[1])}]"
    return text


def format_confusions(matrix: dict, *, k: int = 5) -> str:
    """``b -> d: 3, m -> n: 2`` (the ``k`` most frequent confusions of one slot), or ``none``."""
    top = top_confusions(matrix, k=k)
    return ", ".join(f"{t} -> {h}: {c}" for t, h, c in top) if top else "none"


#: Slots whose most frequent confusions are listed in report.md and printed by ``lip2audspec evaluate``.
CONFUSION_SLOTS = ("letter", "digit")


def _metric_rows(summary: dict) -> list:
    """[(condition, {metric: stat dict}, words dict or None)] for one group summary."""
    return [(cond, d["metrics"], d["words"]) for cond, d in summary["conditions"].items()]


def compare_reports(reports: dict, *, condition: str = "recon") -> str:
    """A Markdown table comparing the overall results of several reports (e.g. seen vs unseen speakers).

    Parameters
    ----------
    reports : dict
        ``{label: report document}`` (as returned by ``evaluate`` / :func:`write_report`).
    condition : str
        Condition whose metrics are shown (``recon`` or ``oracle``); word accuracy is shown for all three.

    Returns
    -------
    str
    """
    if not reports:
        raise ParameterError("no reports to compare")
    head = ["", "clips"] + [METRIC_LABELS.get(m, m) for m in METRICS] + [f"words {c}" for c in CONDITIONS]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label, doc in reports.items():
        conds = doc["overall"]["conditions"]
        means = {m: s["mean"] for m, s in (conds.get(condition) or {}).get("metrics", {}).items()}
        words = [_pct(((conds.get(c) or {}).get("words") or {}).get("accuracy")) for c in CONDITIONS]
        lines.append("| " + " | ".join([str(label), str(doc["overall"]["n_clips"])] + [_fmt(means.get(m)) for m in METRICS]
                                       + words) + " |")
    return "\n".join(lines) + "\n"


def _markdown(doc: dict) -> str:
    lines = [f"# {doc['title']}", ""]
    for k, v in doc["meta"].items():
        lines.append(f"- **{k}**: {v}")
    if doc["meta"]:
        lines.append("")
    head = "| group | condition | n | " + " | ".join(METRIC_LABELS[m] for m in METRICS) + " | word acc. | sentence acc. |"
    b = doc.get("bootstrap", {})
    level = f"{100 * b['level']:.0f} %" if b else ""
    lines += ["## Metrics (means; signal metrics against the original audio)", "",
              f"In brackets: {level} bootstrap intervals over clips ({b['resamples']} resamples, seed {b['seed']})."
              if b else "", "", head, "|" + "---|" * (len(METRICS) + 5)]
    groups = [("overall", doc["overall"])] + list(doc["speakers"].items())
    for name, g in groups:
        for cond, stats, wa in _metric_rows(g):
            cells = [format_ci(stats[m]["mean"], stats[m].get("ci"), digits=2 if m.startswith("pesq") else 3)
                     if m in stats else "–" for m in METRICS]
            lines.append(f"| {name} | {cond} | {g['n_clips']} | " + " | ".join(cells) +
                         f" | {format_ci(wa['accuracy'], wa.get('ci'), percent=True) if wa else '–'}"
                         f" | {_pct(wa['sentence_accuracy']) if wa else '–'} |")
    chance = doc.get("chance")
    if chance:
        lines += ["", f"Grammar chance (uniform guessing within the GRID grammar): {100 * chance['accuracy']:.1f} %."]
    lines += ["", "## Word accuracy per position", "",
              "| group | condition | " + " | ".join(SLOT_NAMES) + " | all | WER |", "|" + "---|" * (len(SLOT_NAMES) + 4)]
    for name, g in groups:
        for cond, d in g["conditions"].items():
            wa = d["words"]
            if wa:
                lines.append(f"| {name} | {cond} | " + " | ".join(_pct(wa["per_position"][s]) for s in SLOT_NAMES) +
                             f" | {_pct(wa['accuracy'])} | {_fmt(wa['wer'])} |")
    if chance:
        lines.append("| chance | uniform guess | " + " | ".join(_pct(chance["per_position"][s]) for s in SLOT_NAMES) +
                     f" | {_pct(chance['accuracy'])} | – |")
    confusions = [(cond, d["confusion"]) for cond, d in doc["overall"]["conditions"].items() if d.get("confusion")]
    if confusions:
        lines += ["", "## Most frequent confusions (all clips)", "",
                  f"`true -> heard: count`; `{MISSING}` = nothing valid heard in the slot.", "",
                  "| condition | slot | confusions |", "|---|---|---|"]
        for cond, cm in confusions:
            lines += [f"| {cond} | {slot} | {format_confusions(cm[slot])} |" for slot in CONFUSION_SLOTS if slot in cm]
    lines += ["", "## Definitions", ""] + [f"- **{METRIC_LABELS.get(k, k)}**: {v}" for k, v in doc["definitions"].items()]
    lines += ["", "Conditions: " + "; ".join(f"`{k}` = {v}" for k, v in doc["conditions"].items()), ""]
    return "\n".join(lines)


_CSS = """
:root { --fg:#1d2430; --muted:#5b6575; --line:#d9dee6; --bg:#f6f7f9; --card:#fff; --accent:#2f5fb3;
        --good:#1b7f3b; --bad:#b3261e; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; color:var(--fg); background:var(--bg); }
header { background:#1f2a3c; color:#fff; padding:18px 32px; }
header h1 { margin:0; font-size:22px; font-weight:600; }
header .meta { margin-top:6px; color:#c5cfdd; font-size:13px; }
header .meta span { margin-right:18px; }
main { padding:20px 32px 40px; max-width:1400px; }
h2 { font-size:18px; margin:28px 0 10px; border-bottom:2px solid var(--line); padding-bottom:4px; }
h3 { font-size:16px; margin:18px 0 8px; }
table { border-collapse:collapse; background:var(--card); margin:6px 0 12px; font-variant-numeric:tabular-nums; }
th, td { border:1px solid var(--line); padding:5px 10px; text-align:right; white-space:nowrap; }
th { background:#eef1f5; font-weight:600; }
td.l, th.l { text-align:left; }
tr.group-start td { border-top:2px solid #aab3c0; }
td.cond { color:var(--muted); }
.cms { display:grid; grid-template-columns:repeat(auto-fill, minmax(340px, 1fr)); gap:12px; margin:8px 0 16px; }
.cms figure { margin:0; border:1px solid var(--line); border-radius:6px; padding:8px; background:var(--card); }
.cms img { width:100%; height:auto; display:block; }
.cms figcaption { font-size:13px; color:var(--muted); margin-top:4px; }
.note { color:var(--muted); font-size:13px; max-width:1000px; }
.clip { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 16px; margin:12px 0; }
.clip h3 { margin:0 0 4px; }
.clip .ref { font-family:ui-monospace,"DejaVu Sans Mono",monospace; }
.words { font-family:ui-monospace,"DejaVu Sans Mono",monospace; font-size:13px; margin:2px 0; }
.words .ok { color:var(--good); }
.words .err { color:var(--bad); font-weight:700; text-decoration:underline; }
.words .lab { display:inline-block; width:90px; color:var(--muted); font-family:system-ui,sans-serif; }
.panels { display:grid; grid-template-columns:repeat(3, minmax(0, 1fr)); gap:12px; margin-top:10px; }
.panel { border:1px solid var(--line); border-radius:6px; padding:8px; background:#fbfcfd; }
.panel .cap { font-weight:600; font-size:13px; margin-bottom:4px; }
.panel img { width:100%; height:auto; display:block; }
.panel audio { width:100%; margin-top:6px; }
.panel .m { font-size:12px; color:var(--muted); margin-top:4px; }
.missing { color:var(--muted); font-style:italic; font-size:13px; padding:20px 0; text-align:center; }
"""


def _e(s) -> str:
    return html.escape(str(s), quote=True)


def _html_metrics_table(groups) -> str:
    cols = "".join(f"<th>{_e(METRIC_LABELS[m])}</th>" for m in METRICS)
    out = ["<table class='metrics'><thead><tr><th class='l'>group</th><th class='l'>condition</th><th>clips</th>"
           f"{cols}<th>word acc.</th><th>sentence acc.</th></tr></thead><tbody>"]
    for name, g in groups:
        for k, (cond, stats, wa) in enumerate(_metric_rows(g)):
            cls = " class='group-start'" if k == 0 else ""
            cells = []
            for m in METRICS:
                st = stats.get(m, {})
                digits = 2 if m.startswith("pesq") else 3
                cells.append(f"<td title='n={st.get('n', 0)}; mean [bootstrap CI] "
                             f"{_e(format_ci(st.get('mean'), st.get('ci'), digits=digits))}'>{_fmt(st.get('mean'), digits)}</td>")
            words = _e(format_ci(wa["accuracy"], wa.get("ci"), percent=True)) if wa else "–"
            out.append(f"<tr{cls}><td class='l'>{_e(name) if k == 0 else ''}</td><td class='l cond'>{_e(cond)}</td>"
                       f"<td>{g['n_clips']}</td>{''.join(cells)}<td>{words}</td>"
                       f"<td>{_pct(wa['sentence_accuracy']) if wa else '–'}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _html_position_table(groups, chance=None) -> str:
    cols = "".join(f"<th>{_e(s)}</th>" for s in SLOT_NAMES)
    out = [f"<table class='positions'><thead><tr><th class='l'>group</th><th class='l'>condition</th>{cols}"
           "<th>all slots</th><th>WER</th></tr></thead><tbody>"]
    for name, g in groups:
        rows = [(c, d["words"]) for c, d in g["conditions"].items() if d["words"]]
        for k, (cond, wa) in enumerate(rows):
            cls = " class='group-start'" if k == 0 else ""
            cells = "".join(f"<td>{_pct(wa['per_position'][s])}</td>" for s in SLOT_NAMES)
            out.append(f"<tr{cls}><td class='l'>{_e(name) if k == 0 else ''}</td><td class='l cond'>{_e(cond)}</td>{cells}"
                       f"<td>{_pct(wa['accuracy'])}</td><td>{_fmt(wa['wer'])}</td></tr>")
    if chance:
        cells = "".join(f"<td>{_pct(chance['per_position'][s])}</td>" for s in SLOT_NAMES)
        out.append(f"<tr class='group-start'><td class='l'>chance</td><td class='l cond'>uniform guess</td>{cells}"
                   f"<td>{_pct(chance['accuracy'])}</td><td>–</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _write_confusion_figures(doc: dict, out_dir: Path, slots) -> dict:
    """Confusion-matrix PNGs of the overall results: ``{condition: {slot: relative path}}``."""
    from ..plots import plot_confusion, save_figure

    out = {}
    for cond, d in doc["overall"]["conditions"].items():
        for slot in slots:
            cm = (d.get("confusion") or {}).get(slot)
            if cm is None:
                continue
            rel = Path("confusion") / f"{cond}_{slot}.png"
            acc = d["words"]["per_position"][slot]
            ax = plot_confusion(cm["counts"], cm["columns"], title=f"{cond}: {slot} ({_pct(acc)} correct)")
            save_figure(ax.figure, out_dir / rel)
            out.setdefault(cond, {})[slot] = rel.as_posix()
    return out


def _html_confusions(doc: dict) -> str:
    figures = doc.get("confusion_figures") or {}
    if not figures:
        return ""
    out = ["<h2>Where the words go wrong</h2>",
           "<p class='note'>Confusion matrices of the recognised words over all clips: rows the true word, columns "
           f"the word heard in that slot, <b>{_e(MISSING)}</b> when nothing valid was heard. Most frequent: "]
    tops = []
    for cond, slots in figures.items():
        cm = doc["overall"]["conditions"][cond]["confusion"]
        tops.append(f"<b>{_e(cond)}</b> " + "; ".join(f"{_e(slot)} {_e(format_confusions(cm[slot], k=3))}" for slot in slots))
    out.append(" · ".join(tops) + ".</p>")
    for cond, slots in figures.items():
        out.append(f"<h3>{_e(doc['conditions'].get(cond, cond))}</h3><div class='cms'>")
        for slot, rel in slots.items():
            out.append(f"<figure><img src='{_e(rel)}' alt='{_e(cond)} {_e(slot)} confusion matrix' loading='lazy'>"
                       f"<figcaption>{_e(slot)}</figcaption></figure>")
        out.append("</div>")
    return "".join(out)


def _html_words(ref, cond, words) -> str:
    if not words:
        return f"<div class='words'><span class='lab'>{_e(cond)}</span><span class='err'>(no hypothesis)</span></div>"
    spans = []
    for k in range(max(len(ref), len(words))):
        w = words[k] if k < len(words) else "∅"
        ok = k < len(ref) and k < len(words) and words[k] == ref[k]
        spans.append(f"<span class='{'ok' if ok else 'err'}'>{_e(w)}</span>")
    return f"<div class='words'><span class='lab'>{_e(cond)}</span>{' '.join(spans)}</div>"


_PANELS = (("true", "original", "true / original"), ("oracle", "oracle", "oracle"), ("recon", "recon", "reconstructed"))


def _html_clip(c: dict) -> str:
    media = c.get("media", {})
    ref = c["reference"]
    out = [f"<div class='clip' id='{_e(c['speaker'])}_{_e(c['id'])}'><h3>{_e(c['speaker'])} / {_e(c['id'])} — "
           f"<span class='ref'>{_e(' '.join(ref))}</span></h3>"]
    for cond in CONDITIONS:
        if cond in c["words"]:
            out.append(_html_words(ref, cond, c["words"][cond]))
    out.append("<div class='panels'>")
    for kind, cond, caption in _PANELS:
        img = media.get("spectrograms", {}).get(kind)
        aud = media.get("audio", {}).get(cond)
        m = c["metrics"].get(cond, {})
        out.append(_html_panel(caption, img, aud, _metrics_line(m)))
    out.append("</div></div>")
    return "".join(out)


def _metrics_line(metrics: dict, names=None) -> str:
    """``STOI 0.480 · ESTOI 0.278`` (PESQ with 2 digits); only ``names`` when given, None values left out."""
    return " · ".join(f"{METRIC_LABELS.get(k, k)} {_fmt(v, 2 if k.startswith('pesq') else 3)}"
                      for k, v in metrics.items() if (names is None or k in names) and v is not None)


def _html_panel(caption: str, img, aud, mtxt: str) -> str:
    """One example panel: caption, spectrogram image (or a placeholder), audio player, metrics line."""
    out = [f"<div class='panel'><div class='cap'>{_e(caption)}</div>",
           f"<img src='{_e(img)}' alt='{_e(caption)} spectrogram' loading='lazy'>" if img
           else "<div class='missing'>no spectrogram</div>"]
    if aud:
        out.append(f"<audio controls preload='metadata' src='{_e(aud)}'></audio>")
    if mtxt:
        out.append(f"<div class='m'>{_e(mtxt)}</div>")
    out.append("</div>")
    return "".join(out)


def _html(doc: dict) -> str:
    groups = [("overall", doc["overall"])] + list(doc["speakers"].items())
    meta = "".join(f"<span><b>{_e(k)}</b>: {_e(v)}</span>" for k, v in doc["meta"].items())
    defs = "".join(f"<li><b>{_e(METRIC_LABELS.get(k, k))}</b>: {_e(v)}</li>" for k, v in doc["definitions"].items())
    conds = "; ".join(f"<b>{_e(k)}</b> = {_e(v)}" for k, v in doc["conditions"].items())
    body = [f"<header><h1>{_e(doc['title'])}</h1><div class='meta'>{meta}</div></header><main>",
            "<h2>Metrics</h2>",
            "<p class='note'>Means over clips (overall pools all clips). Signal metrics compare each condition "
            f"with the original audio; hover a cell for its n and bootstrap interval. Conditions: {conds}.</p>",
            _html_metrics_table(groups),
            "<h2>Word accuracy per position</h2>",
            "<p class='note'>pocketsphinx with a GRID grammar; each of the six slots scored against the "
            "sentence's reference words. Chance: uniform guessing within the grammar.</p>",
            _html_position_table(groups, doc.get("chance")),
            _html_confusions(doc)]
    clips = [c for c in doc["clips"] if c.get("media")]
    if clips:
        body.append("<h2>Examples</h2>")
        current = None
        for c in clips:
            if c["speaker"] != current:
                current = c["speaker"]
                body.append(f"<h3>Speaker {_e(current)}</h3>")
            body.append(_html_clip(c))
    body.append(f"<h2>Definitions</h2><ul class='note'>{defs}</ul></main>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(doc['title'])}</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def write_report(out_dir, results, *, title: str = "Lip2AudSpec evaluation", clips=3, meta: dict | None = None,
                 confusion_slots=CONFUSION_SLOTS, bootstrap: dict | None = None) -> dict:
    """Write ``report.json``, ``report.md``, ``index.html`` and the example media into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Report folder (created; files are replaced atomically, so re-running overwrites cleanly).
    results : iterable of ClipResult
    title : str
    clips : int or iterable of (speaker, id), optional
        Clips to show with spectrogram images and audio players: the first ``clips`` per speaker (by id
        order), or the listed ones; ``None``/0 for none. Clips without audio/spectrograms show what they have.
    meta : dict, optional
        Free-form facts shown in the header and stored in ``report.json`` (run folder, data, split, ...).
    confusion_slots : sequence of str
        Slots (of ``command``, ``colour``, ``preposition``, ``letter``, ``digit``, ``adverb``) whose
        confusion matrices are drawn into ``confusion/<condition>_<slot>.png`` and shown in ``index.html``
        (``report.json`` holds all six either way); empty for none.
    bootstrap : dict, optional
        Overrides of the bootstrap-interval settings (``resamples``, ``seed``, ``level``; default 2000,
        0, 0.95); recorded in ``report.json``.

    Returns
    -------
    dict
        The ``report.json`` document (see :func:`summarize`), plus ``confusion_figures``
        (``{condition: {slot: relative path}}``).
    """
    out_dir = Path(out_dir)
    results = list(results)
    for r in results:
        if not isinstance(r, ClipResult):
            raise ParameterError(f"results must be ClipResult objects, got {type(r).__name__}")
    keys = [r.key for r in results]
    if len(set(keys)) != len(keys):
        raise ParameterError("duplicate (speaker, id) in results")
    confusion_slots = [confusion_slots] if isinstance(confusion_slots, str) else list(confusion_slots or ())
    bad = [s for s in confusion_slots if s not in SLOT_NAMES]
    if bad:
        raise ParameterError(f"unknown confusion_slots {bad}; slots are {list(SLOT_NAMES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    media = {r.key: _write_media(r, out_dir) for r in _select(results, clips) if r.audio or r.spectrograms}
    doc = summarize(results, title=title, meta=meta, media=media, bootstrap=bootstrap)
    doc["confusion_figures"] = _write_confusion_figures(doc, out_dir, confusion_slots)
    write_json_atomic(out_dir / "report.json", doc)
    write_text_atomic(out_dir / "report.md", _markdown(doc))
    write_text_atomic(out_dir / "index.html", _html(doc))
    return doc

"""Families side by side: one comparison of several evaluation reports of the same clips.

:func:`write_comparison` reads the ``report.json`` of each evaluation (``lip2audspec evaluate``, the
benchmarks, ``make demo``), one per model (a family, a budget, an initialisation), and writes::

    comparison.json   comparison.md   index.html
    media/<label>/<speaker>_<id>/recon.{png,wav}   media/reference/<speaker>_<id>/true.png original.wav

* the metrics of the reconstructions (STOI, ESTOI, Corr2D, PESQ) with their 95 % bootstrap intervals, word
  accuracy with its interval beside grammar chance (19 %), and word accuracy per GRID position;
* the **paired** difference in word accuracy of every model against the first (the baseline), over the
  clips both reports scored: the percentile bootstrap of the mean per-clip difference (clips resampled
  together, so the interval is narrower than comparing two unpaired intervals);
* ``index.html``: the tables, then the example clips every report has media for, one row per clip with
  the true spectrogram and original audio, and each model's reconstruction (spectrogram, audio, recognised
  words with errors marked) side by side. No external resources.

Reports that differ in data, split, clip set or ``aud2wav`` iterations are still compared, but each
difference is listed in ``comparison.json`` (``warnings``) and at the top of both documents, because such a
comparison is not like for like.

Examples
--------
>>> write_comparison("cmp", {"window": "eval_window", "framesync": "eval_framesync"})  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import DataError, ParameterError
from ..fileio import write_json_atomic, write_text_atomic
from .asr import SLOT_NAMES
from .report import _CSS, METRIC_LABELS, _copy_atomic, _e, _fmt, _html_panel, _html_words, _metrics_line, _pct, format_ci
from .summary import METRICS, _bootstrap_settings, bootstrap_ci

__all__ = ["load_report", "paired_metric_differences", "paired_word_difference", "write_comparison"]

#: report ``meta`` entries that must agree for a like-for-like comparison (the clip sets are compared too)
_SAME = ("data", "split", "aud2wav_iterations")
#: report ``meta`` entries shown per model
_SHOWN = ("arch", "lip_run", "autoencoder_run", "voice_f0_hz")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


def load_report(path) -> dict:
    """The ``report.json`` document of an evaluation folder (or of the file itself).

    Parameters
    ----------
    path : str or Path
        Report folder (holding ``report.json``) or the JSON file.

    Returns
    -------
    dict
        The document, with ``"_dir"`` set to the folder its media paths are relative to.

    Raises
    ------
    DataError
        Missing, unreadable or not a report (no ``overall`` / ``clips``).
    """
    p = Path(path)
    f = p / "report.json" if p.is_dir() else p
    if not f.is_file():
        raise DataError(f"no evaluation report at {p} (expected a folder with report.json, as written by "
                        "'lip2audspec evaluate')")
    try:
        doc = json.loads(f.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{f} is not a readable report.json: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("overall"), dict) or not isinstance(doc.get("clips"), list):
        raise DataError(f"{f} is not an evaluation report (no 'overall' summary or 'clips' list)")
    doc["_dir"] = str(f.parent)
    return doc


def _clip_values(doc: dict, value_of) -> dict:
    """``{(speaker, id): value_of(clip)}`` for the clips where ``value_of`` gives a value (not None)."""
    out = {}
    for c in doc["clips"]:
        v = value_of(c)
        if v is not None:
            out[(str(c["speaker"]), str(c["id"]))] = float(v)
    return out


def _clip_fractions(doc: dict, condition: str) -> dict:
    """``{(speaker, id): fraction of the six slots correct}`` for the clips the condition has words for."""
    def fraction(c):
        ok = (c.get("correct") or {}).get(condition)
        return float(np.mean(ok)) if ok else None

    return _clip_values(doc, fraction)


def _paired(a: dict, b: dict, **bootstrap) -> tuple:
    """Per-clip differences ``a - b`` on the common clips, their mean and bootstrap interval (or Nones)."""
    common = sorted(set(a) & set(b))
    if not common:
        return common, None, None
    d = np.array([a[k] - b[k] for k in common])
    ci = bootstrap_ci(d, **bootstrap)
    return common, float(d.mean()), [ci["low"], ci["high"]]


def paired_word_difference(doc, baseline, *, condition: str = "recon", resamples: int = 2000, seed: int = 0,
                           level: float = 0.95) -> dict:
    """Word accuracy of ``doc`` minus ``baseline`` on the clips both scored, with a paired bootstrap interval.

    Parameters
    ----------
    doc, baseline : dict
        ``report.json`` documents (:func:`load_report`).
    condition : str
        ``recon`` (default), ``oracle`` or ``original``.
    resamples, seed, level
        Bootstrap settings (see :func:`~lip2audspec.evaluation.bootstrap_ci`).

    Returns
    -------
    dict
        ``difference`` (mean over common clips of the per-clip difference in the fraction of slots
        correct; every GRID clip has six slots, so this is the difference in word accuracy), ``ci``
        ``[low, high]``, ``n`` (common clips), ``doc_accuracy`` and ``baseline_accuracy`` on those clips.
        With no common clip the values are None and ``n`` is 0.
    """
    a, b = _clip_fractions(doc, condition), _clip_fractions(baseline, condition)
    common, diff, ci = _paired(a, b, n=resamples, seed=seed, level=level)
    if not common:
        return {"difference": None, "ci": None, "n": 0, "doc_accuracy": None, "baseline_accuracy": None}
    return {"difference": diff, "ci": ci, "n": len(common),
            "doc_accuracy": float(np.mean([a[k] for k in common])),
            "baseline_accuracy": float(np.mean([b[k] for k in common]))}


def paired_metric_differences(doc, baseline, *, condition: str = "recon", resamples: int = 2000, seed: int = 0,
                              level: float = 0.95) -> dict:
    """Each clip metric (STOI, ESTOI, ...) of ``doc`` minus ``baseline``, paired over the clips both scored.

    Parameters
    ----------
    doc, baseline, condition, resamples, seed, level
        As :func:`paired_word_difference`.

    Returns
    -------
    dict
        ``{metric: {"difference", "ci": [low, high], "n"}}`` for every metric of :data:`METRICS` that both
        reports have for some common clip (clips without a value, e.g. PESQ that failed, are left out).
    """
    out = {}
    for m in METRICS:
        def value(c, m=m):
            v = ((c.get("metrics") or {}).get(condition) or {}).get(m)
            return v if v is not None and np.isfinite(v) else None

        common, diff, ci = _paired(_clip_values(doc, value), _clip_values(baseline, value), n=resamples, seed=seed,
                                   level=level)
        if common:
            out[m] = {"difference": diff, "ci": ci, "n": len(common)}
    return out


def _model_row(label: str, doc: dict, condition: str) -> dict:
    cond = doc["overall"]["conditions"].get(condition) or {}
    words = cond.get("words") or {}
    meta = doc.get("meta") or {}
    return {"label": label, "report": doc["_dir"], "n_clips": doc["overall"].get("n_clips"),
            "meta": {k: meta.get(k) for k in _SHOWN if meta.get(k) is not None},
            "metrics": {m: {"mean": s.get("mean"), "ci": s.get("ci")} for m, s in (cond.get("metrics") or {}).items()},
            "words": {"accuracy": words.get("accuracy"), "ci": words.get("ci"),
                      "per_position": words.get("per_position") or {}} if words else None}


def _differences(docs: dict) -> list:
    """Human-readable list of the report ``meta`` entries (of :data:`_SAME`) and clip sets that differ."""
    out = []
    for k in _SAME:
        vals = {label: (doc.get("meta") or {}).get(k) for label, doc in docs.items()}
        if len({json.dumps(v, sort_keys=True, default=str) for v in vals.values()}) > 1:
            out.append(f"{k} differs: " + "; ".join(f"{label} = {v}" for label, v in vals.items()))
    sets = {label: {(str(c["speaker"]), str(c["id"])) for c in doc["clips"]} for label, doc in docs.items()}
    if len({frozenset(v) for v in sets.values()}) > 1:
        common = set.intersection(*sets.values())
        out.append("clip sets differ: " + "; ".join(f"{label} {len(v)} clips" for label, v in sets.items())
                   + f"; {len(common)} in all (paired differences use the clips both reports scored)")
    return out


def _markdown(doc: dict) -> str:
    models, cond = doc["models"], doc["condition"]
    base = models[0]["label"]
    lines = [f"# {doc['title']}", ""]
    for w in doc["warnings"]:
        lines.append(f"> **Not like for like:** {w}")
    if doc["warnings"]:
        lines.append("")
    metric_names = [m for m in METRICS if any(m in r["metrics"] for r in models)]
    head = ["model", "clips", *(METRIC_LABELS.get(m, m) for m in metric_names), "words [95 % CI]",
            f"words vs {base} (paired) [95 % CI]"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in models:
        cells = [r["label"], str(r["n_clips"])]
        for m in metric_names:
            s = r["metrics"].get(m) or {}
            cells.append(format_ci(s.get("mean"), s.get("ci"), digits=2 if m.startswith("pesq") else 3))
        w = r["words"]
        cells.append(format_ci(w["accuracy"], w["ci"], percent=True) if w else "–")
        p = r["vs_baseline"]
        if r["label"] == base:
            cells.append("(baseline)")
        elif p["n"]:
            cells.append(f"{100 * p['difference']:+.1f} points [{100 * p['ci'][0]:+.1f}, {100 * p['ci'][1]:+.1f}] "
                         f"(n = {p['n']})")
        else:
            cells.append("no common clips")
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"Condition: `{cond}`. Word accuracy: pocketsphinx with the GRID grammar; grammar chance "
              f"{_pct(doc['chance'].get('accuracy'))}. Intervals: percentile bootstrap over clips.", ""]
    paired = [m for m in metric_names if any(m in r.get("vs_baseline_metrics", {}) for r in models[1:])]
    if paired:
        head = ["model", *(METRIC_LABELS.get(m, m) for m in paired)]
        lines += [f"## Metrics vs {base}, paired over common clips [95 % CI]", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for r in models[1:]:
            cells = [r["label"]]
            for m in paired:
                p = r.get("vs_baseline_metrics", {}).get(m)
                digits = 2 if m.startswith("pesq") else 3
                cells.append(f"{p['difference']:+.{digits}f} [{p['ci'][0]:+.{digits}f}, {p['ci'][1]:+.{digits}f}]"
                             if p else "–")
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Word accuracy per position", ""]
    head = ["model", *SLOT_NAMES]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in models:
        pp = (r["words"] or {}).get("per_position", {})
        lines.append("| " + " | ".join([r["label"], *(_pct(pp.get(s)) for s in SLOT_NAMES)]) + " |")
    chance = doc["chance"].get("per_position") or {}
    lines.append("| " + " | ".join(["chance", *(_pct(chance.get(s)) for s in SLOT_NAMES)]) + " |")
    lines += ["", "## Models", ""]
    for r in models:
        facts = ", ".join(f"{k} `{v}`" for k, v in r["meta"].items())
        lines.append(f"- **{r['label']}**: report `{r['report']}`" + (f"; {facts}" if facts else ""))
    return "\n".join(lines) + "\n"


def _html(doc: dict, examples: list) -> str:
    models, base = doc["models"], doc["models"][0]["label"]
    metric_names = [m for m in METRICS if any(m in r["metrics"] for r in models)]
    body = [f"<header><h1>{_e(doc['title'])}</h1><div class='meta'><span><b>condition</b>: {_e(doc['condition'])}"
            f"</span><span><b>grammar chance</b>: {_e(_pct(doc['chance'].get('accuracy')))}</span></div></header><main>"]
    for w in doc["warnings"]:
        body.append(f"<p class='note'><b>Not like for like:</b> {_e(w)}</p>")
    cols = "".join(f"<th>{_e(METRIC_LABELS.get(m, m))}</th>" for m in metric_names)
    body.append("<h2>Metrics</h2><table class='metrics'><thead><tr><th class='l'>model</th><th>clips</th>"
                f"{cols}<th>word acc. [95 % CI]</th><th>vs {_e(base)} (paired)</th></tr></thead><tbody>")
    for r in models:
        cells = []
        for m in metric_names:
            s = r["metrics"].get(m) or {}
            digits = 2 if m.startswith("pesq") else 3
            cells.append(f"<td title='{_e(format_ci(s.get('mean'), s.get('ci'), digits=digits))}'>"
                         f"{_fmt(s.get('mean'), digits)}</td>")
        w, p = r["words"], r["vs_baseline"]
        words = _e(format_ci(w["accuracy"], w["ci"], percent=True)) if w else "–"
        if r["label"] == base:
            vs = "baseline"
        elif p["n"]:
            vs = f"{100 * p['difference']:+.1f} [{100 * p['ci'][0]:+.1f}, {100 * p['ci'][1]:+.1f}]"
        else:
            vs = "–"
        body.append(f"<tr><td class='l'>{_e(r['label'])}</td><td>{r['n_clips']}</td>{''.join(cells)}"
                    f"<td>{words}</td><td>{_e(vs)}</td></tr>")
    body.append("</tbody></table><h2>Word accuracy per position</h2><table class='positions'><thead><tr>"
                "<th class='l'>model</th>" + "".join(f"<th>{_e(s)}</th>" for s in SLOT_NAMES) + "</tr></thead><tbody>")
    chance = doc["chance"].get("per_position") or {}
    for label, pp in [(r["label"], (r["words"] or {}).get("per_position", {})) for r in models] + [("chance", chance)]:
        body.append(f"<tr><td class='l'>{_e(label)}</td>" + "".join(f"<td>{_pct(pp.get(s))}</td>" for s in SLOT_NAMES)
                    + "</tr>")
    body.append("</tbody></table>")
    if examples:
        body.append("<h2>Examples</h2>")
    for ex in examples:
        body.append(f"<div class='clip'><h3>{_e(ex['speaker'])} / {_e(ex['id'])} — <span class='ref'>"
                    f"{_e(' '.join(ex['reference']))}</span></h3>")
        for label, words in ex["words"]:
            body.append(_html_words(ex["reference"], label, words))
        body.append("<div class='panels'>")
        body += [_html_panel(*panel) for panel in ex["panels"]]
        body.append("</div></div>")
    body.append("</main>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_e(doc['title'])}</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _copy_media(doc: dict, rel: str | None, out_dir: Path, dest: Path) -> str | None:
    if not rel:
        return None
    src = Path(doc["_dir"]) / rel
    if not src.is_file():
        return None
    _copy_atomic(src, out_dir / dest)
    return dest.as_posix()


def _examples(docs: dict, out_dir: Path, condition: str, n: int) -> list:
    """The first ``n`` clips (in the baseline report's order) that every report has media for; media copied."""
    by_key = [{(str(c["speaker"]), str(c["id"])): c for c in doc["clips"] if c.get("media")} for doc in docs.values()]
    first = list(docs.values())[0]
    keys = [(str(c["speaker"]), str(c["id"])) for c in first["clips"] if c.get("media")]
    keys = [k for k in keys if all(k in m for m in by_key)][:n]
    out = []
    for key in keys:
        name = f"{key[0]}_{key[1]}"
        ref_clip = by_key[0][key]
        ref_media = ref_clip["media"]
        panels = [("true / original",
                   _copy_media(first, ref_media.get("spectrograms", {}).get("true"), out_dir,
                               Path("media", "reference", name, "true.png")),
                   _copy_media(first, ref_media.get("audio", {}).get("original"), out_dir,
                               Path("media", "reference", name, "original.wav")), "")]
        words = []
        for (label, doc), clips in zip(docs.items(), by_key):
            c = clips[key]
            m = c.get("media", {})
            metrics = (c.get("metrics") or {}).get(condition) or {}
            mtxt = _metrics_line(metrics, ("corr2d", "stoi", "estoi"))
            spec_kind = "true" if condition == "original" else condition
            panels.append((label,
                           _copy_media(doc, m.get("spectrograms", {}).get(spec_kind), out_dir,
                                       Path("media", label, name, f"{spec_kind}.png")),
                           _copy_media(doc, m.get("audio", {}).get(condition), out_dir,
                                       Path("media", label, name, f"{condition}.wav")), mtxt))
            words.append((label, (c.get("words") or {}).get(condition)))
        out.append({"speaker": key[0], "id": key[1], "reference": list(ref_clip["reference"]), "panels": panels,
                    "words": words})
    return out


def write_comparison(out_dir, reports: Mapping, *, condition: str = "recon", clips: int = 3,
                     title: str = "Lip-to-speech models side by side", bootstrap: Mapping | None = None) -> dict:
    """Compare evaluation reports side by side: ``comparison.json``, ``comparison.md``, ``index.html``.

    Parameters
    ----------
    out_dir : str or Path
        Output folder (created; files are replaced atomically).
    reports : mapping of str to (str, Path or dict)
        ``{label: report folder, report.json or loaded document}``, in display order; the first is the
        baseline of the paired differences. Labels: letters, digits, ``_ . + -``, at most 64 characters.
    condition : str
        Condition compared (``recon``, default; ``oracle`` or ``original`` to check the references).
    clips : int
        Example clips shown side by side in ``index.html`` (those every report has media for; 0 for none).
    title : str
    bootstrap : mapping, optional
        ``resamples``, ``seed``, ``level`` of the paired intervals (default 2000, 0, 0.95).

    Returns
    -------
    dict
        The ``comparison.json`` document: ``title``, ``condition``, ``chance``, ``bootstrap``, ``warnings``
        and ``models`` (per label: ``report``, ``n_clips``, ``meta``, ``metrics`` {mean, ci}, ``words``
        {accuracy, ci, per_position}, ``vs_baseline`` (:func:`paired_word_difference`), ``vs_baseline_metrics``
        (:func:`paired_metric_differences`)).

    Raises
    ------
    ParameterError
        Fewer than one report, a bad label, an unknown condition or a negative ``clips``.
    DataError
        A report that cannot be read (:func:`load_report`).
    """
    if not isinstance(reports, Mapping) or not reports:
        raise ParameterError("reports must be a non-empty mapping {label: report folder}")
    for label in reports:
        if not isinstance(label, str) or not _LABEL.match(label) or label == "reference":
            raise ParameterError(f"bad model label {label!r}: use letters, digits and _ . + - (at most 64 characters; "
                                 "not 'reference')")
    if condition not in ("recon", "oracle", "original"):
        raise ParameterError(f"condition must be 'recon', 'oracle' or 'original', got {condition!r}")
    if isinstance(clips, bool) or not isinstance(clips, (int, np.integer)) or clips < 0:
        raise ParameterError(f"clips must be an integer >= 0, got {clips!r}")
    b = _bootstrap_settings(bootstrap)  # the reports' defaults (2000, 0, 0.95), validated as they are
    docs = {label: (dict(r, _dir=r.get("_dir", ".")) if isinstance(r, Mapping) else load_report(r))
            for label, r in reports.items()}
    base_label = next(iter(docs))
    models = []
    for label, doc in docs.items():
        row = _model_row(label, doc, condition)
        row["vs_baseline"] = paired_word_difference(doc, docs[base_label], condition=condition, **b)
        row["vs_baseline_metrics"] = paired_metric_differences(doc, docs[base_label], condition=condition, **b)
        models.append(row)
    first = docs[base_label]
    out = {"title": title, "condition": condition, "chance": first.get("chance") or {}, "bootstrap": b,
           "warnings": _differences(docs), "models": models}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    examples = _examples(docs, out_dir, condition, int(clips))
    out["examples"] = [{"speaker": e["speaker"], "id": e["id"], "media": {p[0]: {"spectrogram": p[1], "audio": p[2]}
                                                                          for p in e["panels"]}} for e in examples]
    write_json_atomic(out_dir / "comparison.json", out)
    write_text_atomic(out_dir / "comparison.md", _markdown(out))
    write_text_atomic(out_dir / "index.html", _html(out, examples))
    return out

"""AV-sync check of prepared clips (``prepare --sync-check``): measure, then correct or exclude.

The measurement itself (a trained lip-sync expert, :class:`lip2audspec.sync.SyncExpert`) lives above the
data layer; preparation receives it as a function ``measure(crops, spec, audio) -> {"offset_frames",
"lse_d", "lse_c"}`` (``audio`` is a callable returning the clip's speech, called only by experts that need
the waveform) and applies the rules of :class:`SyncCheckConfig` here:

* every clip's offset (video frames, positive = audio late) and confidence (LSE-C) go to the manifest
  (``sync``) and ``report.md``;
* with ``correct``: a clip's auditory target is shifted by the detected offset (:func:`shift_target`), so
  that target frame ``t`` describes the sound of video frame ``t``;
* a clip whose ``|offset| > max_offset`` with ``lse_c < min_confidence`` is excluded (stage ``sync``): its
  offset is large and the expert is unsure of it. (Confident large offsets are corrected with ``correct``,
  and kept as they are without it.)

Measurements are cached per clip in the preparation's work folder (``<id>.sync.json``, tied to the
expert), so a rerun does not measure again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import Config, check_bool, check_int, check_real, is_int
from ..errors import ParameterError
from ..fileio import write_json_atomic

__all__ = ["SyncCheckConfig", "shift_target", "apply_sync_check", "sync_report_lines"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncCheckConfig(Config):
    """How ``prepare --sync-check`` treats the measured offsets.

    Parameters
    ----------
    expert : str
        The lip-sync expert used (a bundled name or run folder; recorded, and keys the per-clip cache).
    correct : bool
        Shift each clip's target by its detected offset.
    max_offset : int
        Offsets up to this many video frames (either sign) are never grounds for exclusion (default 3).
    min_confidence : float
        Clips beyond ``max_offset`` with LSE-C below this are excluded (default 0: none; choose it from
        the LSE-C of the clips of a corpus you trust, as the scale is the expert's own).
    """

    KIND = "sync_check"

    expert: str = "sync-s1"
    correct: bool = False
    max_offset: int = 3
    min_confidence: float = 0.0

    def __post_init__(self):
        if not isinstance(self.expert, str) or not self.expert:
            raise ParameterError(f"SyncCheckConfig.expert must name an expert, got {self.expert!r}")
        check_bool(self, "correct")
        check_int(self, "max_offset", lo=0)
        check_real(self, "min_confidence", lo=None)


def shift_target(spec, offset_frames: int, *, frames_per_video_frame: int = 4) -> np.ndarray:
    """Undo an AV offset on a target: ``out[t] = spec[t + k * offset]``, the ends repeated.

    Parameters
    ----------
    spec : array_like, shape (N, C)
        Auditory target (``k`` frames per video frame).
    offset_frames : int
        Detected offset in video frames (positive = audio late: the sound of video frame ``t`` sits at
        ``t + offset`` in the target, so the target moves earlier).
    frames_per_video_frame : int
        ``k`` (4).

    Returns
    -------
    ndarray, same shape and dtype

    Examples
    --------
    >>> shift_target(np.arange(8.0)[:, None], 1, frames_per_video_frame=2)[:, 0]
    array([2., 3., 4., 5., 6., 7., 7., 7.])
    """
    if not is_int(offset_frames) or not is_int(frames_per_video_frame) or frames_per_video_frame < 1:
        raise ParameterError(f"offset_frames and frames_per_video_frame must be integers, got {offset_frames!r}, "
                             f"{frames_per_video_frame!r}")
    x = np.asarray(spec)
    n = int(offset_frames) * int(frames_per_video_frame)
    if n == 0 or len(x) == 0:
        return x.copy()
    idx = np.clip(np.arange(len(x)) + n, 0, len(x) - 1)
    return x[idx]


def _cache_path(work: Path, speaker: str, utt: str) -> Path:
    return work / speaker / f"{utt}.sync.json"


def apply_sync_check(clips: list, excluded: list, *, measure, config: SyncCheckConfig, work, audio_for,
                     frames_per_video_frame: int = 4) -> tuple:
    """Measure every clip, then correct targets / exclude clips as ``config`` says.

    Parameters
    ----------
    clips : list of dict
        As preparation assembles them (``speaker``, ``id``, ``crops``, ``spec`` ...); ``spec`` is replaced
        when corrected.
    excluded : list of dict
        Exclusion records; excluded clips are appended (stage ``"sync"``).
    measure : callable
        ``measure(crops, spec, audio) -> dict`` with ``offset_frames``, ``lse_d``, ``lse_c``.
    config : SyncCheckConfig
    work : str or Path
        Per-clip cache folder (``<speaker>/<id>.sync.json``).
    audio_for : callable
        ``audio_for(speaker, id) -> ndarray``: the clip's speech (only called by experts that need it).
    frames_per_video_frame : int

    Returns
    -------
    kept : list of dict
    records : list of dict
        Per clip: ``speaker``, ``id``, ``offset_frames``, ``lse_d``, ``lse_c``, ``action``
        (``"kept"``, ``"corrected"``, ``"excluded"``).
    """
    work = Path(work)
    kept, records = [], []
    for c in clips:
        spk, utt = c["speaker"], c["id"]
        cache = _cache_path(work, spk, utt)
        m = None
        if cache.is_file():
            try:
                doc = json.loads(cache.read_text())
                m = doc["measure"] if doc.get("expert") == config.expert else None
            except (ValueError, KeyError):
                m = None
        if m is None:
            m = measure(c["crops"], c["spec"], lambda s=spk, u=utt: audio_for(s, u))
            m = {"offset_frames": int(m["offset_frames"]), "lse_d": float(m["lse_d"]), "lse_c": float(m["lse_c"])}
            write_json_atomic(cache, {"expert": config.expert, "measure": m})
        off = m["offset_frames"]
        rec = {"speaker": spk, "id": utt, **m}
        if abs(off) > config.max_offset and m["lse_c"] < config.min_confidence:
            rec["action"] = "excluded"
            excluded.append({"speaker": spk, "id": utt, "stage": "sync",
                             "reason": f"AV offset {off:+d} frames beyond +-{config.max_offset} with low confidence "
                                       f"(LSE-C {m['lse_c']:.3f} < {config.min_confidence:g})"})
        elif config.correct and off != 0:
            rec["action"] = "corrected"
            kept.append({**c, "spec": shift_target(c["spec"], off, frames_per_video_frame=frames_per_video_frame)})
        else:
            rec["action"] = "kept"
            kept.append(c)
        records.append(rec)
    n_off = sum(abs(r["offset_frames"]) > 1 for r in records)
    log.info("sync check: %d clips measured, %d with |offset| > 1 frame, %d corrected, %d excluded", len(records),
             n_off, sum(r["action"] == "corrected" for r in records), sum(r["action"] == "excluded" for r in records))
    return kept, records


def sync_report_lines(sync: dict) -> list:
    """Markdown lines of the preparation report's sync section (``manifest["sync"]``)."""
    recs = sync.get("clips") or []
    if not recs:
        return []
    cfg = sync.get("config") or {}
    offs = np.array([r["offset_frames"] for r in recs])
    conf = np.array([r["lse_c"] for r in recs])
    lines = ["", "## AV sync", "",
             f"Measured with the lip-sync expert `{cfg.get('expert')}` (offset in video frames, positive = audio late; "
             "LSE values of our own expert, not comparable with published ones). "
             f"{'Targets shifted by the detected offset. ' if cfg.get('correct') else ''}"
             f"Excluded: |offset| > {cfg.get('max_offset')} with LSE-C < {cfg.get('min_confidence')}.", "",
             f"{len(recs)} clips: {int(np.sum(offs == 0))} at offset 0, {int(np.sum(np.abs(offs) <= 1))} within +-1, "
             f"median LSE-C {float(np.median(conf)):.3f}; "
             f"{sum(r['action'] == 'corrected' for r in recs)} corrected, {sum(r['action'] == 'excluded' for r in recs)} excluded.",
             "", "| offset | clips |", "|---|---|"]
    for o in np.unique(offs):
        lines.append(f"| {int(o):+d} | {int(np.sum(offs == o))} |")
    odd = [r for r in recs if abs(r["offset_frames"]) > 1]
    if odd:
        lines += ["", "| speaker | id | offset | LSE-D | LSE-C | action |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['speaker']} | {r['id']} | {r['offset_frames']:+d} | {r['lse_d']:.3f} | {r['lse_c']:.3f} | "
                  f"{r['action']} |" for r in odd]
    return lines

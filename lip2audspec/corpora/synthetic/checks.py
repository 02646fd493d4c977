"""What the decoded video of a synthetic clip shows at espeak-ng's own phoneme timing.

:func:`clip_visual_events` re-synthesizes a clip's speech (deterministic, :func:`.corpus.clip_timing`),
finds the bilabial closures (:func:`.visemes.closure_intervals`), the open vowels and the f/v
fricatives, and measures the frames there **from the decoded pixels** (:func:`.sync.mouth_interior`): are
the lips closed inside every b/p/m closure, apart in the middle of every open vowel, and do f/v show the
upper-teeth band? :func:`corpus_visual_checks` sums this over clips; tests and
``benchmarks/bench_synthetic.py --pixels`` use it on any corpus version (the speech of 1.0 and 2.0 is the
same), so before/after figures come from one measure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError

__all__ = ["clip_visual_events", "corpus_visual_checks", "TEETH_MIN_ROWS"]

#: Height (rows of the central band that are mostly bright) that counts as a visible teeth band.
TEETH_MIN_ROWS = 4
#: Largest lead (s) of the drawn mouth over the sound (the generator's anticipation is 40-55 ms).
LEAD = 0.055


def _frames_overlapping(t0, t1, *, fps, n):
    k0 = max(int(np.floor(t0 * fps)), 0)
    k1 = min(int(np.ceil(t1 * fps)), n)
    return list(range(k0, k1))


def clip_visual_events(corpus_dir, speaker: str, utt_id: str) -> list:
    """Bilabial closures, open vowels and f/v of one clip, each with what its decoded frames show.

    Returns
    -------
    list of dict
        ``kind`` (``"closure"``: a b/p/m not preceded by a pause; ``"open_vowel"``: an AA/AE-class vowel
        (a diphthong's nucleus) of at least 80 ms; ``"fv"``: an f/v of at least 60 ms; both after a following
        closure is taken off their end, :func:`.visemes.segments`), ``phoneme``, ``t0``/``t1`` (clip time, s), ``frames``
        (indices examined: those overlapping a closure, or an f/v extended by :data:`LEAD` before it; the frame
        at the middle of a vowel) and the
        pixel results ``closed`` / ``dark`` / ``bright`` (teeth-band rows) per examined frame.
    """
    from .corpus import FPS, SpeakerSpec, clip_timing, load_manifest, read_mouth_params
    from .sync import mouth_interior, read_video_frames
    from .visemes import closure_intervals, phoneme_viseme, segments

    root = Path(corpus_dir)
    m = load_manifest(root)
    d = m["speakers"][speaker]
    spec = SpeakerSpec.from_dict({k: d[k] for k in ("name", "sex", "voice", "face")})
    u, offset = clip_timing(spec, utt_id, index=d["utterances"].index(utt_id), seed=m["config"]["seed"])
    frames = read_video_frames(root / speaker / f"{utt_id}.mpg")
    mp = read_mouth_params(root / "mouth_params" / speaker / f"{utt_id}.csv")
    if len(frames) != len(mp["frame"]):
        raise DataError(f"{speaker}/{utt_id}: {len(frames)} decoded frames, {len(mp['frame'])} mouth-parameter rows")
    boxes = np.stack([mp["bbox_x0"], mp["bbox_y0"], mp["bbox_x1"], mp["bbox_y1"]], axis=1)
    px = mouth_interior(frames, boxes=boxes)
    n = len(frames)
    events = []
    ph = u.phonemes
    for c0, r, q, i in closure_intervals(ph, audio=u.audio, sr=u.sr):
        if q not in ("p", "b", "m") or i == 0 or phoneme_viseme(ph[i - 1][2]) == "sil":
            continue
        events.append({"kind": "closure", "phoneme": q, "t0": c0 + offset, "t1": r + offset,
                       "frames": _frames_overlapping(c0 + offset, r + offset, fps=FPS, n=n)})
    for sg in segments(ph, audio=u.audio, sr=u.sr):  # a following stop's closure is carved off the end
        a, b, q, cls = sg.start, sg.end, sg.phoneme, sg.viseme
        if sg.kind != "phoneme":
            continue
        if cls in ("AA", "AE") and b - a >= 0.08:
            k = min(int((0.5 * (a + b) + offset) * FPS), n - 1)
            events.append({"kind": "open_vowel", "phoneme": q, "t0": a + offset, "t1": b + offset, "frames": [k]})
        elif q in ("f", "v") and b - a >= 0.06:  # the lips lead the sound by up to LEAD
            events.append({"kind": "fv", "phoneme": q, "t0": a + offset, "t1": b + offset,
                           "frames": _frames_overlapping(a + offset - LEAD, b + offset, fps=FPS, n=n)})
    for e in events:
        e["closed"] = [bool(px["closed"][k]) for k in e["frames"]]
        e["dark"] = [float(px["dark"][k]) for k in e["frames"]]
        e["bright"] = [float(px["teeth_rows"][k]) for k in e["frames"]]
        # f/v: the upper teeth rest on the lower lip: a teeth band with (almost) no cavity below it
        e["teeth_on_lip"] = [bool(px["teeth_rows"][k] >= TEETH_MIN_ROWS and px["dark"][k] <= 0.2 * px["bright"][k])
                             for k in e["frames"]]
    return events


def corpus_visual_checks(corpus_dir, *, clips=None) -> dict:
    """Pixel checks summed over clips (default: every undamaged clip of the corpus).

    Returns
    -------
    dict
        ``closures`` (b/p/m closures not after a pause), ``closures_shown`` (with at least one closed frame),
        per phoneme ``closures_by_phoneme`` {p: [shown, total]}; ``open_vowels``, ``open_vowels_closed``
        (middle frame closed: must be 0); ``fv``, ``fv_teeth`` (a frame with a teeth band of >= :data:`TEETH_MIN_ROWS` rows and
        at most 1 cavity pixel per 5 teeth pixels: the teeth on the lower lip); ``clips``.
    """
    from .corpus import load_manifest

    root = Path(corpus_dir)
    if clips is None:
        m = load_manifest(root)
        bad = {(c["speaker"], c["utt_id"]) for c in m["corrupted"]}
        clips = [(s, u) for s, d in m["speakers"].items() for u in d["utterances"] if (s, u) not in bad]
    out = {"clips": 0, "closures": 0, "closures_shown": 0, "closures_by_phoneme": {}, "open_vowels": 0,
           "open_vowels_closed": 0, "fv": 0, "fv_teeth": 0, "failures": []}
    for s, u in clips:
        out["clips"] += 1
        for e in clip_visual_events(root, s, u):
            if e["kind"] == "closure":
                ok = any(e["closed"])
                out["closures"] += 1
                out["closures_shown"] += ok
                pb = out["closures_by_phoneme"].setdefault(e["phoneme"], [0, 0])
                pb[0] += ok
                pb[1] += 1
            elif e["kind"] == "open_vowel":
                bad = e["closed"][0]
                out["open_vowels"] += 1
                out["open_vowels_closed"] += bad
                ok = not bad
            else:
                ok = any(e["teeth_on_lip"])
                out["fv"] += 1
                out["fv_teeth"] += ok
            if not ok:
                out["failures"].append((s, u, e["kind"], e["phoneme"], round(e["t0"], 3), e["frames"], e["dark"], e["bright"]))
    return out

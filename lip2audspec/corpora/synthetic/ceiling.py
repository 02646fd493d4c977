"""Visual ceiling of a synthetic corpus: how many GRID words an ideal lip reader could tell apart.

For each speaker of a corpus spec (its voice and face) and a few carrier sentences, every word of a
position is put in the same carrier (a minimal-pair set: same voice, same neighbouring words), spoken by
espeak-ng, and turned into the mouth the generator draws (:func:`.visemes.articulation`, the face's
:meth:`.face.FaceRenderer.mouth_shape`). The word's stretch of the track (its start to the next word's
start, plus ``margin`` either side) is stretched to a common length (timing normalised), averaged over
25 fps frames as the camera does, and described per frame by pixel features of the drawn mouth: the outer
lip contour at 5 points above and below, the mouth width, and the visible heights of the upper and lower
teeth, the tongue tip and the tongue body. Two words are *identical* when no feature of any frame differs
by more than ``tolerance_px``; identical words form groups (connected components), and an ideal reader
guessing uniformly within a group scores ``1 / group size`` on each word. The ceiling is the mean over
words, carriers and speakers, per position and over all six positions (every sentence has one word of
each). What it ignores: head motion, lighting, noise and compression (an upper bound on what a reader can
get from the pixels), and prosody.

*Distinct* words are those whose viseme strings differ (in that context: b/p, d/t, c/z, ... share theirs,
as on real lips); ``min_distinct_px`` is the smallest pixel distance between two distinct words, i.e. how
large the smallest cue is that the renderer gives for a difference a lip reader could see.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ...errors import ParameterError
from .. import grid

__all__ = ["visual_ceiling", "mouth_features", "FEATURE_NAMES", "format_ceiling"]

#: Per-frame pixel features of a drawn mouth (see the module docstring).
FEATURE_NAMES = tuple(f"upper_{i}" for i in range(5)) + tuple(f"lower_{i}" for i in range(5)) + (
    "width", "teeth", "lower_teeth", "tongue_tip", "tongue_body")
_CONTOUR_IDX = (3, 7, 12, 17, 21)  # of the 25 points along each lip edge
#: GRID word positions, in sentence order.
SLOT_NAMES = ("command", "colour", "preposition", "letter", "digit", "adverb")


def mouth_features(shape: dict) -> np.ndarray:
    """Pixel features of one :meth:`FaceRenderer.mouth_shape` result -> shape (15,) (:data:`FEATURE_NAMES`)."""
    outer = np.asarray(shape["outer"])
    n = len(outer) // 2
    top = outer[:n, 1]
    bottom = outer[n:, 1][::-1]
    idx = [min(i * n // 25, n - 1) for i in _CONTOUR_IDX]
    op = float(shape.get("open", 0.0))
    if shape.get("inner") is None:
        teeth = lower = tip = body = 0.0
    else:
        teeth = float(shape.get("teeth_px", 0.0))
        if "teeth_px" not in shape and shape.get("teeth") is not None:  # renderer 1.0: band drawn from 2 px under the lip
            t = np.asarray(shape["teeth"])[:, 1]
            teeth = max(float(t.max() - t.min()) - 2.0, 0.0)
        lower = float(shape.get("lower_teeth_px", 0.0))
        tip = float(shape.get("tip_px", 0.0))
        tg = shape.get("tongue")
        body = min(2.0 * float(tg[3]), op) if tg is not None and tg[3] > 0.5 else 0.0
    return np.array([*top[idx], *bottom[idx], float(shape["width"]), teeth, lower, tip, body], np.float64)


def _default_track(u, *, duration, offset, strength, anticipation):
    from .visemes import articulation

    x, _ = articulation(u.phonemes, duration=duration, offset=offset, anticipation=anticipation, strength=strength,
                        audio=u.audio, sr=u.sr)
    return x


def _speakers_of(spec) -> list:
    """(name, Voice, FaceParams) of a CorpusConfig, a plan/manifest dict or a corpus folder."""
    from .corpus import CorpusConfig, SpeakerSpec, load_manifest, plan_corpus

    if isinstance(spec, CorpusConfig):
        spec = plan_corpus(spec)
    elif isinstance(spec, (str, Path)):
        spec = load_manifest(spec)
    if not isinstance(spec, dict) or "speakers" not in spec:
        raise ParameterError("spec must be a CorpusConfig, a corpus plan/manifest dict or a corpus folder")
    out = []
    for name, d in spec["speakers"].items():
        s = SpeakerSpec.from_dict({k: d[k] for k in ("name", "sex", "voice", "face")})
        out.append((name, s.voice, s.face, list(d.get("utterances", []))))
    return out


def _word_windows(carrier_id, slot, *, voice, face, track_fn, renderer, margin, anticipation):
    """For every word of ``slot`` in ``carrier_id``: the 1 ms mouth-parameter window around the word."""
    from .corpus import spoken_text, word_starts
    from .speech import synthesize
    from .visemes import phoneme_viseme

    from concurrent.futures import ThreadPoolExecutor

    words = list(grid.sentence_from_id(carrier_id))
    offset = 0.5
    out = {}
    texts = []
    for w in grid.SLOTS[slot]:
        sent = list(words)
        sent[slot] = w
        texts.append(" ".join(spoken_text(grid.id_from_sentence(sent))))
    with ThreadPoolExecutor(max_workers=4) as ex:  # each synthesis runs in its own child process
        utts = list(ex.map(lambda t: synthesize(t, voice=voice, rand_seed=1), texts))
    for w, u in zip(grid.SLOTS[slot], utts):
        if len(u.words) != 6:
            continue
        starts = word_starts(u.words, u.phonemes)
        speech_end = max(b for a, b, p in u.phonemes if not p.lstrip("',").startswith("_"))
        t0 = starts[slot] + offset - margin
        t1 = (starts[slot + 1] if slot < 5 else speech_end) + offset + margin
        duration = max(u.duration + 2 * offset, t1 + 0.1)
        x = track_fn(u, duration=duration, offset=offset, strength=face.articulation, anticipation=anticipation)
        t_end = starts[slot + 1] if slot < 5 else speech_end
        vis = [phoneme_viseme(p) for a, b, p in u.phonemes if starts[slot] - 0.0005 <= a < t_end - 0.0005]
        vis = tuple(v for k, v in enumerate(vis) if v not in ("sil", "?") and (k == 0 or v != vis[k - 1]))
        out[w] = (x[int(round(t0 * 1000)): int(round(t1 * 1000))], vis)
    return out


def _features(window, length_ms, *, renderer, fps=25.0):
    """Stretch a 1 ms window to ``length_ms``, average over frames, -> (n_frames, n_features) pixels."""
    from .visemes import frame_average

    src = np.linspace(0.0, 1.0, len(window))
    dst = np.linspace(0.0, 1.0, length_ms)
    x = np.stack([np.interp(dst, src, window[:, j]) for j in range(window.shape[1])], axis=1)
    n = max(int(length_ms * fps // 1000), 1)
    frames = frame_average(x, n_frames=n, fps=fps)
    return np.stack([mouth_features(renderer.mouth_shape(p)) for p in frames])


def _groups(names, dist, tol):
    parent = {w: w for w in names}

    def find(w):
        while parent[w] != w:
            parent[w] = parent[parent[w]]
            w = parent[w]
        return w

    for (a, b), d in dist.items():
        if d <= tol:
            parent[find(a)] = find(b)
    groups = {}
    for w in names:
        groups.setdefault(find(w), []).append(w)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g))


def visual_ceiling(spec, *, carriers: int = 2, tolerance_px: float = 1.0, margin: float = 0.06,
                   anticipation: float = 0.0475, max_speakers: int | None = None, positions=None, _track_fn=None,
                   _renderer_cls=None) -> dict:
    """Expected word accuracy of an ideal lip reader of the corpus's rendered mouths (see the module docstring).

    Parameters
    ----------
    spec : CorpusConfig, dict or path
        The corpus: its config, its plan / ``manifest.json`` contents, or its folder.
    carriers : int
        Carrier sentences per speaker (the speaker's first utterances of the plan).
    tolerance_px : float
        Largest per-frame feature difference (pixels) at which two words count as identical.
    margin : float
        Seconds of context kept either side of the word.
    anticipation : float
        Articulatory lead used for the tracks (the generator draws 40-55 ms per clip; the middle).
    max_speakers : int, optional
        Use only the first speakers.
    positions : sequence of str, optional
        Only these positions (names of :data:`SLOT_NAMES`); ``overall`` is then their mean.

    Returns
    -------
    dict
        ``overall`` and ``per_position`` ({slot name: expected accuracy, 0..1}); ``groups`` (slot name ->
        list of word groups identical in the first context); ``identical_pairs`` (slot name -> {"a/b":
        fraction of contexts where identical}); ``min_distinct_px`` and ``nearest_distinct`` (the closest pairs
        of distinct words, i.e. with different viseme strings, with distance and context); ``distinct_pairs``
        and ``distinct_under_2px`` (how many of them are closer than 2 px); ``contexts`` (speaker, carrier)
        and the settings.

    Examples
    --------
    >>> from lip2audspec.corpora.synthetic import CorpusConfig
    >>> c = visual_ceiling(CorpusConfig(speakers=1, utterances=1), carriers=1)   # doctest: +SKIP
    >>> round(c["per_position"]["colour"], 2)                                    # doctest: +SKIP
    1.0
    """
    from .face import FaceRenderer

    if isinstance(carriers, bool) or not isinstance(carriers, int) or carriers < 1:
        raise ParameterError(f"carriers must be a positive integer, got {carriers!r}")
    if not tolerance_px >= 0 or not margin >= 0:
        raise ParameterError(f"tolerance_px and margin must be >= 0, got {tolerance_px}, {margin}")
    positions = SLOT_NAMES if positions is None else tuple(positions)
    unknown = [p for p in positions if p not in SLOT_NAMES]
    if unknown or not positions:
        raise ParameterError(f"positions must be a non-empty subset of {SLOT_NAMES}, got {positions!r}")
    track_fn = _track_fn or _default_track
    renderer_cls = _renderer_cls or FaceRenderer
    speakers = _speakers_of(spec)[: max_speakers or None]
    acc = {name: [] for name in positions}
    same = {name: {} for name in positions}
    groups_first = {}
    distinct = []
    contexts = []
    for spk, voice, face, utts in speakers:
        renderer = renderer_cls(face)
        if len(utts) < carriers:
            rng = np.random.default_rng([grid.speaker_number(spk), 77])
            utts = utts + [grid.id_from_index(int(i)) for i in rng.permutation(grid.N_SENTENCES)[: carriers - len(utts)]]
        for carrier in utts[:carriers]:
            contexts.append((spk, carrier))
            for slot, name in enumerate(SLOT_NAMES):
                if name not in positions:
                    continue
                win = _word_windows(carrier, slot, voice=voice, face=face, track_fn=track_fn, renderer=renderer,
                                    margin=margin, anticipation=anticipation)
                length = int(round(np.mean([len(v) for v, _ in win.values()])))
                feats = {w: _features(v, length, renderer=renderer) for w, (v, _) in win.items()}
                visemes = {w: vs for w, (_, vs) in win.items()}
                names = sorted(feats)
                dist = {(a, b): float(np.abs(feats[a] - feats[b]).max()) for a, b in itertools.combinations(names, 2)}
                groups = _groups(names, dist, tolerance_px)
                size = {w: len(g) for g in groups for w in g}
                acc[name].extend(1.0 / size[w] for w in names)
                groups_first.setdefault(name, groups)
                for (a, b), d in dist.items():
                    key = f"{a}/{b}"
                    same[name][key] = same[name].get(key, 0) + (d <= tolerance_px)
                    if visemes[a] != visemes[b]:  # different viseme strings: words a real lip reader can separate
                        distinct.append((d, name, a, b, spk, carrier))
    n_ctx = len(contexts)
    per_position = {k: float(np.mean(v)) for k, v in acc.items()}
    distinct.sort()
    return {
        "overall": float(np.mean(list(per_position.values()))),
        "per_position": per_position,
        "groups": groups_first,
        "identical_pairs": {k: {p: round(c / n_ctx, 3) for p, c in v.items() if c} for k, v in same.items()},
        "min_distinct_px": round(distinct[0][0], 3) if distinct else None,
        "nearest_distinct": [{"px": round(d, 3), "position": n, "pair": f"{a}/{b}", "speaker": s, "carrier": c}
                             for d, n, a, b, s, c in distinct[:10]],
        "distinct_under_2px": int(sum(d < 2.0 for d, *_ in distinct)),
        "distinct_pairs": len(distinct),
        "contexts": [list(c) for c in contexts],
        "settings": {"carriers": carriers, "tolerance_px": tolerance_px, "margin": margin, "anticipation": anticipation,
                     "fps": 25.0},
    }


def format_ceiling(ceiling: dict) -> list:
    """Lines ``position: 83.0 %`` (one per position, then ``overall``) and the nearest distinct pair."""
    lines = [f"{k}: {100 * v:.1f} %" for k, v in ceiling["per_position"].items()]
    lines.append(f"overall: {100 * ceiling['overall']:.1f} %")
    if ceiling.get("nearest_distinct"):
        n = ceiling["nearest_distinct"][0]
        lines.append(f"smallest distance between distinct words (different visemes): {n['px']:.2f} px ({n['position']} {n['pair']}, "
                     f"{n['speaker']} '{n['carrier']}'); distinct pairs under 2 px: {ceiling['distinct_under_2px']} "
                     f"of {ceiling['distinct_pairs']}")
    return lines

"""Contact sheet of a synthetic corpus: per speaker a face, its mouth on b/p/m, f/v and an open vowel, and a mouth strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, ParameterError
from ...fileio import atomic_path
from .. import grid

__all__ = ["contact_sheet"]


def _pick(mp, lo, hi, viseme, score):
    """Frame in [lo, hi) labelled ``viseme`` (and not next to silence) with the highest ``score``; None if none."""
    vis = np.array(mp["viseme"])
    first = next((k for k in range(lo, hi) if vis[k] not in ("sil", viseme)), hi)  # after the first other sound
    ks = [k for k in range(max(first, 1), min(hi, len(vis) - 1)) if vis[k] == viseme]
    return max(ks, key=lambda k: score[k]) if ks else None


def contact_sheet(corpus_dir, out_png, *, max_speakers: int = 8, columns: int = 2, scale: float = 0.5,
                  n_crops: int = 10, clips_per_speaker: int = 6) -> Path:
    """Write a PNG showing what the corpus looks like, and what its lips do on b/p/m and f/v.

    For each speaker (up to ``max_speakers``) one undamaged clip (the first of its first
    ``clips_per_speaker`` with both a b/p/m after speech and an f/v, else its first) is decoded; the tile
    shows the most open frame (scaled by ``scale``), three enlarged mouth crops: a b/p/m closure frame
    (lips closed), an f/v frame (upper teeth on the lower lip) and the most open frame, each labelled with
    its phoneme, and a strip of ``n_crops`` mouth crops across the sentence. Frames are chosen with the
    ``mouth_params`` labels; what is shown is the decoded video.

    Parameters
    ----------
    corpus_dir : str or Path
        Root of a corpus written by :func:`generate_corpus`.
    out_png : str or Path
    max_speakers, columns, n_crops, clips_per_speaker : int
    scale : float
        Size of the frames on the sheet relative to 360x288.

    Returns
    -------
    Path
        ``out_png``.
    """
    import cv2

    from .corpus import load_manifest, read_mouth_params
    from .sync import read_video_frames

    if not 0.1 <= scale <= 2.0:
        raise ParameterError(f"scale must be in [0.1, 2], got {scale!r}")
    for name, v in (("max_speakers", max_speakers), ("columns", columns), ("n_crops", n_crops), ("clips_per_speaker", clips_per_speaker)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(f"{name} must be a positive integer, got {v!r}")
    root = Path(corpus_dir)
    manifest = load_manifest(root)
    bad = {(c["speaker"], c["utt_id"]) for c in manifest["corrupted"]}
    fw, fh = int(round(360 * scale)), int(round(288 * scale))
    gap = 6
    big_w, big_h = int(round(fh * 0.75)), int(round(fh * 0.5))  # enlarged mouth crops, 3:2
    tile_w = fw + gap + 3 * (big_w + gap) - gap
    crop_w = tile_w // n_crops
    crop_h = int(round(crop_w * 2 / 3))
    label_h = 20
    tile_h = label_h + max(fh, big_h + 16) + 4 + crop_h + 12
    font = cv2.FONT_HERSHEY_SIMPLEX

    def mouth_crop(frame, mp, k, w, h):
        cx, cy = mp["mouth_cx"][k], mp["mouth_cy"][k]
        half_w = 33
        x0, y0 = int(round(cx - half_w)), int(round(cy - half_w * 2 / 3))
        crop = frame[max(y0, 0): y0 + int(half_w * 4 / 3), max(x0, 0): x0 + 2 * half_w]
        return cv2.resize(crop, (w, h), interpolation=cv2.INTER_CUBIC if w > crop.shape[1] else cv2.INTER_AREA)

    tiles = []
    for spk, d in list(manifest["speakers"].items())[:max_speakers]:
        good = [u for u in d["utterances"] if (spk, u) not in bad]
        if not good:
            continue
        chosen = None
        for utt in good[:clips_per_speaker]:
            mp = read_mouth_params(root / "mouth_params" / spk / f"{utt}.csv")
            vis = np.array(mp["viseme"])
            speaking = np.flatnonzero(vis != "sil")
            lo, hi = (int(speaking[0]), int(speaking[-1]) + 1) if speaking.size else (0, len(vis))
            k_b = _pick(mp, lo, hi, "PBM", -mp["mouth_open_px"])
            k_f = _pick(mp, lo, hi, "FV", mp["teeth"] - 0.05 * mp["mouth_open_px"])
            if chosen is None or (k_b is not None and k_f is not None and (chosen[3] is None or chosen[4] is None)):
                chosen = (utt, mp, (lo, hi), k_b, k_f)
            if k_b is not None and k_f is not None:
                break
        utt, mp, (lo, hi), k_b, k_f = chosen
        frames = read_video_frames(root / spk / f"{utt}.mpg")
        if len(frames) != len(mp["jaw"]):
            raise DataError(f"{spk}/{utt}: {len(frames)} decoded frames but {len(mp['jaw'])} mouth-parameter rows")
        k_open = lo + int(np.argmax(mp["mouth_open_px"][lo:hi]))
        tile = np.full((tile_h, tile_w, 3), 250, np.uint8)
        tile[label_h: label_h + fh, :fw] = cv2.resize(frames[k_open], (fw, fh), interpolation=cv2.INTER_AREA)
        v = d["voice"]
        words = " ".join(grid.sentence_from_id(utt))
        cv2.putText(tile, f"{spk}  {v['name']}  \"{words}\"", (2, 14), font, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
        for j, (k, what) in enumerate(((k_b, "b/p/m"), (k_f, "f/v"), (k_open, "open"))):
            x = fw + gap + j * (big_w + gap)
            if k is None:
                cv2.putText(tile, f"no {what}", (x + 4, label_h + big_h // 2), font, 0.4, (20, 20, 20), 1, cv2.LINE_AA)
                continue
            tile[label_h: label_h + big_h, x: x + big_w] = mouth_crop(frames[k], mp, k, big_w, big_h)
            cv2.putText(tile, f"{what}: '{mp['phoneme'][k]}' #{k}", (x, label_h + big_h + 12), font, 0.38, (20, 20, 20), 1, cv2.LINE_AA)
        ks = np.linspace(lo, hi - 1, n_crops).round().astype(int)
        y = label_h + max(fh, big_h + 16) + 4
        for i, k in enumerate(ks):
            tile[y: y + crop_h, i * crop_w: (i + 1) * crop_w] = mouth_crop(frames[k], mp, k, crop_w, crop_h)
            cv2.putText(tile, mp["phoneme"][k], (i * crop_w + 2, y + crop_h + 10), font, 0.33, (20, 20, 20), 1, cv2.LINE_AA)
        tiles.append(tile)
    if not tiles:
        raise DataError(f"no undamaged clip found in {root}")
    columns = min(columns, len(tiles))
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * (tile_h + gap) + gap, columns * (tile_w + gap) + gap, 3), 250, np.uint8)
    for i, t in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[gap + r * (tile_h + gap): gap + r * (tile_h + gap) + tile_h, gap + c * (tile_w + gap): gap + c * (tile_w + gap) + tile_w] = t
    out_png = Path(out_png)
    with atomic_path(out_png) as tmp:
        if not cv2.imwrite(str(tmp), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise DataError(f"cannot write {out_png}")
    return out_png

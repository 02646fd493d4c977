"""Contact sheet of a synthetic corpus: per speaker a mouth-closed and a mouth-open frame, and a mouth strip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import DataError, ParameterError
from ...fileio import atomic_path

__all__ = ["contact_sheet"]


def contact_sheet(corpus_dir, out_png, *, max_speakers: int = 8, columns: int = 4, scale: float = 0.5,
                  n_crops: int = 10) -> Path:
    """Write a PNG showing what the corpus looks like.

    For each speaker (up to ``max_speakers``) its first undamaged clip is decoded; the tile shows the
    frame with the mouth most closed during speech and the most open one (scaled by ``scale``), a label
    (speaker, voice) and a strip of ``n_crops`` mouth crops across the sentence.

    Parameters
    ----------
    corpus_dir : str or Path
        Root of a corpus written by :func:`generate_corpus`.
    out_png : str or Path
    max_speakers, columns, n_crops : int
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
    for name, v in (("max_speakers", max_speakers), ("columns", columns), ("n_crops", n_crops)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ParameterError(f"{name} must be a positive integer, got {v!r}")
    root = Path(corpus_dir)
    manifest = load_manifest(root)
    bad = {(c["speaker"], c["utt_id"]) for c in manifest["corrupted"]}
    fw, fh = int(round(360 * scale)), int(round(288 * scale))
    gap = 6
    crop_w = (2 * fw + gap) // n_crops
    crop_h = int(round(crop_w * 2 / 3))
    label_h = 22
    tile_w, tile_h = 2 * fw + gap, label_h + fh + 4 + crop_h
    tiles = []
    for spk, d in list(manifest["speakers"].items())[:max_speakers]:
        utt = next((u for u in d["utterances"] if (spk, u) not in bad), None)
        if utt is None:
            continue
        frames = read_video_frames(root / spk / f"{utt}.mpg")
        mp = read_mouth_params(root / "mouth_params" / spk / f"{utt}.csv")
        if len(frames) != len(mp["jaw"]):
            raise DataError(f"{spk}/{utt}: {len(frames)} decoded frames but {len(mp['jaw'])} mouth-parameter rows")
        speaking = np.flatnonzero(np.array(mp["viseme"]) != "sil")
        lo, hi = (int(speaking[0]), int(speaking[-1]) + 1) if speaking.size else (0, len(frames))
        jaw = mp["mouth_open_px"]
        k_open = lo + int(np.argmax(jaw[lo:hi]))
        k_closed = lo + int(np.argmin(jaw[lo:hi] + 0.5 * mp["blink"][lo:hi]))
        tile = np.full((tile_h, tile_w, 3), 250, np.uint8)
        for j, k in enumerate((k_closed, k_open)):
            tile[label_h: label_h + fh, j * (fw + gap): j * (fw + gap) + fw] = cv2.resize(frames[k], (fw, fh), interpolation=cv2.INTER_AREA)
        v = d["voice"]
        cv2.putText(tile, f"{spk}  {v['name']}  {utt}", (2, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
        cv2.putText(tile, "closed", (4, label_h + fh - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.putText(tile, "open", (fw + gap + 4, label_h + fh - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        ks = np.linspace(lo, hi - 1, n_crops).round().astype(int)
        y = label_h + fh + 4
        for i, k in enumerate(ks):
            cx, cy = mp["mouth_cx"][k], mp["mouth_cy"][k]
            half_w = 33
            x0, y0 = int(cx - half_w), int(cy - half_w * 2 / 3)
            crop = frames[k][max(y0, 0): y0 + int(half_w * 4 / 3), max(x0, 0): x0 + 2 * half_w]
            tile[y: y + crop_h, i * crop_w: (i + 1) * crop_w] = cv2.resize(crop, (crop_w, crop_h), interpolation=cv2.INTER_AREA)
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

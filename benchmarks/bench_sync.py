"""Checks of the SyncNet lip-sync expert (issue 15): offsets on unseen clips, recovered shifts, LSE-C separation.

::

    python benchmarks/bench_sync.py --data PREPARED_S1 [--split seen/test] [--grid GRID_S1] [-m EXPERT]
        [--videos OTHER.mpg ...] [--synthetic PREPARED_SYNTH] [--out results.json]

For every clip of ``--split`` of the prepared dataset (real GRID s1 test clips, never trained on):

* **offset** of the clip as recorded: target ``|offset| <= 1`` for >= 90 % of clips;
* the audio **shifted** by ``k`` video frames, ``k`` in {-8, -5, -2, +2, +5, +8} (positive = audio late):
  target: offset recovered within +-1 for >= 90 % of (clip, k);
* **LSE-C of the true pair above the LSE-C of a shuffled pair** (the audio of the next clip in the
  split): target >= 95 % of clips.

Audio: an MFCC expert gets MFCC of the waveform (``--grid``, or the corpus the manifest names), shifted
as a waveform (zeros shifted in, :func:`lip2audspec.sync.shift_audio`); an auditory-spectrogram expert
gets the dataset's prepared ``spec``, shifted as features (zeros shifted in; recomputing the auditory
spectrogram of 700 shifted clips would take an hour on 2 cores).

``--videos``: any talking-face videos (their own audio track), scored with ``lip2audspec.sync.sync_video``
(target ``|offset| <= 1`` for >= 90 %). ``--synthetic``: a prepared synthetic corpus (the generator's
own sync, expected 0 +- 1).

The LSE values printed are those of lip2audspec's own expert: not comparable with published LSE-D /
LSE-C (original SyncNet weights).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SHIFTS = (-8, -5, -2, 2, 5, 8)


def _shift_features(f, frames: int, k: int = 4):
    out = np.zeros_like(f)
    n = frames * k
    if n > 0:
        out[n:] = f[:-n]
    elif n < 0:
        out[:n] = f[-n:]
    else:
        out[:] = f
    return out


def dataset_checks(expert, data, split, grid, shifts, *, limit=None, seed=0, label="dataset"):
    from lip2audspec.corpora.grid import GridLayout
    from lip2audspec.data.dataset import GridDataset
    from lip2audspec.data.targets import clip_audio
    from lip2audspec.sync import shift_audio

    tc = expert.target_config()
    sr = tc.auditory.sr
    rows = []
    with GridDataset(data) as ds:
        clips = ds.split(split)
        if limit:
            clips = clips[:limit]
        layout = GridLayout.discover(grid or ds.manifest["source"]["grid_dir"]) if expert.audio_features == "mfcc" else None
        items = []
        for i in clips:
            crops = ds.array("crops", int(i))
            spk, uid = str(ds.clip_speakers[i]), str(ds.ids[i])
            if layout is not None:
                audio = clip_audio(layout.clip_paths(spk, uid), source=ds.spec.audio_source, n_video_frames=len(crops),
                                   config=tc)
                items.append((f"{spk}/{uid}", crops, audio, None))
            else:
                items.append((f"{spk}/{uid}", crops, None, ds.array("spec", int(i))))
    n = len(items)
    t0 = time.perf_counter()
    for j, (key, crops, audio, spec) in enumerate(items):
        def feats(k, audio=audio, spec=spec, crops=crops):
            if audio is not None:
                return expert.features(shift_audio(audio, k, sr=sr) if k else audio, n_video_frames=len(crops), sr=sr)
            return _shift_features(spec, k, expert.k)

        v = expert.embed_video(crops)
        from lip2audspec.sync import lse

        def score(f, v=v):
            return lse(v, expert.embed_audio(f, n_windows=len(v)))

        true = score(feats(0))
        _, ocrops, oaudio, ospec = items[(j + 1) % n]
        other = expert.features(oaudio, n_video_frames=len(crops), sr=sr) if oaudio is not None else ospec
        shuffled = score(other[: len(crops) * expert.k])
        rec = {"clip": key, "offset": true.offset_frames, "lse_d": true.lse_d, "lse_c": true.lse_c,
               "shuffled_lse_c": shuffled.lse_c, "shuffled_lse_d": shuffled.lse_d, "shifts": {}}
        for k in shifts:
            s = score(feats(k))
            rec["shifts"][str(k)] = s.offset_frames
        rows.append(rec)
    secs = time.perf_counter() - t0
    offs = np.array([r["offset"] for r in rows])
    rec_ok = np.array([[abs(r["shifts"][str(k)] - k) <= 1 for k in shifts] for r in rows])
    sep = np.array([r["lse_c"] > r["shuffled_lse_c"] for r in rows])
    summary = {
        "label": label, "clips": n, "split": split, "features": expert.audio_features,
        "offset_within_1": float(np.mean(np.abs(offs) <= 1)), "offset_zero": float(np.mean(offs == 0)),
        "offset_hist": {int(o): int(np.sum(offs == o)) for o in np.unique(offs)},
        "shift_recovered_within_1": float(rec_ok.mean()),
        "shift_recovered_by_k": {str(k): float(rec_ok[:, i].mean()) for i, k in enumerate(shifts)},
        "true_lse_c_above_shuffled": float(sep.mean()),
        "mean_lse_d_true": float(np.mean([r["lse_d"] for r in rows])),
        "mean_lse_c_true": float(np.mean([r["lse_c"] for r in rows])),
        "mean_lse_d_shuffled": float(np.mean([r["shuffled_lse_d"] for r in rows])),
        "mean_lse_c_shuffled": float(np.mean([r["shuffled_lse_c"] for r in rows])),
        "seconds_per_clip": secs / max(n, 1),
    }
    return summary, rows


def video_checks(expert, videos):
    from lip2audspec.errors import Lip2AudSpecError
    from lip2audspec.sync import sync_video

    rows = []
    for v in videos:
        try:
            s = sync_video(v, expert=expert)
            rows.append({"video": str(v), "offset": s.offset_frames, "lse_d": s.lse_d, "lse_c": s.lse_c})
        except Lip2AudSpecError as exc:
            rows.append({"video": str(v), "error": str(exc)})
    ok = [r for r in rows if "offset" in r]
    return {"videos": len(rows), "scored": len(ok),
            "offset_within_1": float(np.mean([abs(r["offset"]) <= 1 for r in ok])) if ok else None}, rows


def make_card_and_bundle(args, doc, argv) -> Path:
    from lip2audspec.pretrained import make_sync_bundle
    from lip2audspec.training.runs import RunDir

    run = RunDir(args.model)
    cfg = run.config()
    state = run.state()
    figures = {k: {kk: vv for kk, vv in doc[k].items() if not isinstance(vv, dict) or kk == "offset_hist"}
               for k in ("real", "videos", "synthetic") if k in doc}
    command = "python benchmarks/bench_sync.py " + " ".join(sys.argv[1:] if argv is None else argv)
    card = {"description": f"SyncNet lip-sync expert (small preset, {doc['features']} features, cosine-BCE) for "
                           "lip2audspec sync, prepare --sync-check and the evaluation's LSE-D / LSE-C",
            "training_data": args.training_data or str(cfg["data"]["path"]),
            "features": doc["features"], "epochs_trained": state.get("epoch"), "seed": cfg["train"]["seed"],
            "model_selected": "best.keras (lowest validation loss on fixed seen/val pairs)",
            "command": command, "test_figures": figures, "note": doc["note"]}
    r = doc.get("real", {})
    md = f"""# {args.bundle}: SyncNet lip-sync expert

SyncNet (Chung & Zisserman 2016) as Wav2Lip's expert (Prajwal et al. 2020): 5 mouth crops (48 x 48, grey)
and 0.2 s of {doc['features']} features -> unit-norm embeddings; trained with Wav2Lip's cosine-BCE on in-sync
pairs vs the same clip's audio shifted by 2-15 frames or another clip's audio (`lip2audspec train-sync`).

- Training data: {card['training_data']}
- Epochs: {state.get('epoch')} (best validation loss kept), seed {cfg['train']['seed']}
- Offsets: video frames at 25 fps, positive = audio late; LSE-D / LSE-C as `joonson/syncnet_python`'s
  `calc_pdist` (offsets -15..+15, zero-padded audio embeddings), see `lip2audspec.sync`.

## Checks (`{command}`)

Real GRID s1 test clips ({r.get('clips')}, never trained on): offset within +-1 {100 * r.get('offset_within_1', float('nan')):.1f} %;
audio shifted by -8/-5/-2/+2/+5/+8 frames recovered within +-1 {100 * r.get('shift_recovered_within_1', float('nan')):.1f} %;
LSE-C of the true pair above a shuffled pair {100 * r.get('true_lse_c_above_shuffled', float('nan')):.1f} %.
Mean LSE-D / LSE-C true {r.get('mean_lse_d_true', float('nan')):.3f} / {r.get('mean_lse_c_true', float('nan')):.3f}, shuffled
{r.get('mean_lse_d_shuffled', float('nan')):.3f} / {r.get('mean_lse_c_shuffled', float('nan')):.3f}.
Other figures: `card.json` (`test_figures`).

**{doc['note']}.**

## Licence

Trained on the GRID corpus (Cooke, Barker, Cunningham & Shao 2006), CC BY 4.0.
"""
    out = Path(__file__).resolve().parents[1] / "lip2audspec" / "pretrained" / "models"
    return make_sync_bundle(args.bundle, run=args.model, out_dir=out, card=card, card_markdown=md, overwrite=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", default=None, help="expert: train-sync run or bundled name (default: the bundled one)")
    ap.add_argument("--data", help="prepared dataset (real GRID s1)")
    ap.add_argument("--split", default="seen/test")
    ap.add_argument("--grid", help="corpus folder of --data (default: from its manifest)")
    ap.add_argument("--limit", type=int, help="at most this many clips of the split")
    ap.add_argument("--videos", nargs="*", default=[], help="other talking-face videos (own audio track)")
    ap.add_argument("--synthetic", help="prepared synthetic corpus (its 'all' clips: --synthetic-split)")
    ap.add_argument("--synthetic-split", default="seen/test")
    ap.add_argument("--synthetic-grid", help="corpus folder of --synthetic (default: from its manifest)")
    ap.add_argument("--out", help="write all results to this JSON file")
    ap.add_argument("--bundle", metavar="NAME", help="after the checks, bundle the -m run (a train-sync run folder) as "
                    "NAME into lip2audspec/pretrained/models with these figures on its card")
    ap.add_argument("--training-data", default="", help="for the card: what the run was trained on")
    args = ap.parse_args(argv)

    from lip2audspec.sync import NOT_COMPARABLE, SyncExpert

    expert = SyncExpert.load(args.model)
    print(f"expert: {expert}")
    doc = {"expert": expert.source, "features": expert.audio_features, "note": NOT_COMPARABLE, "shifts": list(SHIFTS)}
    if args.data:
        s, rows = dataset_checks(expert, args.data, args.split, args.grid, SHIFTS, limit=args.limit, label="real")
        doc["real"], doc["real_clips"] = s, rows
        print(f"\n[{args.split} of {args.data}: {s['clips']} clips, {s['features']} features, "
              f"{s['seconds_per_clip']:.2f} s/clip for 8 scorings]")
        print(f"  offset within +-1 (as recorded)     {100 * s['offset_within_1']:5.1f} %   target >= 90 %   "
              f"{'met' if s['offset_within_1'] >= 0.9 else 'NOT met'}   histogram {s['offset_hist']}")
        print(f"  shifted audio recovered within +-1  {100 * s['shift_recovered_within_1']:5.1f} %   target >= 90 %   "
              f"{'met' if s['shift_recovered_within_1'] >= 0.9 else 'NOT met'}   by k: "
              + ", ".join(f"{k}: {100 * v:.0f} %" for k, v in s["shift_recovered_by_k"].items()))
        print(f"  LSE-C true > shuffled                {100 * s['true_lse_c_above_shuffled']:5.1f} %   target >= 95 %   "
              f"{'met' if s['true_lse_c_above_shuffled'] >= 0.95 else 'NOT met'}")
        print(f"  mean LSE-D / LSE-C: true {s['mean_lse_d_true']:.3f} / {s['mean_lse_c_true']:.3f}, shuffled "
              f"{s['mean_lse_d_shuffled']:.3f} / {s['mean_lse_c_shuffled']:.3f}")
    if args.videos:
        s, rows = video_checks(expert, args.videos)
        doc["videos"], doc["video_rows"] = s, rows
        print(f"\n[{s['videos']} other videos, {s['scored']} scored]")
        for r in rows:
            print(f"  {Path(r['video']).name:28s} " + (f"offset {r['offset']:+d}  LSE-D {r['lse_d']:.3f}  LSE-C {r['lse_c']:.3f}"
                                                       if "offset" in r else f"error: {r['error']}"))
        if s["offset_within_1"] is not None:
            print(f"  offset within +-1: {100 * s['offset_within_1']:.1f} %   target >= 90 %")
    if args.synthetic:
        s, rows = dataset_checks(expert, args.synthetic, args.synthetic_split, args.synthetic_grid, SHIFTS,
                                 label="synthetic")
        doc["synthetic"], doc["synthetic_clips"] = s, rows
        print(f"\n[synthetic corpus {args.synthetic} ({args.synthetic_split}): {s['clips']} clips]")
        print(f"  offset within +-1 {100 * s['offset_within_1']:.1f} % (expected 0 +- 1), histogram {s['offset_hist']}; "
              f"shifts recovered {100 * s['shift_recovered_within_1']:.1f} %; LSE-C true > shuffled "
              f"{100 * s['true_lse_c_above_shuffled']:.1f} %")
    print(f"\nnote: {NOT_COMPARABLE}")
    if args.bundle:
        print(f"bundle: {make_card_and_bundle(args, doc, argv)}")
    if args.out:
        Path(args.out).write_text(json.dumps(doc, indent=1))
        print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

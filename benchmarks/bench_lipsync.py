"""Speech -> lips -> speech: score a Wav2Lip generator against the true faces and close the loop.

For every held-out test clip ``i`` of a face dataset (synthetic corpus and/or real GRID s1), the face
video of *another* test clip ``j`` of the same speaker (the driver) is made to say clip ``i``'s speech
(:class:`lip2audspec.lipsync.LipSyncer`, the driver's own mouth boxes), and the result is compared with
clip ``i``'s true video:

* **mouth opening** per frame from pixels, two measures: the soft dark-pixel area of the mouth region
  (:func:`lip2audspec.evaluation.faces.soft_mouth_openings`, continuous, defined for any mouth: the
  target's measure) and the hard dark-pixel area of the cavity
  (:func:`lip2audspec.evaluation.faces.mouth_openings`, undefined when a generated mouth never shows a
  cavity); Pearson r per clip (mean over clips) and mean absolute error; and, as a check of the soft
  measure, its r with the hard area on the true faces. On the synthetic corpus also the r of the soft
  measure with the renderer's own opening (``mouth_params``: ``mouth_open_px``, the true rendered mouth), for
  the generated, the driver and the true video (the last: how far a pixel measure can follow it);
* **PSNR / SSIM** of the mouth region (64 px faces: 32 x 32 mouth regions);
* **LSE-D / LSE-C** by the *judge* expert (a SyncNet that was not the training loss: the MFCC one), of
  the true video with its speech, the generated video with the same speech, and the driver video with it;
* **the loop**: a lip-to-speech model (Lip2AudSpec window network + aud2wav + GRID recogniser) reads the
  true video and the generated one; word accuracy against clip ``i``'s words. **Control**: the generated
  video shows clip ``j``'s face, so it must be read as ``i``'s words, not ``j``'s (accuracy against the
  driver's words is printed beside it), and the untouched driver video read against ``i``'s words is the
  floor.

Every row has a *driver* baseline: the driver's own frames scored against clip ``i`` (what you get without
generating anything). Word accuracies come with a 95 % bootstrap interval and the grammar chance (19 %).
LSE values are on our expert's scale, not comparable with published (original SyncNet) figures.

Usage::

    python benchmarks/bench_lipsync.py --run RUN --judge SYNC_RUN \\
        --domain synthetic:FACES_DIR:LIP_RUN:32 --domain s1:FACES_DIR:grid-s1:40 --out OUT [--sheet PNG]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lip2audspec.corpora.grid import GridLayout, sentence_from_id  # noqa: E402
from lip2audspec.data.faces import mouth_boxes_from_faces, mouth_region  # noqa: E402
from lip2audspec.data.targets import TargetConfig, audio_for_target  # noqa: E402
from lip2audspec.data.video import read_video  # noqa: E402
from lip2audspec.evaluation.faces import grey, mouth_openings, soft_mouth_openings, opening_scores, psnr, ssim  # noqa: E402
from lip2audspec.evaluation.summary import bootstrap_ci, grammar_chance  # noqa: E402
from lip2audspec.fileio import write_json_atomic  # noqa: E402
from lip2audspec.lipsync import LipSyncer  # noqa: E402
from lip2audspec.training.lipsync_data import FaceData  # noqa: E402

log = logging.getLogger("bench_lipsync")


def _drivers(speakers) -> list:
    """For each clip, the next clip of the same speaker (cyclic)."""
    out = []
    for i, s in enumerate(speakers):
        same = [j for j, t in enumerate(speakers) if t == s]
        k = same.index(i)
        out.append(same[(k + 1) % len(same)] if len(same) > 1 else i)
    return out


def _speech(layout, spk, utt, n_frames, tc):
    p = layout.clip_paths(spk, utt)
    if p.audio is not None:
        return audio_for_target(p.audio, n_video_frames=n_frames, config=tc, source="wav")
    return audio_for_target(p.video, n_video_frames=n_frames, config=tc, source="video")


def _video(layout, spk, utt, n_frames):
    f = read_video(layout.clip_paths(spk, utt).video, gray=False).frames[:n_frames]
    return np.concatenate([f, np.repeat(f[-1:], n_frames - len(f), axis=0)]) if len(f) < n_frames else f


def _rendered_opening(layout, spk, utt, tracks) -> dict:
    """``{"param_KEY": r}`` of each pixel track with the synthetic renderer's ``mouth_open_px`` (empty for real
    clips, which have no ``mouth_params``)."""
    from lip2audspec.corpora.synthetic import read_mouth_params

    path = Path(layout.root) / "mouth_params" / spk / f"{utt}.csv"
    if not path.is_file():
        return {}
    truth = read_mouth_params(path)["mouth_open_px"]
    out = {}
    for key, t in tracks.items():
        n = min(len(truth), len(t))
        out[f"param_{key}"] = opening_scores(t[:n], truth[:n])["r"]
    return out


def _mouth_grey(faces) -> np.ndarray:
    return np.clip(grey(mouth_region(faces)) + 0.5, 0, 255).astype(np.uint8)


class Loop:
    """Lip-to-speech + GRID recogniser on RGB frames, cropped at known mouth boxes (the boxes the model's own
    cropper found on the driving video when it was prepared: the crops of the true video are exactly its
    prepared crops, and the generated video is cropped where a perfect tracker would)."""

    def __init__(self, model, n_iter):
        from lip2audspec.evaluation.asr import GridRecognizer
        from lip2audspec.pretrained import reconstructor_for

        self.rec = reconstructor_for(model, n_iter=n_iter, seed=0)
        self.asr = GridRecognizer()

    def words(self, frames, mouth_boxes, key):
        import cv2

        from lip2audspec.data.crop import extract_crop

        size = self.rec.crop_config.size
        crops = np.stack([extract_crop(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), b, size=size)[0] for f, b in zip(frames, mouth_boxes)])
        out = self.rec.from_crops(crops, key=key)
        return self.asr.recognize(out.audio, sr=out.sr)


def _acc(ref, hyp) -> float:
    from lip2audspec.evaluation.asr import word_accuracy

    return word_accuracy([ref], [hyp])["accuracy"]


def run_domain(name, faces_dir, lip_model, n_clips, *, syncer, judge, n_iter, seed, sheet_rows):
    data = FaceData(faces_dir, "seen/test", max_clips=n_clips)
    layout = GridLayout(data.info["grid_dir"])
    n = len(data)
    T = data.faces.shape[1]
    drivers = _drivers(list(data.speakers))
    tc = TargetConfig()
    loop = Loop(lip_model, n_iter) if lip_model else None
    scale = float(data.info["scale"])
    rows = []
    orig_words = {}
    t_start = time.perf_counter()
    for i in range(n):
        j = drivers[i]
        spk, utt = data.speakers[i], data.ids[i]
        speech = _speech(layout, spk, utt, T, tc)
        driver_frames = _video(layout, data.speakers[j], data.ids[j], T)
        mb_i, mb_j = mouth_boxes_from_faces(data.boxes[i], scale=scale), mouth_boxes_from_faces(data.boxes[j], scale=scale)
        res = syncer.sync(driver_frames, speech, sr=tc.auditory.sr, loop="none", mouth_boxes=mb_j)
        gen, true, drv = res.faces, data.faces[i], data.faces[j]
        o_true, o_gen, o_drv = mouth_openings(true), mouth_openings(gen), mouth_openings(drv)
        d_true, d_gen, d_drv = soft_mouth_openings(true), soft_mouth_openings(gen), soft_mouth_openings(drv)
        row = {"clip": f"{spk}/{utt}", "driver": f"{data.speakers[j]}/{data.ids[j]}",
               "open_gen": opening_scores(o_gen, o_true), "open_drv": opening_scores(o_drv, o_true),
               "dark_gen": opening_scores(d_gen, d_true), "dark_drv": opening_scores(d_drv, d_true),
               "dark_vs_open_true": opening_scores(d_true, o_true)["r"],
               **_rendered_opening(layout, spk, utt, {"gen": d_gen, "drv": d_drv, "true": d_true}),
               "open_true_mean": float(o_true.mean()), "open_gen_mean": float(o_gen.mean()),
               "psnr_gen": psnr(mouth_region(gen), mouth_region(true)), "psnr_drv": psnr(mouth_region(drv), mouth_region(true)),
               "ssim_gen": ssim(mouth_region(gen), mouth_region(true)), "ssim_drv": ssim(mouth_region(drv), mouth_region(true))}
        if judge is not None:
            feats = judge.features(speech, n_video_frames=T, sr=tc.auditory.sr)
            for key, f in (("true", true), ("gen", gen), ("drv", drv)):
                s = judge.score(_mouth_grey(f), feats)
                row[f"lse_{key}"] = {"lse_d": float(s.lse_d), "lse_c": float(s.lse_c), "offset": int(s.offset_frames)}
        if loop is not None:
            ref_i = sentence_from_id(utt)
            hyp_true = loop.words(_video(layout, spk, utt, T), mb_i, f"{spk}/{utt}/true")
            hyp_gen = loop.words(res.frames, mb_j, f"{spk}/{utt}/gen")
            orig_words[i] = hyp_true
            row.update(words_true=list(hyp_true or ()), words_gen=list(hyp_gen or ()), ref=list(ref_i),
                       ref_driver=list(sentence_from_id(data.ids[j])), acc_true=_acc(ref_i, hyp_true),
                       acc_gen=_acc(ref_i, hyp_gen), acc_gen_vs_driver=_acc(sentence_from_id(data.ids[j]), hyp_gen))
        rows.append(row)
        log.info("%s %d/%d %s <- %s: soft opening r %.2f (driver %.2f), cavity r %.2f%s", name, i + 1, n, row["clip"],
                 row["driver"], row["dark_gen"]["r"], row["dark_drv"]["r"], row["open_gen"]["r"], f", words {row['acc_gen']:.2f} (true {row['acc_true']:.2f})" if loop else "")
        if len(sheet_rows) < 6 and i % max(1, n // 3) == 0:
            sheet_rows.append((f"{name} {row['clip']}", true, gen, drv))
    if loop is not None:  # the untouched driver video read against clip i's words (its own reading is known)
        for i, row in enumerate(rows):
            row["acc_drv"] = _acc(row["ref"], orig_words[drivers[i]])
    return summarise(name, rows, seed=seed, seconds=time.perf_counter() - t_start, lip_model=lip_model)


def _mean(rows, f):
    v = np.array([f(r) for r in rows], np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def summarise(name, rows, *, seed, seconds, lip_model):
    s = {"domain": name, "clips": len(rows), "seconds": seconds, "lip_model": str(lip_model)}
    for k in ("gen", "drv"):
        s[f"open_r_{k}"] = _mean(rows, lambda r: r[f"open_{k}"]["r"])
        s[f"open_mae_{k}"] = _mean(rows, lambda r: r[f"open_{k}"]["mae"])
        s[f"open_r_{k}_defined"] = int(sum(np.isfinite(r[f"open_{k}"]["r"]) for r in rows))
        s[f"dark_r_{k}"] = _mean(rows, lambda r: r[f"dark_{k}"]["r"])
        s[f"dark_mae_{k}"] = _mean(rows, lambda r: r[f"dark_{k}"]["mae"])
        s[f"psnr_{k}"] = _mean(rows, lambda r: r[f"psnr_{k}"])
        s[f"ssim_{k}"] = _mean(rows, lambda r: r[f"ssim_{k}"])
    s["open_true_mean"] = _mean(rows, lambda r: r["open_true_mean"])
    s["dark_vs_open_true"] = _mean(rows, lambda r: r["dark_vs_open_true"])
    if "param_gen" in rows[0]:
        for k in ("gen", "drv", "true"):
            s[f"param_r_{k}"] = _mean(rows, lambda r: r[f"param_{k}"])
    s["open_gen_mean"] = _mean(rows, lambda r: r["open_gen_mean"])
    if "lse_true" in rows[0]:
        for k in ("true", "gen", "drv"):
            s[f"lse_d_{k}"] = _mean(rows, lambda r: r[f"lse_{k}"]["lse_d"])
            s[f"lse_c_{k}"] = _mean(rows, lambda r: r[f"lse_{k}"]["lse_c"])
        s["lse_c_ratio"] = s["lse_c_gen"] / s["lse_c_true"]
        s["lse_d_rel_diff"] = (s["lse_d_gen"] - s["lse_d_true"]) / s["lse_d_true"]
    if "acc_true" in rows[0]:
        for k in ("true", "gen", "gen_vs_driver", "drv"):
            s[f"words_{k}"] = bootstrap_ci([r[f"acc_{k}"] for r in rows], seed=seed)
        s["loop_ratio"] = s["words_gen"]["mean"] / s["words_true"]["mean"] if s["words_true"]["mean"] else float("nan")
    s["rows"] = rows
    return s


def contact_sheet(rows, path, *, frames=8):
    """Rows of (true, generated, driver) mouth regions at ``frames`` evenly spaced frames."""
    import cv2

    tiles = []
    for label, true, gen, drv in rows:
        idx = np.linspace(8, len(true) - 8, frames).astype(int)
        for tag, f in (("true", true), ("generated", gen), ("driver", drv)):
            strip = np.concatenate([cv2.resize(m, (96, 96), interpolation=cv2.INTER_CUBIC) for m in mouth_region(f[idx])], axis=1)
            head = np.full((96, 230, 3), 255, np.uint8)
            cv2.putText(head, label[:26], (4, 38), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
            cv2.putText(head, tag, (4, 66), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 160) if tag == "generated" else (0, 0, 0), 1,
                        cv2.LINE_AA)
            tiles.append(np.concatenate([head, strip], axis=1))
        tiles.append(np.full((6, tiles[-1].shape[1], 3), 255, np.uint8))
    img = np.concatenate(tiles, axis=0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img[..., ::-1])


def _fmt(ci):
    return f"{100 * ci['mean']:.1f} % [{100 * ci['low']:.1f}, {100 * ci['high']:.1f}]" if ci and ci["mean"] is not None else "n/a"


def print_table(s):
    print(f"\n== {s['domain']}: {s['clips']} test clips, each driven by another clip of the speaker ({s['seconds']:.0f} s)")
    print(f"  mouth opening r      generated {s['dark_r_gen']:.3f}   driver {s['dark_r_drv']:.3f}   (target >= 0.8; "
          f"soft cavity area; its r with the hard area on the true faces {s['dark_vs_open_true']:.3f})")
    if "param_r_gen" in s:
        print(f"  r with the rendered opening (mouth_open_px)  generated {s['param_r_gen']:.3f}   driver {s['param_r_drv']:.3f}   "
              f"true video {s['param_r_true']:.3f}")
    print(f"  hard cavity-area r   generated {s['open_r_gen']:.3f} (defined in {s['open_r_gen_defined']}/{s['clips']} clips)   "
          f"driver {s['open_r_drv']:.3f}")
    print(f"  soft opening MAE     generated {s['dark_mae_gen']:.1f} px  driver {s['dark_mae_drv']:.1f} px")
    print(f"  hard opening MAE     generated {s['open_mae_gen']:.1f} px  driver {s['open_mae_drv']:.1f} px  "
          f"(mean true {s['open_true_mean']:.1f}, generated {s['open_gen_mean']:.1f})")
    print(f"  mouth PSNR / SSIM    generated {s['psnr_gen']:.2f} dB / {s['ssim_gen']:.3f}   driver {s['psnr_drv']:.2f} dB / {s['ssim_drv']:.3f}")
    if "lse_c_true" in s:
        print(f"  LSE-D (judge)        true {s['lse_d_true']:.3f}  generated {s['lse_d_gen']:.3f}  driver {s['lse_d_drv']:.3f}  "
              f"-> {100 * s['lse_d_rel_diff']:+.1f} % (target within 10 %)")
        print(f"  LSE-C (judge)        true {s['lse_c_true']:.3f}  generated {s['lse_c_gen']:.3f}  driver {s['lse_c_drv']:.3f}  "
              f"-> {100 * s['lse_c_ratio']:.1f} % of true (target >= 90 %)")
    if "words_true" in s:
        print(f"  loop words ({s['lip_model']}), vs the speech's words; grammar chance {100 * grammar_chance()['accuracy']:.0f} %")
        print(f"    true video         {_fmt(s['words_true'])}")
        print(f"    generated video    {_fmt(s['words_gen'])}  -> {100 * s['loop_ratio']:.1f} % of true (target >= 80 %)")
        print(f"    control: generated vs the driver's own words {_fmt(s['words_gen_vs_driver'])}")
        print(f"    control: driver video (not regenerated) vs the speech's words {_fmt(s['words_drv'])}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", required=True, help="Wav2Lip run folder (train-lipsync)")
    ap.add_argument("--which", default="best", choices=["best", "last"])
    ap.add_argument("--judge", help="SyncNet run folder of the judging expert (not the training loss's)")
    ap.add_argument("--domain", action="append", required=True,
                    help="NAME:FACES_DIR:LIP_MODEL:N (LIP_MODEL a lip run or bundled name, '-' for none; N test clips)")
    ap.add_argument("--out", required=True, help="folder for summary.json")
    ap.add_argument("--sheet", help="contact sheet png (true / generated / driver mouths)")
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations of the loop")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    syncer = LipSyncer.from_run(args.run, which=args.which)
    judge = None
    if args.judge:
        from lip2audspec.sync import SyncExpert

        judge = SyncExpert.load(args.judge)
        print(f"judge: {args.judge} ({judge.audio_features}); LSE on our expert's scale, not comparable with published values")
    sheet_rows, out = [], {"run": str(Path(args.run).resolve()), "which": args.which, "judge": args.judge, "seed": args.seed,
                           "domains": {}}
    for spec in args.domain:
        name, faces, lip, n = spec.split(":")
        s = run_domain(name, faces, None if lip == "-" else lip, int(n), syncer=syncer, judge=judge,
                       n_iter=args.iterations, seed=args.seed, sheet_rows=sheet_rows)
        out["domains"][name] = s
        print_table(s)
        write_json_atomic(Path(args.out) / "summary.json", out)
    if args.sheet:
        contact_sheet(sheet_rows, args.sheet)
        print(f"contact sheet: {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

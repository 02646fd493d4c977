"""What limits the intelligibility scores of reconstructed speech: temporal blur and quiet frames (issue 13).

For every clip of a prepared split, the true compressed auditory spectrogram (the training target) is
smoothed along time with a Gaussian of ``--sigmas`` frames (10 ms each; 0 = unblurred, the oracle),
inverted with ``aud2wav`` and scored against the clip's recorded audio: STOI, ESTOI and the word accuracy
of the offline GRID recogniser (95 % bootstrap interval over clips; grammar chance 19 %). With ``--run``
a lip network's reconstruction from the clip's mouth crops is scored the same way, so the table places a
model's speech on the ladder of blurred oracles: a lip network predicting at the video rate (40 ms) that
lands below the 40 ms blur is limited by temporal precision, not only by what the lips show.

With ``--run`` and ``--truth-below DB ...``, the model's predicted spectrogram is also scored with the
true spectrogram put in place of its **quiet frames**: frames whose true energy (decompressed, summed over
channels) lies more than ``DB`` dB below the clip's loudest frame. The rise over the model's own scores is
the share of the gap that lies in pauses, low-energy consonants and the recording's noise floor (STOI and
ESTOI count every frame within 40 dB of the loudest; the word recogniser hardly listens there).

With ``--freq-sigmas S ...``, the true spectrogram is smoothed across its channels instead (a Gaussian of S
channels; 24 channels make an octave): it blurs the harmonics and formant peaks that a model which cannot
see the voice's pitch predicts only on average, so the rows show what spectral fine detail alone is worth.

With ``--stationary-below DB ...``, the true spectrogram is scored with its quiet frames (the same rule)
set to their mean spectrum, a steady floor at the right level; with ``--stationary-silence`` the frames
set so are those that the clip's GRID alignment marks ``sil`` or ``sp`` (the transcription's silences).
Such an oracle knows every speech frame exactly and only the average of the recording's noise in the
pauses, whose rise and fall nothing in the lips predicts: its scores mark what exact speech alone reaches
against that audio (a model's pauses can do a little better than a steady floor). With ``--run`` and ``--stationary-silence``, the model's prediction
is also scored with the alignment's silent frames set to the truth's mean there: its speech frames against
that bound.

aud2wav's restarts draw from generators derived from ``(--seed, condition, clip)``. Results go to
``OUT/results.json`` (written atomically after every condition; conditions already there are skipped, so
the script resumes) and the table to ``OUT/table.md``.

Example (real GRID s1, 50 validation clips, the bundled-model run)::

    python benchmarks/bench_intelligibility_limits.py --data real_s1/prepared --split seen/val --sigmas 0 2 4 \\
        --run runs/framesync_long --truth-below 20 30 --out limits_val
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")


def _stage(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _clips(data, split: str, limit: int | None):
    """``[(key, crops, original audio, true target)]`` of the split (at most ``limit`` clips)."""
    from lip2audspec.corpora.grid import GridLayout
    from lip2audspec.data.dataset import GridDataset, dataset_file
    from lip2audspec.data.targets import TargetConfig, clip_audio

    out = []
    with GridDataset(dataset_file(data)) as ds:
        tcfg = TargetConfig.from_dict(ds.manifest["config"]["target"])
        layout = GridLayout.discover(ds.manifest["source"]["grid_dir"])
        for i in ds.split(split)[:limit]:
            spk, uid = str(ds.clip_speakers[i]), str(ds.ids[i])
            crops = ds.array("crops", int(i))
            audio = clip_audio(layout.clip_paths(spk, uid), source=ds.spec.audio_source, n_video_frames=crops.shape[0],
                               config=tcfg)
            out.append((f"{spk}/{uid}", crops, audio, ds.array("spec", int(i))))
    return out, tcfg, layout


def _silence_frames(layout, key: str, n_frames: int, frame_ms: float):
    """``(n_frames,)`` bool: spectrogram frames inside the alignment's ``sil`` / ``sp`` rows of clip ``key``."""
    from lip2audspec.corpora.grid import SILENCE_WORDS, align_to_seconds, read_align

    spk, uid = key.split("/")
    path = layout.clip_paths(spk, uid).align
    if path is None:
        sys.exit(f"--stationary-silence needs GRID alignments; clip {key} has none under {layout.root}")
    t = (np.arange(n_frames) + 0.5) * frame_ms / 1000  # frame centres in seconds
    silent = np.zeros(n_frames, bool)
    for start, end, word in read_align(path):
        if word in SILENCE_WORDS:
            silent |= (t >= align_to_seconds(start)) & (t < align_to_seconds(end))
    return silent


def _score(name: str, clips, audio_of, *, sr: int, recognizer) -> dict:
    from lip2audspec.corpora.grid import sentence_from_id
    from lip2audspec.evaluation.intelligibility import estoi, stoi
    from lip2audspec.evaluation.summary import _slot_correct, bootstrap_ci, grammar_chance

    s, e, words = [], [], []
    for key, crops, original, target in clips:
        audio = audio_of(key, crops, target)
        s.append(stoi(original, audio, sr=sr))
        e.append(estoi(original, audio, sr=sr))
        words.append(np.mean(_slot_correct(sentence_from_id(key.split("/")[1]), recognizer.recognize(audio, sr=sr))))
    ci = bootstrap_ci(words, seed=0)
    return {"condition": name, "clips": len(clips), "stoi": float(np.mean(s)), "estoi": float(np.mean(e)),
            "words": ci["mean"], "words_ci": [ci["low"], ci["high"]], "grammar_chance": grammar_chance()["accuracy"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="prepared folder or dataset.h5")
    ap.add_argument("--split", default="seen/val")
    ap.add_argument("--clips", type=int, default=None, help="at most this many clips of the split")
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.0, 1.0, 2.0, 4.0],
                    help="Gaussian blur along time, in 10 ms frames (0: the unblurred oracle)")
    ap.add_argument("--freq-sigmas", type=float, nargs="*", default=[],
                    help="also the truth smoothed across channels by a Gaussian of these many channels (> 0)")
    ap.add_argument("--run", default=None, help="also score this lip-network run's reconstruction")
    ap.add_argument("--truth-below", type=float, nargs="*", default=[],
                    help="with --run: also score its prediction with the truth in frames more than DB below the loudest")
    ap.add_argument("--stationary-below", type=float, nargs="*", default=[],
                    help="also score the truth with its frames more than DB below the loudest set to their mean spectrum")
    ap.add_argument("--stationary-silence", action="store_true",
                    help="also score the truth with the alignment's silent frames (sil, sp) set to their mean spectrum")
    ap.add_argument("--iterations", type=int, default=20, help="aud2wav iterations")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    if any(s < 0 for s in args.sigmas):
        ap.error(f"--sigmas must be >= 0, got {args.sigmas}")
    if any(s <= 0 for s in args.freq_sigmas):
        ap.error(f"--freq-sigmas must be > 0, got {args.freq_sigmas}")
    if args.truth_below and not args.run:
        ap.error("--truth-below needs --run")
    for flag, dbs in (("--truth-below", args.truth_below), ("--stationary-below", args.stationary_below)):
        if any(d <= 0 for d in dbs):
            ap.error(f"{flag} must be > 0 dB, got {dbs}")

    from scipy.ndimage import gaussian_filter1d

    from lip2audspec.auditory import aud2wav, peak_normalize
    from lip2audspec.data.targets import decompress, spectrogram_from_target
    from lip2audspec.evaluation.asr import GridRecognizer
    from lip2audspec.fileio import write_json_atomic, write_text_atomic
    from lip2audspec.seeding import derived_rng

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    res_path = out / "results.json"
    doc = json.loads(res_path.read_text()) if res_path.is_file() else {
        "seed": args.seed, "data": str(args.data), "split": args.split, "iterations": args.iterations, "rows": []}
    done = {r["condition"] for r in doc["rows"]}
    clips, tcfg, layout = _clips(args.data, args.split, args.clips)
    p = tcfg.auditory
    _stage(f"{len(clips)} clips of {args.split}")
    recognizer = GridRecognizer()
    if args.run:  # loaded first: a run this benchmark cannot use is refused before any condition runs
        from lip2audspec.inference import predict_clip
        from lip2audspec.reconstruct import Reconstructor

        rec = Reconstructor(args.run, n_iter=args.iterations, seed=args.seed)
        if rec.autoencoder is not None and (args.truth_below or args.stationary_silence):
            sys.exit(f"{args.run} predicts autoencoder codes: --truth-below and --stationary-silence put true "
                     "spectrogram frames into the prediction and need a spectrogram-predicting run")

    def invert(target, key, condition):
        spec = spectrogram_from_target(target, config=tcfg)  # decompression clips negatives to 0
        res = aud2wav(spec, n_iter=args.iterations, rng=derived_rng(args.seed, condition, key), **p.to_dict())
        return peak_normalize(res.x_best)

    def quiet_frames(target, db):
        """Frames whose true energy lies more than ``db`` dB below the clip's loudest frame."""
        energy = np.sum(decompress(target, power=tcfg.power) ** 2, axis=1)
        return 10 * np.log10(energy + 1e-20) < 10 * np.log10(energy.max() + 1e-20) - db

    def run_condition(name, fields, audio_of):
        if name in done:
            return
        _stage(name)
        row = _score(name, clips, audio_of, sr=p.sr, recognizer=recognizer)
        row.update(fields)
        doc["rows"].append(row)
        write_json_atomic(res_path, doc)

    for sigma in args.sigmas:
        name = f"true, blur {sigma:g} frames" if sigma else "true (oracle)"
        run_condition(name, {"sigma_ms": sigma * p.frame_ms}, lambda key, crops, target, sigma=sigma, name=name: invert(
            gaussian_filter1d(target, sigma, axis=0) if sigma else target, key, name))

    for sigma in args.freq_sigmas:
        name = f"true, smoothed across {sigma:g} channels"
        run_condition(name, {"freq_sigma_channels": sigma}, lambda key, crops, target, sigma=sigma, name=name: invert(
            gaussian_filter1d(target, sigma, axis=1), key, name))

    def silence_of(key, target):
        return _silence_frames(layout, key, len(target), p.frame_ms)

    def with_frames(base, key, target, mask, fill, condition):
        """``base`` with the frames where ``mask`` is true replaced by ``fill(target, mask)``, inverted."""
        spliced = np.array(base)
        if mask.any():
            spliced[mask] = fill(target, mask)
        return invert(spliced, key, condition)

    truth, mean = (lambda target, mask: target[mask]), (lambda target, mask: target[mask].mean(axis=0))
    floors = [(f"true, frames > {db:g} dB below the loudest set to their mean", {"stationary_below_db": db},
               lambda key, target, db=db: quiet_frames(target, db)) for db in args.stationary_below]
    if args.stationary_silence:
        floors.append(("true, the alignment's silent frames set to their mean", {"stationary_silence": True}, silence_of))
    for name, fields, frames_of in floors:
        if name in done:
            continue
        masks = {key: frames_of(key, target) for key, _, _, target in clips}  # once: scored and counted
        share = float(np.mean(np.concatenate(list(masks.values()))))
        run_condition(name, {**fields, "frames_replaced": share},
                      lambda key, crops, target, m=masks, n=name: with_frames(target, key, target, m[key], mean, n))
    if args.run:
        model = f"model {Path(args.run).name}"
        run_condition(model, {}, lambda key, crops, t: rec.from_crops(crops, key=key).audio)
        mixes = [(f"{model}, truth in frames > {db:g} dB below the loudest", {"truth_below_db": db},
                  lambda key, target, db=db: quiet_frames(target, db), truth) for db in args.truth_below]
        if args.stationary_silence:
            mixes.append((f"{model}, the alignment's silent frames set to the truth's mean", {"stationary_silence": True},
                          silence_of, mean))
        for name, fields, frames_of, fill in mixes:
            run_condition(name, fields, lambda key, crops, target, f=frames_of, g=fill: with_frames(
                predict_clip(rec.lipnet, crops), key, target, f(key, target), g, "recon"))
    lines = [f"{len(clips)} clips of {args.split} ({args.data}); aud2wav {args.iterations} iterations, seed {args.seed}; "
             f"grammar chance {100 * doc['rows'][0]['grammar_chance']:.0f} %", "",
             "| condition | STOI | ESTOI | words [95 % CI] |", "|---|---|---|---|"]
    for r in doc["rows"]:
        lo, hi = r["words_ci"]
        lines.append(f"| {r['condition']} | {r['stoi']:.3f} | {r['estoi']:.3f} | {100 * r['words']:.1f} % "
                     f"[{100 * lo:.1f}, {100 * hi:.1f}] |")
    table = "\n".join(lines) + "\n"
    write_text_atomic(out / "table.md", table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

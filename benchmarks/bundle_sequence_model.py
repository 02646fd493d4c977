"""Bundle a whole-clip lip network run trained on real GRID s1 (e.g. ``--arch framesync``) as a pretrained model.

Takes the run (its ``best.keras``, chosen on val), the ``report.json`` of its test evaluation
(``lip2audspec evaluate -m RUN --split test ...``) and the prepared dataset it was trained on; writes the
bundle (weights without optimiser state, crop statistics of the training split, ``card.json`` with the
test figures and ``MODEL_CARD.md``), then measures the shipped weights on the test-split clips of the real
s1 fixture in ``../shared/real_grid/s1_fixture`` and stores those figures in the card as its
``fixture_check`` (the package's tests reproduce them). GRID: Cooke et al. 2006, CC BY 4.0. Run::

    python benchmarks/bundle_sequence_model.py --run /work/real_s1/s3/runs/framesync_long \\
        --report /work/real_s1/s4/eval_real_framesync_long/report.json --data /work/real_s1/bench/prepared \\
        --name grid-s1-framesync --train-command "train_main DATA --arch framesync ... (see the card)"
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_real_grid import card_figures, fixture_check  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="train_main run folder (a whole-clip family, spectrogram target)")
    ap.add_argument("--report", required=True, help="report.json of its evaluation on the test split")
    ap.add_argument("--data", required=True, help="the prepared dataset it was trained on (crop statistics)")
    ap.add_argument("--name", required=True, help="bundle name, e.g. grid-s1-framesync")
    ap.add_argument("--train-command", required=True, help="how the run was trained (for the card)")
    ap.add_argument("--out", default=str(ROOT / "lip2audspec" / "pretrained" / "models"))
    ap.add_argument("--split-file", default=str(ROOT.parent / "shared" / "real_grid" / "s1_split.json"))
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from lip2audspec import pretrained
    from lip2audspec.training import RunDir

    run = RunDir(args.run)
    cfg = run.config()
    arch = cfg.get("arch") or cfg.get("kind")
    with open(run.file(RunDir.HISTORY), newline="") as fh:
        history = list(csv.DictReader(fh))
    # the shipped best.keras is the checkpoint with the lowest val loss (1-based epoch)
    best_epoch = 1 + min(range(len(history)), key=lambda i: float(history[i]["val_loss"]))
    doc = json.loads(Path(args.report).read_text())
    figs = card_figures(doc)
    words = doc["overall"]["conditions"]["recon"]["words"]
    card = {
        "description": f"{arch} (small preset) for GRID speaker s1: silent video of s1's lips -> auditory spectrogram -> speech",
        "training_data": "real GRID speaker s1, the 850 train clips of s1_split.json (val 50 for choosing)",
        "split": f"s1_split.json: 850 train / 50 val / 100 test; trained {len(history)} epochs, the checkpoint with "
                 f"the lowest val loss shipped (epoch {best_epoch}). Not retrained on train + val.",
        "audio_source": "video (the camera's MP2 track inside each .mpg, 16 kHz)",
        "seed": cfg.get("train", {}).get("seed", args.seed), "command": args.train_command,
        "epochs": {"lip": best_epoch, "trained": len(history)},
        "test_figures": {"clips": doc["meta"]["clips"], "split": "seen/test (100 clips)",
                         "model_evaluated": "these weights", "words_ci95": words.get("ci"),
                         "per_position": words.get("per_position"), **figs},
    }
    r, o = figs["recon"], figs["oracle"]
    pos = words.get("per_position") or {}
    md = f"""# {args.name}: {arch} (small) for GRID speaker s1

Speech from silent video of **GRID speaker s1** (a man filmed frontally in GRID's studio setting). A
whole-clip lip network (`{arch}`, `small` preset: 3D-CNN front end over 48x48 landmark mouth crops at 25 fps,
BiLSTM, 4x upsampling to the 100 Hz frames) predicts the compressed 128-channel NSL auditory spectrogram
(`wav2aud [10 10 -2 0]`) of the whole clip in one pass; `aud2wav` (20 iterations) turns it into 16 kHz
speech. No autoencoder. It reads about six times as many words as the window network of `grid-s1`.

**What it is for:** one speaker, s1, in GRID's recording conditions. It is not a general lip-to-speech
model: on other speakers, faces, lighting or framing expect unintelligible output (`reconstruct` warns
when the mouth crops do not look like s1's training crops).

**Training data:** real GRID speaker s1 (Cooke, Barker, Cunningham & Shao 2006, *An audio-visual corpus
for speech perception and automatic speech recognition*; licence CC BY 4.0): the 850 train clips of the
fixed split `s1_split.json` (850 / 50 / 100), speech from the camera's audio track in each `.mpg`.
Trained {len(history)} epochs; the checkpoint with the lowest val loss (epoch {best_epoch}) is shipped. Command:
`{args.train_command}`.

**Test figures** (the 100 test clips, these weights; `lip2audspec evaluate -m RUN --split test --iterations
{args.iterations} --seed {args.seed}`):

| | STOI | ESTOI | PESQ-NB | Corr2D | word accuracy (pocketsphinx + GRID grammar) |
|---|---|---|---|---|---|
| reconstruction | {r['stoi']:.3f} | {r['estoi']:.3f} | {r['pesq_nb']:.2f} | {r['corr2d']:.3f} | {r['word_accuracy'] * 100:.1f} % [{words['ci'][0] * 100:.1f}, {words['ci'][1] * 100:.1f}] |
| oracle `aud2wav(wav2aud(x))` | {o['stoi']:.3f} | {o['estoi']:.3f} | {o['pesq_nb']:.2f} | {o['corr2d']:.3f} | {o['word_accuracy'] * 100:.1f} % |
| original speech | | | | | {figs['original']['word_accuracy'] * 100:.1f} % |

Words by position: {', '.join(f'{k} {v * 100:.0f} %' for k, v in pos.items())}. Grammar chance (a uniform
guess per word slot) is 19.0 %; 95 % bootstrap interval over clips in brackets. Use: `lip2audspec
reconstruct CLIP.mpg -m {args.name} -o speech.wav`, `lip2audspec lipread CLIP.mpg -m {args.name}`, or
`lip2audspec.pretrained.load("{args.name}").reconstructor()`.

Credits: GRID corpus (CC BY 4.0); Lip2AudSpec (Akbari, Arora, Cao, Mesgarani, ICASSP 2018), Lip2Wav
(Prajwal et al., CVPR 2020) for the whole-utterance 3D-CNN approach; the NSL toolbox (Chi, Ru, Shamma) for
the auditory spectrogram.
"""

    def bundle():
        return pretrained.make_bundle(args.name, lip_run=run.path, autoencoder_run=None, out_dir=args.out, card=card,
                                      card_markdown=md, dataset=args.data, split="seen/train", overwrite=True)

    bundle()
    fx = card["fixture_check"] = fixture_check(args.name, root=args.out, split_file=args.split_file,
                                               n_iter=args.iterations, seed=args.seed)
    dest = bundle()
    print(f"bundled {dest}; fixture test clips ({len(fx['clips'])}): Corr2D {fx['corr2d']:.3f}, STOI {fx['stoi']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

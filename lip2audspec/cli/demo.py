"""``lip2audspec demo --out DIR``: the main job on built-in data.

Default: the whole pipeline on a synthetic multi-speaker corpus (corpus -> prepare -> train the small lip
network, ``--arch`` family, with its autoencoder for the window network -> reconstruct held-out videos ->
report). ``--auditory``: only the auditory round trip.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="demo_out", help="output folder (default demo_out); rerunning resumes")
    parser.add_argument("--auditory", action="store_true", help="only the auditory round trip (speech -> spectrogram -> speech)")
    parser.add_argument("--speakers", type=int, default=4, help="synthetic speakers (default 4)")
    parser.add_argument("--utterances", type=int, default=80, help="utterances per speaker (default 80)")
    parser.add_argument("--arch", default=None, metavar="ARCH",
                        help="lip network family (as train_main --arch; default framesync, the best measured at this "
                             "budget; lip2audspec: the window network with its autoencoder)")
    parser.add_argument("--ae-epochs", type=int, default=30, help="autoencoder epochs (--arch lip2audspec only)")
    parser.add_argument("--lip-epochs", type=int, default=None,
                        help="lip network epochs (default 15 for a whole-clip family, 30 for lip2audspec)")
    parser.add_argument("--eval-clips", type=int, default=8, help="held-out clips per speaker to evaluate (default 8)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the corpus, split, training and aud2wav restarts (default 0)")
    parser.add_argument("--iterations", type=int, default=20, help="aud2wav iterations (default 20)")
    parser.add_argument("--text", default=None, help="--auditory: sentence to synthesize")
    parser.add_argument("--quiet", action="store_true")


def run(args) -> int:
    if args.auditory:
        from ..demos import DEMO_SENTENCE, auditory_round_trip

        s = auditory_round_trip(args.out, text=args.text or DEMO_SENTENCE, n_iter=args.iterations,
                                seed=args.seed, progress=not args.quiet)
        print(f"auditory round trip of {s['seconds']:.2f} s of speech: wav2aud {s['wav2aud_s'] * 1000:.1f} ms, "
              f"aud2wav {s['aud2wav_s']:.2f} s ({s['aud2wav_s_per_iteration'] * 1000:.0f} ms/iteration), "
              f"relative spectrogram error {s['best_relative_error_pct']:.2f}%")
        print(f"wrote {', '.join(s['files'])} to {args.out}/  (listen to original.wav and reconstructed.wav; see round_trip.png)")
        return 0
    from ..demos import DEMO_ARCH, lip_demo

    s = lip_demo(args.out, arch=args.arch or DEMO_ARCH, speakers=args.speakers, utterances=args.utterances,
                 workers=args.workers, ae_epochs=args.ae_epochs, lip_epochs=args.lip_epochs, eval_clips_per_speaker=args.eval_clips,
                 n_iter=args.iterations, seed=args.seed, progress=not args.quiet)
    r, o, w = s["recon"], s["oracle"], s["word_accuracy"]
    print(f"reconstruction: Corr2D {r['corr2d']:.3f}, STOI {r['stoi']:.3f}, ESTOI {r['estoi']:.3f}, "
          f"PESQ-NB {r['pesq_nb']:.2f}, PESQ-WB {r['pesq_wb']:.2f}   (oracle Corr2D {o['corr2d']:.3f}, STOI {o['stoi']:.3f})")
    print("word accuracy: " + ", ".join(f"{k} {v * 100:.1f}%" for k, v in w.items()))
    print("seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in s["seconds"].items()))
    print(f"report: {s['report']}  (lip network {s['arch']}, seed {s['seed']})")
    return 0

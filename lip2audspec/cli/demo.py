"""``lip2audspec demo --out DIR``: the main job on built-in data (auditory round trip for now)."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    parser.add_argument("--iterations", type=int, default=30, help="aud2wav iterations (default 30)")
    parser.add_argument("--text", default=None, help="sentence to synthesize (default: the GRID sentence 'bin blue at f two now')")


def run(args) -> int:
    from ..demos import DEMO_SENTENCE, auditory_round_trip

    s = auditory_round_trip(args.out, text=args.text or DEMO_SENTENCE, n_iter=args.iterations)
    print(f"auditory round trip of {s['seconds']:.2f} s of speech: wav2aud {s['wav2aud_s'] * 1000:.1f} ms, "
          f"aud2wav {s['aud2wav_s']:.2f} s ({s['aud2wav_s_per_iteration'] * 1000:.0f} ms/iteration), "
          f"relative spectrogram error {s['best_relative_error_pct']:.2f}%")
    print(f"wrote {', '.join(s['files'])} to {args.out}/  (listen to original.wav and reconstructed.wav; see round_trip.png)")
    return 0

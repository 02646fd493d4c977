"""``lip2audspec lipread VIDEO -m MODEL``: the words spoken in a silent video.

The speech is reconstructed with the lip network (as ``reconstruct``) and recognised with pocketsphinx:
the GRID sentence grammar by default, the recogniser's general English model with ``--open``. Prints the
words, then each word with its confidence (the recogniser's lattice posterior) and times; ``--json`` prints
one JSON object instead.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("video", help="video file (any format OpenCV reads; any fps, size and length)")
    parser.add_argument("-m", "--model", required=True, metavar="MODEL",
                        help="lip network run folder (train_main) or a bundled model's name (lip2audspec models)")
    parser.add_argument("--open", action="store_true",
                        help="recognise with pocketsphinx's general English model instead of the GRID grammar")
    parser.add_argument("--json", action="store_true", help="print one JSON object (text, words, confidences, times)")
    parser.add_argument("-o", "--output", metavar="WAV", help="also write the reconstructed speech")
    parser.add_argument("--autoencoder", metavar="AE_RUN", help="autoencoder run (default: the one the lip run used)")
    parser.add_argument("--iterations", type=int, default=20, help="aud2wav iterations (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of aud2wav's random restarts (default 0)")
    parser.add_argument("--cropper", choices=["mask", "haar", "landmarks"], help="override the run's mouth cropper")
    parser.add_argument("--voice-f0", type=float, metavar="HZ",
                        help="impose a steady voice's harmonics at this pitch (the speaker's, e.g. 107 for GRID s1) "
                             "on the predicted spectrogram before aud2wav (default: none, as published)")


def run(args) -> int:
    import json

    from ..pretrained import reconstructor_for

    rec = reconstructor_for(args.model, autoencoder_run=args.autoencoder, n_iter=args.iterations,
                            crop_method=args.cropper, seed=args.seed, voice_f0=args.voice_f0)
    reading = rec.read(args.video, open_vocabulary=args.open)
    if args.output:
        rec.write(reading.reconstruction, args.output)
    check = reading.reconstruction.check
    if args.json:
        out = {"video": str(args.video), **reading.to_dict()}
        if check is not None:
            out["looks_like_training_data"] = bool(check.ok)
        print(json.dumps(out, indent=1))
        return 0
    if check is not None and not check.ok:
        print(f"warning: {args.video}: {check.message()}")
    print(reading.text if reading.words else "(no words recognised)")
    for w, c, (a, b) in zip(reading.words, reading.confidences, reading.times):
        print(f"  {w:<10s} confidence {c:.2f}   {a:6.2f}-{b:.2f} s")
    return 0

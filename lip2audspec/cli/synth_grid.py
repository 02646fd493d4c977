"""``lip2audspec synth-grid``: generate (or resume) a synthetic GRID-format audio-visual corpus."""

from __future__ import annotations

NAME = "synth-grid"
HELP = "generate a synthetic GRID-format audio-visual corpus"


def add_arguments(parser) -> None:
    parser.add_argument("--out", required=True, help="corpus root folder (created; an existing corpus is resumed)")
    parser.add_argument("--speakers", type=int, default=4, help="number of speakers s1..sN (default 4)")
    parser.add_argument("--utterances", type=int, default=25, help="sentences per speaker (default 25)")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--corrupt-fraction", type=float, default=0.0,
                        help="fraction of clips whose video is damaged like some real GRID clips (default 0)")
    parser.add_argument("--contact-sheet", default=None, metavar="PNG", help="also write a contact sheet image")
    parser.add_argument("--ceiling", action="store_true",
                        help="also compute the visual ceiling (expected word accuracy of an ideal lip reader of the rendered "
                             "mouths, per position), print it and write it into manifest.json")
    parser.add_argument("--ceiling-carriers", type=int, default=2, metavar="N",
                        help="carrier sentences per speaker for --ceiling (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from ..corpora.synthetic import contact_sheet, generate_corpus

    report = generate_corpus(args.out, speakers=args.speakers, utterances=args.utterances, seed=args.seed,
                             corrupt_fraction=args.corrupt_fraction, workers=args.workers, progress=not args.no_progress)
    n_new = len(report.generated)
    rate = f", {report.clips_per_second:.2f} clips/s" if n_new else ""
    print(f"{report.out}: {report.n_clips} clips ({n_new} generated, {len(report.skipped)} already complete) "
          f"in {report.seconds:.1f} s{rate}")
    if args.contact_sheet:
        print(f"contact sheet: {contact_sheet(report.out, args.contact_sheet)}")
    if args.ceiling:
        from ..corpora.synthetic import load_manifest, visual_ceiling
        from ..corpora.synthetic.ceiling import format_ceiling
        from ..fileio import write_json_atomic

        ceiling = visual_ceiling(report.out, carriers=args.ceiling_carriers)
        print("visual ceiling (ideal lip reader of the rendered mouths, expected word accuracy):")
        for line in format_ceiling(ceiling):
            print(f"  {line}")
        manifest = load_manifest(report.out)
        manifest["visual_ceiling"] = ceiling
        write_json_atomic(report.out / "manifest.json", manifest)
    return 0

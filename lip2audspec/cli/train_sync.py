"""``lip2audspec train-sync DATA [--also DATA2 ...] --run RUN_DIR --features mfcc``: the SyncNet lip-sync expert."""

from __future__ import annotations

from ._train_args import add_common, prologue, standalone, train_config
from .train_autoencoder import _summary

DESCRIPTION = ("Train the SyncNet lip-sync expert (Chung & Zisserman 2016; Wav2Lip's cosine-BCE loss) on in-sync vs "
               "shifted / other-clip pairs of one or more prepared datasets.")


def add_arguments(parser) -> None:
    add_common(parser)
    parser.add_argument("--also", nargs="+", default=[], metavar="DATA",
                        help="more prepared datasets to train on (e.g. the synthetic corpus beside real GRID)")
    parser.add_argument("--source-weights", nargs="+", type=float, metavar="W",
                        help="share of the training pairs from each dataset (DATA first, then --also), e.g. 3 1; "
                             "default: in proportion to their clips")
    parser.add_argument("--features", choices=["mfcc", "audspec"], default=None,
                        help="audio features: mfcc (13 x 20, as the original; default) or audspec (the auditory "
                             "spectrogram of the prepared dataset)")
    parser.add_argument("--add-features", action="store_true",
                        help="compute the MFCC of every clip from the corpus the manifest names and store them in "
                             "the dataset first (needed once per dataset for --features mfcc)")
    parser.add_argument("--grid-dir", help="corpus folder for --add-features (default: the one in the manifest)")


def run(args) -> int:
    prologue(args)
    from ..training.sync import add_sync_features, train_syncnet

    data = [args.data, *args.also] if args.data else list(args.also)
    features = args.features
    model_config = None
    if not args.resume and args.model_config:
        from ..models import load_config

        model_config = load_config(args.model_config)
    if args.add_features and (features or "mfcc") == "mfcc":
        for d in data:
            add_sync_features(d, "mfcc", grid_dir=args.grid_dir, progress=True)
    res = train_syncnet(data or None, args.resume or args.run, preset=args.preset, audio_features=features,
                        model_config=model_config, train_config=train_config(args), resume=bool(args.resume),
                        overwrite=args.overwrite, source_weights=args.source_weights)
    _summary(res)
    return 0


main = standalone(add_arguments, run, "train_sync", DESCRIPTION)

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

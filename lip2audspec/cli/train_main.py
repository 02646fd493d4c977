"""``train_main DATA --run RUN_DIR --autoencoder AE_RUN`` (also ``lip2audspec train-main``): the lip network."""

from __future__ import annotations

from ._train_args import add_common, model_config, prologue, standalone, train_config
from .train_autoencoder import _summary

DESCRIPTION = "Train the lip network (CNN-LSTM-FC, Lip2AudSpec) on a prepared dataset's windows."


def add_arguments(parser) -> None:
    add_common(parser)
    parser.add_argument("--autoencoder", metavar="AE_RUN", help="trained autoencoder run; its encoder makes the bottleneck "
                        "targets if the dataset has none yet")


def run(args) -> int:
    prologue(args)
    from ..training import train_lipnet

    res = train_lipnet(args.data, args.resume or args.run, preset=args.preset, model_config=model_config(args, "lipnet"),
                       train_config=train_config(args), autoencoder_run=args.autoencoder, resume=bool(args.resume),
                       overwrite=args.overwrite)
    _summary(res)
    return 0


main = standalone(add_arguments, run, "train_main", DESCRIPTION)

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

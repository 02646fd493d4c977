"""``train_main DATA --run RUN_DIR [--arch ARCH] [--autoencoder AE_RUN] [--init RUN]`` (also ``lip2audspec train-main``).

``--arch lip2audspec`` (default) trains the window lip network (CNN-LSTM-FC, Lip2AudSpec) on the
autoencoder's codes; the other choices are whole-clip families (:data:`lip2audspec.models.FAMILIES`).
"""

from __future__ import annotations

from ._train_args import add_common, model_config, prologue, standalone, train_config
from .train_autoencoder import _summary

DESCRIPTION = "Train a lip-to-speech network on a prepared dataset (the Lip2AudSpec window network by default)."


#: ``--arch`` choices as listed in the help (the names of :data:`lip2audspec.models.families.ARCHS`, which
#: validates them in :func:`run`; kept here so building the parser does not import Keras and TensorFlow)
ARCH_HELP = "lip2audspec (default: the window network), framesync, lip2wav, lipsound2"


def add_arguments(parser) -> None:
    add_common(parser)
    parser.add_argument("--arch", default=None, metavar="ARCH",
                        help=f"model family: {ARCH_HELP}; with --resume, the run's")
    parser.add_argument("--autoencoder", metavar="AE_RUN", help="trained autoencoder run; its encoder makes the bottleneck "
                        "targets if the dataset has none yet")
    parser.add_argument("--init", metavar="RUN", help="start from this run's weights (layers whose names and shapes "
                        "match), e.g. a model pretrained on many speakers; sequence families only")


def _arch(args) -> str:
    from ..errors import ParameterError
    from ..models.families import WINDOW_ARCH, family
    from ..training import RunDir

    if args.arch is not None and args.arch != WINDOW_ARCH:
        family(args.arch)  # unknown names: one error listing the families
    if not args.resume:
        return args.arch or WINDOW_ARCH
    doc = RunDir(args.resume).config()
    arch = doc.get("arch") or (WINDOW_ARCH if doc.get("kind") == "lipnet" else doc.get("kind"))
    if args.arch and args.arch != arch:
        raise ParameterError(f"{args.resume} holds a {arch} run, not --arch {args.arch}")
    return arch


def run(args) -> int:
    from ..errors import ParameterError
    from ..models.families import WINDOW_ARCH

    prologue(args)
    arch = _arch(args)
    if arch == WINDOW_ARCH:
        if args.init:
            raise ParameterError("--init is for the sequence families (--arch framesync, ...), not the window network")
        from ..training import train_lipnet

        res = train_lipnet(args.data, args.resume or args.run, preset=args.preset, model_config=model_config(args, "lipnet"),
                           train_config=train_config(args), autoencoder_run=args.autoencoder, resume=bool(args.resume),
                           overwrite=args.overwrite)
    else:
        from ..training import train_sequence

        res = train_sequence(args.data, args.resume or args.run, arch=arch, preset=args.preset,
                             model_config=model_config(args, arch), train_config=train_config(args),
                             autoencoder_run=args.autoencoder, init=args.init, resume=bool(args.resume),
                             overwrite=args.overwrite)
    _summary(res)
    return 0


main = standalone(add_arguments, run, "train_main", DESCRIPTION)

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Options shared by ``train_autoencoder`` and ``train_main``."""

from __future__ import annotations

import argparse


def add_common(parser) -> None:
    parser.add_argument("data", nargs="?", help="prepared folder (or its dataset.h5); optional with --resume")
    g = parser.add_mutually_exclusive_group(required=True)
    g.add_argument("--run", help="new run folder (config.json, model.keras, best.keras, history.csv, logs/)")
    g.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last finished epoch")
    parser.add_argument("--preset", default="small", choices=["small", "paper"],
                        help="model preset: the model config and its optimiser settings (default small; prepare with the "
                             "same --preset so the crops need no resizing)")
    parser.add_argument("--model-config", help="model config JSON: a config.json (with \"kind\") replaces the preset's "
                        "model config; an object without \"kind\" changes only the fields it names, e.g. "
                        "'{\"tcorr_weight\": 1.0}' in a file")
    parser.add_argument("--epochs", type=int, default=None, help="last epoch (default 30; with --resume, the run's)")
    parser.add_argument("--batch-size", type=int, help="per-replica batch size (default: the preset's)")
    parser.add_argument("--learning-rate", type=float, help="Adam learning rate (default: the preset's)")
    parser.add_argument("--patience", type=int, default=10, help="early stopping patience in epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategy", choices=["default", "mirrored", "multiworker"], default="default",
                        help="tf.distribute strategy (mirrored: all local devices; multiworker: TF_CONFIG)")
    parser.add_argument("--cpu-devices", type=int, default=None, help="split the CPU into N logical devices (to try --strategy mirrored without GPUs)")
    parser.add_argument("--no-scale-lr", action="store_true", help="do not multiply the learning rate by the number of replicas")
    parser.add_argument("--max-train-clips", type=int, help="use at most this many training clips")
    parser.add_argument("--steps-per-epoch", type=int, help="cap on batches per epoch")
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=None, help="Keras output: 1 progress bar, 2 one line per epoch")
    parser.add_argument("--no-tensorboard", action="store_true")
    parser.add_argument("--overwrite", action="store_true", help="replace a run already in --run")


def train_config(args):
    from ..training import RunDir, TrainConfig

    base = TrainConfig()  # unset optimiser settings come from the preset (train_autoencoder / train_lipnet)
    if args.resume:
        base = RunDir(args.resume).train_config()
    changes = dict(patience=args.patience, seed=args.seed, strategy=args.strategy, scale_lr=not args.no_scale_lr,
                   tensorboard=not args.no_tensorboard)
    if args.resume:  # keep the run's settings unless given explicitly
        changes = {}
    for name in ("epochs", "batch_size", "learning_rate", "max_train_clips", "steps_per_epoch", "verbose"):
        v = getattr(args, name)
        if v is not None:
            changes[name] = v
    return base.replace(**changes)


def _read_json_object(path) -> dict:
    import json

    from ..errors import ParameterError

    try:
        d = json.loads(open(path, encoding="utf-8").read())
    except OSError as exc:
        raise ParameterError(f"cannot read the model config {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"invalid model config JSON in {path}: {exc}") from None
    if not isinstance(d, dict):
        raise ParameterError(f"the model config {path} must hold a JSON object, got {type(d).__name__}")
    return d


def _preset_config(args, kind: str):
    from ..models import preset
    from ..models.families import FAMILIES

    if kind in FAMILIES:  # a sequence family: its own presets
        return FAMILIES[kind].preset(args.preset)
    return getattr(preset(args.preset), kind)


def config_from_json(path, preset, whole=None):
    """The model config that ``--model-config PATH`` asks for.

    ``PATH`` holds a whole config (a JSON object with ``"kind"``, e.g. another run's ``config.json``: built
    by ``whole(d)``, by default as ``preset()``'s class) or an object of the fields to change in ``preset()``
    (unknown fields are named in the error). ``preset`` is a callable, so a whole config builds no preset.
    """
    from ..models.config import config_from_dict

    d = _read_json_object(path)
    if "kind" not in d:
        return preset().replace(**d)
    if whole is not None:
        return whole(d)
    return config_from_dict(d, source=path, cls=type(preset()))


def model_config(args, kind: str):
    if args.resume:
        return None
    if not args.model_config:
        return _preset_config(args, kind)
    from ..models.config import config_from_dict

    return config_from_json(args.model_config, lambda: _preset_config(args, kind),
                            whole=lambda d: config_from_dict(d, source=args.model_config))


def prologue(args) -> None:
    if args.cpu_devices:
        from ..training.fit import configure_cpu_devices

        configure_cpu_devices(args.cpu_devices)


def standalone(add_arguments, run, prog: str, description: str):
    """``main(argv=None) -> int`` of a console script (``train_autoencoder``, ``train_main``) running ``run``.

    Errors are reported as by ``lip2audspec`` (:func:`lip2audspec.cli._runner.run_command`).
    """
    def main(argv=None) -> int:
        import logging

        from ._runner import add_debug_argument, run_command

        parser = argparse.ArgumentParser(prog=prog, description=description)
        add_arguments(parser)
        add_debug_argument(parser)
        args = parser.parse_args(argv)
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return run_command(prog, run, args)

    return main

"""``train_autoencoder DATA --run RUN_DIR`` (also ``lip2audspec train-autoencoder``)."""

from __future__ import annotations

from ._train_args import add_common, model_config, prologue, standalone, train_config

DESCRIPTION = "Train the auditory-spectrogram autoencoder (Lip2AudSpec) on a prepared dataset."


def add_arguments(parser) -> None:
    add_common(parser)


def run(args) -> int:
    prologue(args)
    from ..training import train_autoencoder

    res = train_autoencoder(args.data, args.resume or args.run, preset=args.preset,
                            model_config=model_config(args, "autoencoder"),
                            train_config=train_config(args), resume=bool(args.resume), overwrite=args.overwrite)
    _summary(res)
    return 0


def _summary(res: dict) -> None:
    if res["history"]:
        last = res["history"][-1]
        keys = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k in ("loss", "val_loss", "pearson_r", "val_pearson_r"))
        print(f"{res['run']}: epoch {res['epochs_done']} ({keys}); {res['samples_per_second']:.0f} samples/s "
              f"on {res['replicas']} replica(s)")
    else:
        print(f"{res['run']}: already trained for {res['epochs_done']} epochs")


main = standalone(add_arguments, run, "train_autoencoder", DESCRIPTION)

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""``lip2audspec train-lipsync FACES... --run RUN [--expert SYNC_RUN]``: train the Wav2Lip generator.

``FACES`` are face datasets (``faces.h5`` folders); ``--prepared DIR`` builds one from a prepared dataset
first (RGB face crops around its mouth boxes, cut from the corpus videos) into ``--faces-out``.
"""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("faces", nargs="*", help="face dataset folder(s) (faces.h5); several are pooled")
    parser.add_argument("--prepared", metavar="DIR", help="build a face dataset from this prepared dataset first")
    parser.add_argument("--faces-out", metavar="DIR", help="where --prepared writes the face dataset (default DIR/faces)")
    parser.add_argument("--face-size", type=int, default=None, help="face crop side for --prepared (default: the preset's)")
    parser.add_argument("--max-clips", type=int, help="with --prepared: at most this many clips per split")
    g = parser.add_mutually_exclusive_group(required=True)
    g.add_argument("--run", help="new run folder")
    g.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last finished epoch")
    parser.add_argument("--expert", metavar="SYNC_RUN", help="frozen lip-sync expert (SyncNet run on the auditory "
                        "spectrogram) for the sync loss; with --resume, switches it on from now")
    parser.add_argument("--preset", default="small", choices=["small", "paper"])
    parser.add_argument("--model-config", metavar="JSON", help="Wav2Lip config JSON: a whole config (with \"kind\") replaces the "
                        "preset's; an object without \"kind\" changes only the fields it names")
    parser.add_argument("--sync-start-step", type=int, metavar="N", help="schedule: the sync loss enters the objective "
                        "from optimiser step N; L1 alone before (default: the model config's, 0; with --resume: changes "
                        "the schedule of a run that has not switched yet, recorded)")
    parser.add_argument("--sync-start-below", type=float, metavar="BCE", help="schedule: and only once the expert's "
                        "validation BCE on generated windows is below BCE (Wav2Lip: 0.75; default 0: no condition; "
                        "--resume: as --sync-start-step)")
    parser.add_argument("--lower-weight", type=float, metavar="W", help="new run: weight of the lower half (generated "
                        "mouth region) in the L1 relative to the upper half (default 1)")
    parser.add_argument("--epochs", type=int, help="last epoch (default 30)")
    parser.add_argument("--steps-per-epoch", type=int, help="batches per epoch (default 100)")
    parser.add_argument("--batch-size", type=int, help="windows per batch (default: the preset's)")
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, choices=[0, 1, 2], default=2)
    parser.add_argument("--overwrite", action="store_true", help="replace a run already in --run")


def run(args) -> int:
    from pathlib import Path

    from ..errors import ParameterError
    from ..training import RunDir, TrainConfig
    from ..training.lipsync import train_lipsync

    faces = list(args.faces)
    schedule = {k: v for k, v in (("sync_start_step", args.sync_start_step), ("sync_start_below", args.sync_start_below),
                                  ("lower_weight", args.lower_weight)) if v is not None}
    if args.resume and args.lower_weight is not None:
        raise ParameterError("--lower-weight sets up a new run; a resumed run keeps its loss (see its config.json)")
    config = _model_config(args, schedule)  # the --model-config file is read once, here
    if args.prepared:
        from ..models.wav2lip import wav2lip_preset
        from ..training.lipsync_data import build_face_dataset

        size = args.face_size or (config or wav2lip_preset(args.preset)).face_size
        out = Path(args.faces_out or Path(args.prepared) / "faces")
        faces.append(str(build_face_dataset(args.prepared, out, face_size=size, max_clips=args.max_clips)))
    if not faces and not args.resume:
        raise ParameterError("give face dataset folder(s) or --prepared DIR")
    base = RunDir(args.resume).train_config() if args.resume else TrainConfig(seed=args.seed, tensorboard=False)
    changes = {k: v for k, v in (("epochs", args.epochs), ("steps_per_epoch", args.steps_per_epoch),
                                 ("batch_size", args.batch_size), ("learning_rate", args.learning_rate),
                                 ("verbose", args.verbose)) if v is not None}
    if not args.resume:
        changes.setdefault("epochs", 30)
        changes.setdefault("steps_per_epoch", 100)
    res = train_lipsync(faces or None, args.resume or args.run, expert_run=args.expert, preset=args.preset,
                        model_config=None if args.resume else config,
                        train_config=base.replace(**changes), resume=bool(args.resume), overwrite=args.overwrite,
                        sync_schedule=schedule if args.resume else None)
    hist = res.get("history") or []
    last = hist[-1] if hist else {}
    print(f"{res['run']}: {res['epochs_done']} epoch(s) done; last l1 {last.get('l1', float('nan')):.4f}, "
          f"sync {last.get('sync', float('nan')):.4f}, val l1 (lower half) {last.get('val_l1_lower', float('nan')):.4f}, val_loss {last.get('val_loss', float('nan')):.4f}")
    return 0


def _model_config(args, changes=None):
    from ..models.wav2lip import wav2lip_preset
    from ._train_args import config_from_json

    if not args.model_config and not changes:
        return None
    preset = lambda: wav2lip_preset(args.preset)  # noqa: E731
    config = config_from_json(args.model_config, preset) if args.model_config else preset()
    return config.replace(**changes) if changes else config

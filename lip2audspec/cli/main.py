"""``lip2audspec`` command: one sub-command per module in :data:`COMMANDS`.

Each sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
they are imported lazily so ``lip2audspec --help`` stays fast. Errors are reported by
:func:`lip2audspec.cli._runner.run_command` (one ``lip2audspec COMMAND: error: ...`` line, exit status 2;
``--debug`` or ``LIP2AUDSPEC_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ._runner import add_debug_argument, run_command

# sub-command name -> module (relative to lip2audspec.cli) and one-line help
COMMANDS = {
    "audspec": ("audspec", "auditory spectrogram of a wav file (NSL wav2aud)"),
    "invert": ("invert", "waveform from an auditory spectrogram (NSL aud2wav)"),
    "compile": ("compile", "compile the wav2aud / aud2wav kernels into numba's cache (once, after installing)"),
    "demo": ("demo", "auditory round trip on built-in speech: spectrogram, inversion, plot, wavs"),
    "synth-grid": ("synth_grid", "generate a synthetic GRID-format audio-visual corpus"),
    "prepare": ("prepare", "GRID folder -> mouth crops, auditory targets, HDF5 datasets with splits"),
    "train-autoencoder": ("train_autoencoder", "train the spectrogram autoencoder (same as train_autoencoder)"),
    "train-main": ("train_main", "train the lip network (same as train_main)"),
    "reconstruct": ("reconstruct", "speech from a silent video (or a folder of videos) with a trained lip network"),
    "lipread": ("lipread", "the words spoken in a silent video (speech reconstructed, then recognised)"),
    "models": ("models", "list the bundled pretrained models, or print one's model card"),
    "lipsync": ("lipsync", "make a face video say any speech with a trained Wav2Lip generator (mp4 with audio)"),
    "train-lipsync": ("train_lipsync", "train the Wav2Lip speech-to-lip generator against a frozen lip-sync expert"),
    "train-sync": ("train_sync", "train the SyncNet lip-sync expert (LSE-D / LSE-C, AV offsets)"),
    "sync": ("sync", "AV offset, LSE-D and LSE-C of a talking-face video with the lip-sync expert"),
    "evaluate": ("evaluate", "score a lip network on a prepared split (Corr2D, STOI, PESQ, word accuracy) and write a report"),
    "compare": ("compare", "evaluation reports of several models side by side (paired word-accuracy differences)"),
}


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(prog="lip2audspec", description="Speech from silent lip video (Lip2AudSpec).")
    parser.add_argument("--version", action="version", version=f"lip2audspec {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    add_debug_argument(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        add_debug_argument(p, default=argparse.SUPPRESS)  # also accepted after the command name
        _load(module).add_arguments(p)
    return parser


def _load(module: str):
    return importlib.import_module(f"{__package__}.{module}")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_module", None):
        parser.print_help()
        return 2
    return run_command(f"{parser.prog} {args.command}", _load(args._module).run, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

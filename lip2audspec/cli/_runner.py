"""The one error wrapper of every command-line entry point (``lip2audspec``, ``train_autoencoder``, ``train_main``).

:func:`run_command` runs a command's ``run(args)`` and turns the errors a user can fix into one line on
stderr and exit status 2, in the same format as argparse's usage errors::

    lip2audspec reconstruct: error: cannot load model from runs/lip/best.keras: ...

* :class:`~lip2audspec.errors.Lip2AudSpecError` (bad parameters, unreadable data, a model that cannot
  be loaded: :class:`~lip2audspec.errors.ModelError`) and :class:`OSError` (missing file, permission
  denied, full disk, ...) -> exit 2;
* :class:`KeyboardInterrupt` -> ``PROG: interrupted``, exit 130;
* anything else is a bug and keeps its traceback.

``--debug`` (see :func:`add_debug_argument`) or the environment variable ``LIP2AUDSPEC_DEBUG=1`` re-raises
instead, so the full traceback shows, and leaves TensorFlow's log output alone.

The command-line tools also turn on TensorFlow's oneDNN CPU kernels (``TF_ENABLE_ONEDNN_OPTS=1``, off by
default in the tensorflow-cpu build we use): training and inference on 2 cores run about 2-3x faster;
results differ from oneDNN-off runs in the last bits. Set ``TF_ENABLE_ONEDNN_OPTS=0`` to keep it off.

Without ``--debug``, :func:`quiet_tensorflow` also silences TensorFlow's start-up INFO lines (the oneDNN
notice, absl messages) for the command-line tools only; importing lip2audspec as a library changes nothing.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

from ..errors import Lip2AudSpecError

__all__ = ["DEBUG_ENV", "add_debug_argument", "debug_requested", "error_message", "quiet_tensorflow", "run_command"]

#: environment variable that turns on ``--debug`` for every command
DEBUG_ENV = "LIP2AUDSPEC_DEBUG"

#: TensorFlow's switch of its oneDNN CPU kernels, turned on by the command-line tools unless set
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def add_debug_argument(parser, *, default=False) -> None:
    """Add ``--debug`` to an argparse parser (``default=argparse.SUPPRESS`` for sub-parsers)."""
    parser.add_argument("--debug", action="store_true", default=default,
                        help=f"show the full traceback of an error and TensorFlow's log messages (also {DEBUG_ENV}=1)")


def debug_requested(args=None) -> bool:
    """True with ``--debug`` on the command line or ``LIP2AUDSPEC_DEBUG`` set to anything but ``''``/``0``/``false``/``no``."""
    if getattr(args, "debug", False):
        return True
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def error_message(exc: BaseException) -> str:
    """The message of ``exc`` on one line (an ``OSError`` as ``reason: filename``)."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None and not isinstance(exc, Lip2AudSpecError):
        text = f"{exc.strerror}: {os.fsdecode(exc.filename)}"
        if exc.filename2 is not None:
            text += f" -> {os.fsdecode(exc.filename2)}"
    else:
        text = str(exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines) or type(exc).__name__


def run_command(prog: str, run, args, *, interrupted: str = "interrupted") -> int:
    """Run ``run(args)`` and return its exit status, reporting user errors on one stderr line.

    Parameters
    ----------
    prog : str
        Name printed before ``: error:`` (``"lip2audspec reconstruct"``, ``"train_main"``).
    run : callable
        The command; returns an exit status (``None`` means 0).
    args : argparse.Namespace
        Parsed arguments, passed to ``run``; ``args.debug`` (optional) re-raises errors.
    interrupted : str
        Printed as ``PROG: INTERRUPTED`` after Ctrl-C.

    Returns
    -------
    int
        ``run``'s status, 2 after an error (:class:`~lip2audspec.errors.Lip2AudSpecError`, ``OSError``),
        130 after Ctrl-C.
    """
    debug = debug_requested(args)
    # before TensorFlow is imported (the commands import it lazily); a user's own setting wins
    os.environ.setdefault(ONEDNN_ENV, "1")
    if not debug:
        quiet_tensorflow()
    try:
        return int(run(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"\n{prog}: {interrupted}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (Lip2AudSpecError, OSError) as exc:
        if debug:
            raise
        print(f"{prog}: error: {error_message(exc)}", file=sys.stderr)
        return EXIT_ERROR


# ---------------------------------------------------------------------------------------------------------------
# TensorFlow's start-up noise
#
# TF_CPP_MIN_LOG_LEVEL=3 drops the C++ INFO/WARNING/ERROR messages once absl logging is initialised, but the
# oneDNN notice ("oneDNN custom operations are on ...", on CPUs where TensorFlow enables oneDNN) is written
# while `import tensorflow` runs, before that, whatever the level; so the import itself runs with file
# descriptor 2 captured and its absl INFO lines dropped (anything else is passed through).
# an absl INFO line: "I0000 00:00:1796270859.935150    4893 port.cc:153] oneDNN custom operations are on ..."
_TF_INFO_LINE = re.compile(r"I\d{4} [\d:.]+\s+\d+ [^\]]*\] ")
_ABSL_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


def _is_tf_noise(line: str) -> bool:
    return line.startswith(_ABSL_PREAMBLE) or bool(_TF_INFO_LINE.match(line))


@contextlib.contextmanager
def _stderr_fd_filtered():
    """Capture file descriptor 2 in the block, then write back every line that is not TensorFlow INFO noise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [line for line in tmp.read().decode("utf-8", "replace").splitlines(keepends=True) if not _is_tf_noise(line)]
            if kept:
                os.write(2, "".join(kept).encode("utf-8", "replace"))


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Meta path finder that runs the first ``import tensorflow`` inside :func:`_stderr_fd_filtered`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        loader = getattr(spec, "loader", None)
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def quiet_exec_module(module):
            with _stderr_fd_filtered():
                exec_module(module)

        loader.exec_module = quiet_exec_module
        return spec


def quiet_tensorflow() -> None:
    """Silence TensorFlow's INFO output for a command-line run (never called on library import).

    Sets ``TF_CPP_MIN_LOG_LEVEL=3`` unless already set, filters the absl INFO lines that ``import
    tensorflow`` writes before that setting applies (the oneDNN notice), and raises the ``tensorflow`` and
    ``absl`` Python loggers to ERROR.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:  # pragma: no cover - absl comes with TensorFlow
        pass
    else:
        absl_logging.set_verbosity(absl_logging.ERROR)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())

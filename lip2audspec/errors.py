"""Exceptions raised by lip2audspec.

Every error the package raises on purpose derives from :class:`Lip2AudSpecError`, so callers (and the
command-line wrapper, :func:`lip2audspec.cli.main.run_command`) can catch them all in one clause::

    try:
        ...
    except Lip2AudSpecError as exc:
        print(f"error: {exc}")

:class:`ParameterError` is also a ``ValueError`` and :class:`DataError` a ``RuntimeError``, as before.
"""

__all__ = ["Lip2AudSpecError", "ParameterError", "DataError", "ModelError"]


class Lip2AudSpecError(Exception):
    """Root of every exception lip2audspec raises on purpose; the message says what was wrong."""


class ParameterError(Lip2AudSpecError, ValueError):
    """A function argument has the wrong type, shape, range or value.

    The message always says what was wrong and what is expected.
    """


class DataError(Lip2AudSpecError, RuntimeError):
    """A file or dataset is missing, unreadable or inconsistent.

    Raised for bad *inputs on disk* (corrupt video, truncated wav, malformed
    alignment), as opposed to bad arguments (:class:`ParameterError`).
    """


class ModelError(DataError):
    """A saved model (``.keras`` file, run folder, bundled weights) cannot be loaded or does not fit.

    A :class:`DataError` too, since it is a bad input on disk.
    """

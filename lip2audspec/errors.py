"""Exceptions raised by lip2audspec."""

__all__ = ["ParameterError", "DataError"]


class ParameterError(ValueError):
    """A function argument has the wrong type, shape, range or value.

    The message always says what was wrong and what is expected.
    """


class DataError(RuntimeError):
    """A file or dataset is missing, unreadable or inconsistent.

    Raised for bad *inputs on disk* (corrupt video, truncated wav, malformed
    alignment), as opposed to bad arguments (:class:`ParameterError`).
    """

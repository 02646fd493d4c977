"""Small file-system helpers shared by every long job: atomic writes.

Nothing is ever lost: a file either exists complete or not at all. Writers produce a temporary file in
the destination folder and ``os.replace`` it into place (atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "write_json_atomic", "write_text_atomic", "quiet_stderr"]


@contextlib.contextmanager
def atomic_path(path, *, suffix: str | None = None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    Parameters
    ----------
    path : str or Path
        Final destination. Parent folders are created.
    suffix : str, optional
        Suffix of the temporary file (default: that of ``path``, so writers that infer the format from
        the extension, e.g. OpenCV or ``np.save``, still work).

    Examples
    --------
    >>> with atomic_path("out/x.npy") as tmp:          # doctest: +SKIP
    ...     np.save(tmp, arr)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix if suffix is not None else path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path, obj, *, indent: int = 2) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (keys kept in insertion order)."""
    write_text_atomic(path, json.dumps(obj, indent=indent) + "\n")


@contextlib.contextmanager
def quiet_stderr():
    """Silence C-level writes to file descriptor 2 inside the block (e.g. FFmpeg's "tag 'PIM1' is not
    supported" when OpenCV writes MPEG-1). Not thread-safe: use around writes, not concurrent reads."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)

"""The configuration base: frozen, validated dataclasses with a JSON round trip and schema versions.

Every configuration in lip2audspec (auditory parameters, corpus, cropping, targets, windows, preparation,
models, training, the prepared dataset's spec) is a ``@dataclass(frozen=True)`` that derives from
:class:`Config`, which gives it

* :meth:`Config.to_dict` / :meth:`Config.from_dict`: plain JSON-ready dicts (tuples as lists, nested
  configs as dicts) and back; unknown keys raise :class:`~lip2audspec.errors.ParameterError` naming the
  key and the accepted ones (never a ``TypeError`` from the constructor);
* :meth:`Config.to_json` / :meth:`Config.from_json`, :meth:`Config.save_json` / :meth:`Config.load_json`:
  the same with a ``"kind"`` and a ``"schema"`` key, so a file says what it holds and which version of
  the layout wrote it;
* :meth:`Config.replace`: a validated copy with some fields changed;
* :meth:`Config.migrate`: the hook that turns a dict written by an older schema into the current one
  (a class that changes its fields raises :attr:`Config.SCHEMA_VERSION` and implements it).

Validation lives in each class's ``__post_init__``, written with the helpers of this module
(:func:`check_int`, :func:`check_real`, :func:`check_int_tuple`, :func:`check_bool`, :func:`check_choice`,
:func:`check_optional_int`), which normalise values (``numpy`` ints to ``int``, lists to tuples) and raise
``ParameterError`` with the class, the field, what is expected and what was given.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Example(Config):
...     KIND = "example"
...     size: int = 48
...     def __post_init__(self):
...         check_int(self, "size")
>>> Example().replace(size=64).to_dict()
{'size': 64}
>>> Example.from_dict({"size": 64, "colour": "red"})
Traceback (most recent call last):
...
lip2audspec.errors.ParameterError: unknown Example field(s) ['colour']; accepted: ['size']
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import typing
from pathlib import Path
from typing import ClassVar

from .errors import ParameterError
from .fileio import write_json_atomic

__all__ = [
    "Config",
    "check_int",
    "check_optional_int",
    "check_real",
    "check_int_tuple",
    "check_bool",
    "check_choice",
    "is_int",
    "is_real",
]

#: header keys that :meth:`Config.to_json` adds and :meth:`Config.from_dict` accepts
HEADER_KEYS = ("kind", "schema")


# ---------------------------------------------------------------------------------------------------------------
# validation helpers
def is_int(v) -> bool:
    """True for integers (Python or NumPy), False for ``bool``."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v) -> bool:
    """True for finite real numbers (not ``bool``)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _set(obj, name, value) -> None:
    object.__setattr__(obj, name, value)


def _where(obj, name) -> str:
    return f"{type(obj).__name__}.{name}"


def check_int(obj, name: str, *, lo: int = 1, hi: int | None = None, what: str = "") -> None:
    """Require ``obj.name`` to be an integer in ``[lo, hi]``; store it as ``int``."""
    v = getattr(obj, name)
    if not is_int(v) or v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        raise ParameterError(f"{_where(obj, name)} must be an integer {rng}{what}, got {v!r}")
    _set(obj, name, int(v))


def check_optional_int(obj, name: str, *, lo: int = 1, what: str = "") -> None:
    """Like :func:`check_int`, but ``None`` is allowed."""
    if getattr(obj, name) is not None:
        check_int(obj, name, lo=lo, what=what)


def check_real(obj, name: str, *, lo: float = 0.0, hi: float | None = None, lo_open: bool = False,
               hi_open: bool = False, what: str = "") -> None:
    """Require ``obj.name`` to be a finite number in the interval; store it as ``float``.

    ``lo=None`` means no lower bound.
    """
    v = getattr(obj, name)
    ok = is_real(v)
    if ok:
        f = float(v)
        ok = (lo is None or (f > lo if lo_open else f >= lo)) and (hi is None or (f < hi if hi_open else f <= hi))
    if not ok:
        left = "(-inf" if lo is None else (f"({lo:g}" if lo_open else f"[{lo:g}")
        right = "inf)" if hi is None else (f"{hi:g})" if hi_open else f"{hi:g}]")
        raise ParameterError(f"{_where(obj, name)} must be a finite number in {left}, {right}{what}, got {v!r}")
    _set(obj, name, float(v))


def check_int_tuple(obj, name: str, *, allow_empty: bool = False, lo: int = 1) -> None:
    """Require a sequence of integers ``>= lo``; store it as a tuple of ``int``."""
    v = getattr(obj, name)
    ok = not isinstance(v, (str, bytes)) and hasattr(v, "__iter__")
    t = tuple(v) if ok else ()
    if not ok or (not t and not allow_empty) or not all(is_int(x) and x >= lo for x in t):
        need = "a" if allow_empty else "a non-empty"
        raise ParameterError(f"{_where(obj, name)} must be {need} sequence of integers >= {lo}, got {v!r}")
    _set(obj, name, tuple(int(x) for x in t))


def check_bool(obj, name: str) -> None:
    """Require ``True`` or ``False`` (not 0/1)."""
    v = getattr(obj, name)
    if not isinstance(v, bool):
        raise ParameterError(f"{_where(obj, name)} must be True or False, got {v!r}")


def check_choice(obj, name: str, choices) -> None:
    """Require one of ``choices``."""
    v = getattr(obj, name)
    if v not in tuple(choices):
        raise ParameterError(f"{_where(obj, name)} must be one of {list(choices)}, got {v!r}")


# ---------------------------------------------------------------------------------------------------------------
def _plain(v):
    """JSON-ready copy: configs -> dicts, tuples -> lists, NumPy scalars -> Python."""
    if isinstance(v, Config):
        return v.to_dict()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item") and callable(v.item) and getattr(v, "ndim", None) == 0:
        return v.item()
    return v


class Config:
    """Base class of every lip2audspec configuration (use with ``@dataclass(frozen=True)``).

    Class attributes
    ----------------
    KIND : str
        Written as ``"kind"`` by :meth:`to_json`; :meth:`from_dict` refuses a dict of another kind.
        Defaults to the class name.
    SCHEMA_VERSION : int
        Version of the field layout; bump it when fields change and implement :meth:`migrate`.
    """

    KIND: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1

    # -------------------------------------------------------------------------------------- introspection
    @classmethod
    def kind(cls) -> str:
        return cls.KIND or cls.__name__

    @classmethod
    def field_names(cls) -> list:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def _nested(cls) -> dict:
        """Fields whose type is another :class:`Config` (built from dicts by :meth:`from_dict`)."""
        cache = cls.__dict__.get("_nested_cache")
        if cache is None:
            try:
                hints = typing.get_type_hints(cls)
            except Exception:  # an annotation that cannot be resolved: no nested configs
                hints = {}
            cache = {f.name: hints[f.name] for f in dataclasses.fields(cls)
                     if isinstance(hints.get(f.name), type) and issubclass(hints[f.name], Config)}
            cls._nested_cache = cache
        return cache

    # ------------------------------------------------------------------------------------------ dicts
    def to_dict(self) -> dict:
        """Plain JSON-ready dict of the fields (nested configs as dicts, tuples as lists).

        ``type(c).from_dict(c.to_dict()) == c``.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_json_dict(self) -> dict:
        """:meth:`to_dict` with the ``"kind"`` and ``"schema"`` header keys first."""
        return {"kind": self.kind(), "schema": self.SCHEMA_VERSION, **self.to_dict()}

    @classmethod
    def from_dict(cls, d, *, schema: int | None = None):
        """Build from a dict as written by :meth:`to_dict` or :meth:`to_json_dict`.

        Parameters
        ----------
        d : dict
            Field values; nested configs may be dicts. Optional header keys: ``"kind"`` (must match
            :attr:`KIND`) and ``"schema"`` (the version that wrote it; older versions are migrated).
        schema : int, optional
            Schema version of ``d`` when it carries no ``"schema"`` key (default: the current one).

        Raises
        ------
        ParameterError
            Not a dict, unknown keys (named, with the accepted ones), a config of another kind, a
            schema newer than this version of lip2audspec, or any invalid value.
        """
        if isinstance(d, cls):
            return d
        if not isinstance(d, dict):
            raise ParameterError(f"{cls.__name__}.from_dict expects a dict, got {type(d).__name__}")
        d = dict(d)
        kind = d.pop("kind", None)
        if kind is not None and kind != cls.kind():
            raise ParameterError(f"config is of kind {kind!r}, not {cls.kind()!r} ({cls.__name__})")
        version = d.pop("schema", schema if schema is not None else cls.SCHEMA_VERSION)
        if not is_int(version) or version < 1:
            raise ParameterError(f"{cls.__name__}: schema must be an integer >= 1, got {version!r}")
        if version > cls.SCHEMA_VERSION:
            raise ParameterError(f"{cls.__name__} was written by a newer lip2audspec (schema {version}; this version "
                                 f"reads up to {cls.SCHEMA_VERSION}): upgrade lip2audspec")
        if version < cls.SCHEMA_VERSION:
            d = cls.migrate(d, int(version))
        names = cls.field_names()
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise ParameterError(f"unknown {cls.__name__} field(s) {unknown}; accepted: {sorted(names)}")
        for name, sub in cls._nested().items():
            if isinstance(d.get(name), dict):
                d[name] = sub.from_dict(d[name])
        try:
            return cls(**d)
        except TypeError as exc:  # e.g. a required field missing
            raise ParameterError(f"{cls.__name__}: {exc}") from None

    @classmethod
    def migrate(cls, d: dict, version: int) -> dict:
        """Turn the dict of an older schema ``version`` into the current layout (default: unchanged).

        Subclasses that raise :attr:`SCHEMA_VERSION` override this; it receives the dict without header
        keys and returns a new dict.
        """
        return d

    def replace(self, **changes):
        """A copy with some fields changed, validated again (unknown names raise ``ParameterError``)."""
        return type(self).from_dict({**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}, **changes})

    # ------------------------------------------------------------------------------------------- JSON
    def to_json(self) -> str:
        """JSON text of :meth:`to_json_dict`."""
        return json.dumps(self.to_json_dict(), indent=2)

    @classmethod
    def from_json(cls, text: str):
        """Parse :meth:`to_json` output (``ParameterError`` on invalid JSON)."""
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"invalid {cls.__name__} JSON: {exc}") from None
        return cls.from_dict(d, schema=1 if isinstance(d, dict) and "schema" not in d else None)

    def save_json(self, path) -> Path:
        """Write :meth:`to_json_dict` to ``path`` atomically; returns the path."""
        path = Path(path)
        write_json_atomic(path, self.to_json_dict())
        return path

    @classmethod
    def load_json(cls, path):
        """Read a file written by :meth:`save_json` (a file without ``"schema"`` is read as schema 1)."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise
        except (OSError, UnicodeDecodeError) as exc:
            raise ParameterError(f"cannot read {cls.__name__} from {path}: {exc}") from None
        try:
            return cls.from_json(text)
        except ParameterError as exc:
            raise ParameterError(f"{path}: {exc}") from None

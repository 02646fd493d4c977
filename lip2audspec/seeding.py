"""Seeds for the random draws outside training (aud2wav's random start and blow-up restarts).

Every random choice takes a recorded seed. A per-item generator is derived from ``(seed, *keys)`` with
:class:`numpy.random.SeedSequence`, so an item's draws depend only on the seed and the item's identity
(e.g. ``"oracle", "s1/bbaf2n"``), never on how many items ran before it or in which order.

* :func:`check_seed`: validate a seed (a non-negative integer);
* :func:`as_rng`: None / int / Generator -> Generator (what ``aud2wav(rng=...)`` accepts);
* :func:`derived_rng`: the generator of one item, from a seed and the item's keys (str or int).
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

from .errors import ParameterError

__all__ = ["as_rng", "check_seed", "derived_rng"]


def check_seed(seed, *, name: str = "seed") -> int:
    """``seed`` as an int, or :class:`~lip2audspec.errors.ParameterError` unless it is a non-negative integer.

    Examples
    --------
    >>> check_seed(3)
    3
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ParameterError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def as_rng(rng, *, name: str = "rng") -> np.random.Generator:
    """A generator from None (fresh OS entropy), a non-negative int seed, or a Generator (used as is).

    Raises
    ------
    ParameterError
        Anything else (a float, a negative int, a legacy ``RandomState``, ...).
    """
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    return np.random.default_rng(check_seed(rng, name=name))


def _key_int(key) -> int:
    if isinstance(key, str):
        # a stable digest: Python's hash() of a str changes from process to process
        return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "little")
    return check_seed(key, name="key")


def derived_rng(seed, *keys) -> np.random.Generator:
    """The generator of one item: a deterministic function of ``seed`` and the item's ``keys``.

    Parameters
    ----------
    seed : int
        Non-negative master seed (the one recorded in reports).
    *keys : str or int
        The item's identity, e.g. a stream name and a clip id (``"recon", "s1/bbaf2n"``); strings enter
        through a SHA-256 digest, so the result is the same in every process and on every machine.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> a = derived_rng(0, "recon", "s1/bbaf2n").random()
    >>> b = derived_rng(0, "recon", "s1/bbaf2n").random()
    >>> a == b, a == derived_rng(1, "recon", "s1/bbaf2n").random()
    (True, False)
    """
    return np.random.default_rng(np.random.SeedSequence([check_seed(seed), *map(_key_int, keys)]))

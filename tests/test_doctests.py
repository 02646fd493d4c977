"""The ``>>>`` examples in lip2audspec's docstrings run (or are marked ``# doctest: +SKIP`` on purpose).

Modules are found with :func:`pkgutil.walk_packages`, so a module that moves or appears is covered without
editing this file. Examples that need files, the network or trained models carry ``# doctest: +SKIP``.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import lip2audspec

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _raise(name):
    raise ImportError(f"cannot import {name} while looking for doctests")


def modules_with_examples() -> list:
    """Names of the lip2audspec modules whose source contains ``>>>``."""
    names = []
    for info in pkgutil.walk_packages(lip2audspec.__path__, prefix="lip2audspec.", onerror=_raise):
        spec = importlib.util.find_spec(info.name)
        origin = getattr(spec, "origin", None)
        if origin and origin.endswith(".py") and ">>>" in Path(origin).read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


MODULES = modules_with_examples()


def test_examples_are_found():
    assert "lip2audspec.config" in MODULES and len(MODULES) >= 10


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)

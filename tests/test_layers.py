"""Package layering: a module imports only modules of its own layer or of lower layers.

Every module under ``lip2audspec/`` is parsed with :mod:`ast` (nothing is imported), so the check is fast
and also sees imports made inside functions. Layers, low to high:

====  =========================================================
0     ``errors``, ``config``, ``fileio``, ``seeding``, ``chunking``, ``cluster`` (package root: only ``errors``)
1     ``auditory``, ``corpora``
2     ``data``, ``plots``, ``recognition``
3     ``models``
4     ``training``
5     ``inference``, ``reconstruct``, ``pretrained``, ``sync``
6     ``evaluation``
7     ``cli``, ``demos``
====  =========================================================

Importing the root package itself (``from .. import __version__``) is allowed everywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = "lip2audspec"
PACKAGE_DIR = Path(__file__).resolve().parents[1] / ROOT

LAYERS = {
    "errors": 0, "config": 0, "fileio": 0, "seeding": 0, "chunking": 0, "cluster": 0,
    "auditory": 1, "corpora": 1,
    "data": 2, "plots": 2, "recognition": 2,
    "models": 3,
    "training": 4,
    "inference": 5, "reconstruct": 5, "pretrained": 5, "sync": 5, "lipsync": 5, "batch": 5,
    "evaluation": 6,
    "cli": 7, "demos": 7,
}
ROOT_MAY_IMPORT = {"errors"}


def package_modules(package_dir: Path = PACKAGE_DIR) -> dict:
    """Dotted module name -> (path, is_package) of every module under ``package_dir``."""
    out = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = (ROOT, *path.relative_to(package_dir).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """Absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    if level == 0:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 >= len(base):
        raise ValueError(f"relative import beyond the top-level package in {module}")
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imported_modules(source: str, module: str, *, is_package: bool = False, known=None) -> list:
    """``(line, imported lip2audspec module)`` of every import in ``source`` (module ``module``).

    ``from X import a`` counts as an import of ``X.a`` when that is a module in ``known`` (names of the
    package's modules), else of ``X``. Imports outside the package are left out.
    """
    known = set(package_modules()) if known is None else set(known)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            found += [(node.lineno, s) for s in subs] or [(node.lineno, target)]
    return [(line, name) for line, name in found if name == ROOT or name.startswith(ROOT + ".")]


def layer_of(name: str) -> int | None:
    """Layer of a module of the package (None for the root package itself)."""
    parts = name.split(".")
    if len(parts) == 1:
        return None
    if parts[1] not in LAYERS:
        raise KeyError(f"{name}: '{parts[1]}' has no layer; add it to LAYERS in {Path(__file__).name}")
    return LAYERS[parts[1]]


def upward_imports(source: str, module: str, *, is_package: bool = False, known=None) -> list:
    """``(line, imported module, reason)`` of every import in ``source`` that breaks the layer rule."""
    bad = []
    for line, name in imported_modules(source, module, is_package=is_package, known=known):
        if name == ROOT:
            continue  # the root package itself (__version__, the exceptions): allowed everywhere
        if module == ROOT:
            if name.split(".")[1] not in ROOT_MAY_IMPORT:
                bad.append((line, name, f"the package root may import only {sorted(ROOT_MAY_IMPORT)}"))
            continue
        mine, theirs = layer_of(module), layer_of(name)
        if theirs > mine:
            bad.append((line, name, f"layer {theirs} imported from layer {mine}"))
    return bad


def test_every_module_has_a_layer():
    unknown = sorted({name.split(".")[1] for name in package_modules() if name != ROOT} - set(LAYERS))
    assert not unknown, f"modules or packages without a layer (add them to LAYERS): {unknown}"


def test_no_upward_imports():
    modules = package_modules()
    assert f"{ROOT}.corpora.grid" in modules and f"{ROOT}.evaluation.summary" in modules  # the scan sees the tree
    problems = []
    for name, (path, is_package) in modules.items():
        for line, target, reason in upward_imports(path.read_text(encoding="utf-8"), name, is_package=is_package,
                                                   known=modules):
            problems.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: imports {target} ({reason})")
    assert not problems, "imports of higher layers:\n" + "\n".join(problems)


KNOWN = {f"{ROOT}.{m}" for m in ("errors", "fileio", "corpora", "corpora.grid", "data", "data.prepare", "plots",
                                  "training", "training.fit", "evaluation", "evaluation.report", "models")}


@pytest.mark.parametrize("module, is_package, source, expected", [
    # upward, relative, inside a function
    ("lip2audspec.data.prepare", False, "def f():\n    from ..training.fit import train_lipnet\n",
     [(2, "lip2audspec.training.fit")]),
    # upward, absolute
    ("lip2audspec.plots", False, "import numpy\nimport lip2audspec.evaluation.report\n",
     [(2, "lip2audspec.evaluation.report")]),
    # upward through `from package import submodule`, in a package __init__
    ("lip2audspec.corpora", True, "from .. import data\n", [(1, "lip2audspec.data")]),
    # the root package may import errors only
    ("lip2audspec", True, "from .errors import DataError\nfrom .fileio import atomic_path\n",
     [(2, "lip2audspec.fileio")]),
    # allowed: downward, same layer, the root package, other packages
    ("lip2audspec.training.fit", False,
     "from .. import __version__\nfrom ..data.prepare import x\nfrom . import fit\nfrom ..models import preset\n"
     "from lip2audspec.errors import DataError\nimport numpy as np\n", []),
    ("lip2audspec.evaluation.report", False, "from ..corpora.grid import sentence_from_id\nfrom .. import plots\n", []),
])
def test_checker_catches_upward_imports(module, is_package, source, expected):
    found = [(line, target) for line, target, _ in upward_imports(source, module, is_package=is_package, known=KNOWN)]
    assert found == expected


def test_checker_rejects_imports_beyond_the_package():
    with pytest.raises(ValueError, match="beyond the top-level package"):
        imported_modules("from ... import x\n", "lip2audspec.plots", known=KNOWN)

"""Bundled lip-sync experts: a trimmed ``train-sync`` run with its model card (``lip2audspec sync`` default).

A sync bundle is a folder ``<root>/<name>/`` like the lip-to-speech bundles (:mod:`.bundles`), checked the
same way by :func:`~lip2audspec.pretrained.load` (SHA-256 of every file in ``card.json``)::

    MODEL_CARD.md     the model card
    card.json         the same, machine-readable (``"kind": "syncnet"``), with the files' SHA-256
    sync/             the train-sync run, trimmed: config.json + best.keras (inference weights)

:class:`lip2audspec.sync.SyncExpert` loads it by name (``SyncExpert.load("sync-s1")``).
"""

from __future__ import annotations

from pathlib import Path

from .. import __version__
from ..errors import ParameterError
from ..fileio import write_json_atomic
from ..training.runs import RunDir
from .bundles import LICENCE, _assembling, _check_card, _finish_bundle

__all__ = ["SYNC_RUN", "make_sync_bundle"]

#: the run folder inside a sync bundle
SYNC_RUN = "sync"


def make_sync_bundle(name: str, *, run, out_dir, card: dict, card_markdown: str, which: str = "best",
                     overwrite: bool = False) -> Path:
    """Make a bundled lip-sync expert ``out_dir/name`` from a ``train-sync`` run.

    Parameters
    ----------
    name : str
        Letters, digits, ``.``, ``_``, ``-`` (e.g. ``sync-s1``).
    run : str or Path
        The train-sync run folder.
    out_dir : str or Path
        Folder of bundles (``lip2audspec/pretrained/models`` to ship it with the package).
    card : dict
        JSON-ready card with a one-line ``description`` (plus training data, command, figures ...).
    card_markdown : str
        ``MODEL_CARD.md``'s text.
    which : {"best", "last"}
    overwrite : bool

    Returns
    -------
    Path
        The bundle folder (assembled beside it and renamed into place).
    """
    _check_card(name, card, card_markdown)
    r = RunDir(run)
    cfg = r.config()
    if cfg.get("kind") != "syncnet":
        raise ParameterError(f"{r.path} is a {cfg.get('kind')} run, not a syncnet run")
    r.model_path(which)
    with _assembling(out_dir, name, overwrite=overwrite) as (tmp, dest):
        (tmp / SYNC_RUN).mkdir()
        r.load_model(which).save(tmp / SYNC_RUN / RunDir.BEST)  # inference weights, no optimiser state
        write_json_atomic(tmp / SYNC_RUN / RunDir.CONFIG, cfg)
        doc = {"name": name, "kind": "syncnet", **card, "licence": card.get("licence", LICENCE),
               "lip2audspec_version": __version__, "config_summary": {"syncnet": cfg.get("model")}}
        _finish_bundle(tmp, dest, doc, card_markdown)
    return dest

"""Pretrained models shipped with lip2audspec, each with a model card.

>>> from lip2audspec import pretrained
>>> pretrained.available()                               # doctest: +SKIP
['grid-s1']
>>> print(pretrained.card("grid-s1"))                    # doctest: +SKIP
>>> model = pretrained.load("grid-s1")                   # doctest: +SKIP
>>> out = model.reconstructor(n_iter=20).from_video("clip.mpg")   # doctest: +SKIP

:func:`load` checks every file of the bundle against the SHA-256 hashes in its card first.

* :func:`available`, :func:`info` (``card.json``), :func:`card` (``MODEL_CARD.md``), :func:`path`,
  :func:`load` -> :class:`Pretrained` (``.lipnet``, ``.autoencoder``, ``.lip_run``, ``.autoencoder_run``,
  ``.info``, ``.card``, ``.stats``, ``.reconstructor(**kw)``);
* :func:`reconstructor_for`: a run folder or a bundled model's name -> a reconstructor (``reconstruct -m``);
* :func:`make_bundle`: trained runs -> a bundle folder (layout in :mod:`.bundles`);
  :func:`make_sync_bundle`: a ``train-sync`` run -> a bundled lip-sync expert (:mod:`.sync_bundle`; loaded
  by :meth:`lip2audspec.sync.SyncExpert.load`).

Bundles live in ``lip2audspec/pretrained/models/<name>/``, or in the folder named by the environment
variable ``LIP2AUDSPEC_PRETRAINED_DIR`` (every function also takes ``root=``).
"""

from .bundles import (CARD_JSON, CARD_MD, LICENCE, ROOT_ENV, Pretrained, available, card, info, load, make_bundle,
                      models_root, path, reconstructor_for)
from .sync_bundle import make_sync_bundle

__all__ = ["ROOT_ENV", "CARD_JSON", "CARD_MD", "LICENCE", "Pretrained", "available", "info", "card", "path", "load",
           "make_bundle", "models_root", "reconstructor_for", "make_sync_bundle"]

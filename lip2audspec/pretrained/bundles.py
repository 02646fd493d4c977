"""Bundled models: trained lip network + autoencoder pairs shipped inside the package, with a model card.

A bundle is a folder ``<root>/<name>/``::

    MODEL_CARD.md     the model card (what it was trained on, how, how well it does, licence)
    card.json         the same, machine-readable, with the SHA-256 of every file below
    crop_stats.json   reference statistics of the training crops (out-of-distribution check), optional
    lip/              the lip network run, trimmed: config.json (autoencoder_run = "../ae") + best.keras
    ae/               the autoencoder run, trimmed: config.json + best.keras (absent for a whole-clip family
                      that predicts the spectrogram itself, e.g. ``train_main --arch framesync``)

``<root>`` is ``lip2audspec/pretrained/models/`` unless the environment variable
``LIP2AUDSPEC_PRETRAINED_DIR`` (or a ``root=`` argument) names another folder. Bundles are made from
trained runs with :func:`make_bundle`; :func:`load` checks every file against ``card.json`` first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..errors import ModelError, ParameterError
from ..fileio import write_json_atomic, write_text_atomic
from ..training.runs import RunDir

__all__ = ["ROOT_ENV", "CARD_JSON", "CARD_MD", "LICENCE", "Pretrained", "models_root", "available", "path", "info",
           "card", "load", "make_bundle", "reconstructor_for"]

#: environment variable naming another folder of bundles (replaces the package's own)
ROOT_ENV = "LIP2AUDSPEC_PRETRAINED_DIR"
CARD_JSON = "card.json"
CARD_MD = "MODEL_CARD.md"
#: the licence and attribution of models trained on GRID (a card may say otherwise)
LICENCE = "GRID corpus (Cooke et al. 2006), CC BY 4.0"
#: the run folders of a bundle, and the files kept of each
RUNS = {"lip": "lip", "autoencoder": "ae"}
RUN_FILES = (RunDir.CONFIG, RunDir.BEST)
#: what make_bundle fills in itself; a card passed to it must not set these
_COMPUTED = ("name", "files", "lip2audspec_version", "config_summary", "runs")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def models_root(root=None) -> Path:
    """The folder of bundles: ``root``, else ``$LIP2AUDSPEC_PRETRAINED_DIR``, else the package's ``models/``."""
    if root is not None:
        return Path(root)
    env = os.environ.get(ROOT_ENV, "").strip()
    return Path(env) if env else Path(__file__).resolve().parent / "models"


def available(*, root=None) -> list:
    """Names of the bundled models (folders holding a ``card.json``), sorted."""
    base = models_root(root)
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.is_dir() and _NAME.match(p.name) and (p / CARD_JSON).is_file())


def path(name: str, *, root=None) -> Path:
    """The folder of bundled model ``name``.

    Raises
    ------
    ParameterError
        No bundle of that name; the message lists the available ones.
    """
    names = available(root=root)
    if not isinstance(name, str) or name not in names:
        raise ParameterError(f"no bundled model named {name!r}; available: {_names(names)}")
    return models_root(root) / name


def _names(names) -> str:
    return ", ".join(names) if names else "none (lip2audspec models lists them)"


def info(name: str, *, root=None) -> dict:
    """The machine-readable model card (``card.json``) of bundled model ``name``.

    Raises
    ------
    ParameterError
        Unknown name.
    ModelError
        ``card.json`` cannot be read.
    """
    p = path(name, root=root) / CARD_JSON
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read the model card {p}: {exc}; the package is damaged; reinstall") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), dict):
        raise ModelError(f"{p} is not a model card (no 'files'); the package is damaged; reinstall")
    return doc


def card(name: str, *, root=None) -> str:
    """The model card (``MODEL_CARD.md``) of bundled model ``name``, as text."""
    p = path(name, root=root) / CARD_MD
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ModelError(f"cannot read the model card {p}: {exc}; the package is damaged; reinstall") from None


def _sha256(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _verify(folder: Path, doc: dict) -> None:
    """Check every file listed in the card (and the weight files, which must be listed) against its hash."""
    files = doc["files"]
    # a lip-sync expert (sync_bundle.py) has one run; a spectrogram-target family no autoencoder ("runs")
    runs = ("sync",) if doc.get("kind") == "syncnet" else doc.get("runs") or RUNS.values()
    needed = {f"{d}/{RunDir.BEST}" for d in runs}
    for rel in sorted(needed | set(files)):
        p = folder / rel
        if rel not in files:
            raise ModelError(f"the model card of {folder} lists no hash for {rel}: the package is damaged; reinstall")
        if not p.is_file():
            raise ModelError(f"{p} is missing: the package is damaged; reinstall")
        if _sha256(p) != files[rel]:
            raise ModelError(f"{p} does not match its model card: the package is damaged; reinstall")


@dataclass
class Pretrained:
    """A bundled model, checked against its card (:func:`load`).

    Attributes
    ----------
    name : str
    path : Path
        The bundle folder.
    lip_run, autoencoder_run : Path
        Its run folders (``lip/``, ``ae/``).
    info : dict
        ``card.json``.
    card : str
        ``MODEL_CARD.md``.
    stats : Path or None
        ``crop_stats.json`` (reference statistics of the training crops), if the bundle has one.
    """

    name: str
    path: Path
    info: dict
    card: str
    _models: dict = field(default_factory=dict, repr=False)

    @property
    def lip_run(self) -> Path:
        return self.path / RUNS["lip"]

    @property
    def autoencoder_run(self) -> Path | None:
        """The autoencoder run folder, or None for a family that predicts the spectrogram itself."""
        p = self.path / RUNS["autoencoder"]
        return p if p.is_dir() else None

    @property
    def stats(self) -> Path | None:
        from ..data.stats import STATS_FILE

        p = self.path / STATS_FILE
        return p if p.is_file() else None

    def _model(self, which: str):
        if which == "autoencoder" and self.autoencoder_run is None:
            raise ParameterError(f"{self.name!r} predicts the auditory spectrogram itself: it has no autoencoder")
        if which not in self._models:
            self._models[which] = RunDir(self.path / RUNS[which]).load_model("best")
        return self._models[which]

    @property
    def lipnet(self):
        """The lip network (Keras model, loaded on first use)."""
        return self._model("lip")

    @property
    def autoencoder(self):
        """The autoencoder (Keras model, loaded on first use)."""
        return self._model("autoencoder")

    def reconstructor(self, **kwargs):
        """A :class:`~lip2audspec.reconstruct.Reconstructor` for this model (it loads its own copy of the models).

        Keyword arguments go to the reconstructor (``n_iter``, ``seed``, ``crop_method`` ...); by default it
        uses the bundle's autoencoder and crop statistics.
        """
        from ..reconstruct import Reconstructor

        if self.info.get("kind") == "syncnet":
            raise ParameterError(f"{self.name!r} is a lip-sync expert (SyncNet), not a lip-to-speech model; use it "
                                 f"with `lip2audspec sync -m {self.name}` or lip2audspec.sync.SyncExpert.load")
        if self.autoencoder_run is not None:
            kwargs.setdefault("autoencoder_run", self.autoencoder_run)
        kwargs.setdefault("stats", self.stats)
        return Reconstructor(self.lip_run, **kwargs)


def load(name: str, *, root=None) -> Pretrained:
    """Load bundled model ``name`` after checking its files against the SHA-256 hashes of its card.

    Raises
    ------
    ParameterError
        Unknown name (the message lists the available ones).
    ModelError
        A file is missing or does not match its model card (the package is damaged).

    Examples
    --------
    >>> from lip2audspec import pretrained                      # doctest: +SKIP
    >>> rec = pretrained.load("grid-s1").reconstructor()        # doctest: +SKIP
    >>> out = rec.from_video("s1_clip.mpg")                     # doctest: +SKIP
    """
    folder = path(name, root=root)
    doc = info(name, root=root)
    _verify(folder, doc)
    return Pretrained(name=name, path=folder, info=doc, card=card(name, root=root))


def reconstructor_for(model, *, root=None, **kwargs):
    """A :class:`~lip2audspec.reconstruct.Reconstructor` for a lip run folder or a bundled model's name.

    Parameters
    ----------
    model : str or Path
        A lip network run folder; a name with no such folder is looked up among the bundled models.
    root : str or Path, optional
        Folder of bundles (see :func:`models_root`).
    **kwargs
        Passed to the reconstructor (``autoencoder_run=None`` keeps the run's or bundle's own).

    Raises
    ------
    ParameterError
        Neither a folder nor a bundled model; the message lists the bundled models.
    """
    from ..reconstruct import Reconstructor

    kwargs = {k: v for k, v in kwargs.items() if not (k == "autoencoder_run" and v is None)}
    if Path(model).is_dir():
        return Reconstructor(model, **kwargs)
    names = available(root=root)
    if str(model) not in names:
        raise ParameterError(f"{model!r} is neither a lip network run folder nor a bundled model; "
                             f"bundled models: {_names(names)}")
    return load(str(model), root=root).reconstructor(**kwargs)


def _config_summary(lip_cfg: dict, ae_cfg: dict) -> dict:
    prep = (lip_cfg.get("data") or {}).get("prepare_config") or {}
    crop = prep.get("crop") or {}
    return {"lipnet": lip_cfg.get("model"), "autoencoder": ae_cfg.get("model"),
            "crop": {"method": crop.get("method"), "size": crop.get("size")},
            "window": prep.get("window"), "fps": prep.get("fps"), "target": prep.get("target")}


def _check_card(name, card, card_markdown) -> None:
    """The checks every bundle writer makes on its name, card and ``MODEL_CARD.md`` text."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(f"bundle name must be letters, digits, '.', '_' or '-' (not starting with those "
                             f"marks), got {name!r}")
    if not isinstance(card, dict) or not isinstance(card.get("description"), str) or not card["description"].strip():
        raise ParameterError("card must be a dict with a one-line 'description'")
    if not isinstance(card_markdown, str) or not card_markdown.strip():
        raise ParameterError("card_markdown must be the model card's text")


@contextlib.contextmanager
def _assembling(out_dir, name: str, *, overwrite: bool):
    """Yield ``(tmp, dest)``: a scratch folder beside ``out_dir / name`` to assemble a bundle in (removed if
    the assembly fails; :func:`_finish_bundle` renames it into place)."""
    out_dir = Path(out_dir)
    dest = out_dir / name
    if dest.exists() and not overwrite:
        raise ParameterError(f"{dest} already exists; pass overwrite=True to replace it")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=out_dir))
    try:
        yield tmp, dest
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise


def _finish_bundle(tmp: Path, dest: Path, doc: dict, card_markdown: str) -> None:
    """Write ``card.json`` (``doc`` plus the SHA-256 of every file in ``tmp``) and ``MODEL_CARD.md`` into the
    bundle being assembled in ``tmp``, then rename it to ``dest`` (replacing an older bundle)."""
    files = {p.relative_to(tmp).as_posix(): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
    write_json_atomic(tmp / CARD_JSON, {**doc, "files": files})
    write_text_atomic(tmp / CARD_MD, card_markdown if card_markdown.endswith("\n") else card_markdown + "\n")
    os.chmod(tmp, 0o755)  # mkdtemp makes it private
    old = None
    if dest.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
        os.replace(dest, old / dest.name)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def make_bundle(name: str, *, lip_run, autoencoder_run, out_dir, card: dict, card_markdown: str, dataset=None,
                split: str = "seen/train", which: str = "best", overwrite: bool = False) -> Path:
    """Make a bundled model ``out_dir/name`` from a trained lip run and its autoencoder run.

    Copies ``config.json`` and the model of each run, without its optimiser state, as ``best.keras``
    (the lip config's ``autoencoder_run`` becomes
    the relative ``../ae``), computes the reference crop statistics of ``dataset``'s ``split`` at the lip
    network's crop size (``crop_stats.json``), and writes ``card.json`` (``card`` plus ``name``, the
    SHA-256 of every file, the lip2audspec version, a configuration summary and, unless given, the GRID
    licence) and ``MODEL_CARD.md``. The bundle is assembled in a temporary folder beside its destination
    and renamed into place, so it exists complete or not at all.

    Parameters
    ----------
    name : str
        Letters, digits, ``.``, ``_``, ``-`` (e.g. ``grid-s1``).
    lip_run, autoencoder_run : str or Path
        Run folders of ``train_main`` (any ``--arch``) and ``train_autoencoder``; ``autoencoder_run=None``
        for a family that predicts the spectrogram itself (``target="spec"``, e.g. ``framesync``).
    out_dir : str or Path
        The folder of bundles (``lip2audspec/pretrained/models`` to ship it with the package).
    card : dict
        JSON-ready model card: ``description`` (one line, required) and, as the package's cards have them,
        ``training_data``, ``split``, ``audio_source``, ``seed``, ``command``, ``test_figures``, ``licence``.
    card_markdown : str
        ``MODEL_CARD.md``'s text.
    dataset : str or Path, optional
        The prepared dataset the runs were trained on; without it the bundle has no crop statistics
        (no out-of-distribution check).
    split : str
        Split of ``dataset`` the statistics are taken from.
    which : {"best", "last"}
        Which model of each run is bundled (stored as ``best.keras``): the best on validation, or the
        last epoch's (a model retrained on train+val for a number of epochs chosen beforehand).
    overwrite : bool
        Replace an existing bundle of that name.

    Returns
    -------
    Path
        The bundle folder.
    """
    from ..data.stats import STATS_FILE, dataset_crop_statistics

    _check_card(name, card, card_markdown)
    clash = sorted(set(card) & set(_COMPUTED))
    if clash:
        raise ParameterError(f"card must not set {clash}: make_bundle computes them")
    from ..models.families import lip_run_needs_autoencoder

    runs = {"lip": RunDir(lip_run)}
    configs = {"lip": runs["lip"].config()}
    needs_ae = lip_run_needs_autoencoder(configs["lip"], source=runs["lip"].path)
    if needs_ae and autoencoder_run is None:
        raise ParameterError(f"{runs['lip'].path} predicts autoencoder codes: pass its autoencoder_run")
    if not needs_ae and autoencoder_run is not None:
        raise ParameterError(f"{runs['lip'].path} predicts the spectrogram itself: it needs no autoencoder_run")
    if needs_ae:
        runs["autoencoder"] = RunDir(autoencoder_run)
        configs["autoencoder"] = runs["autoencoder"].config()
        if configs["autoencoder"].get("kind") != "autoencoder":
            raise ParameterError(f"{runs['autoencoder'].path} is a {configs['autoencoder'].get('kind')} run, "
                                 "not an autoencoder run")
    for run in runs.values():
        run.model_path(which)  # raises if the run has no such model (or which is wrong)
    with _assembling(out_dir, name, overwrite=overwrite) as (tmp, dest):
        for key in runs:
            sub = RUNS[key]
            (tmp / sub).mkdir()
            # inference weights only: the optimiser state of a run's checkpoint would triple the size
            runs[key].load_model(which).save(tmp / sub / RunDir.BEST)
            cfg = dict(configs[key])
            if key == "lip":
                cfg["autoencoder_run"] = f"../{RUNS['autoencoder']}" if needs_ae else None
            write_json_atomic(tmp / sub / RunDir.CONFIG, cfg)
        if dataset is not None:
            size = (configs["lip"].get("model") or {}).get("crop_size")
            write_json_atomic(tmp / STATS_FILE, dataset_crop_statistics(dataset, split=split, size=size))
        doc = {"name": name, **card, "licence": card.get("licence", LICENCE), "lip2audspec_version": __version__,
               "runs": [RUNS[k] for k in runs],
               "config_summary": _config_summary(configs["lip"], configs.get("autoencoder") or {})}
        _finish_bundle(tmp, dest, doc, card_markdown)
    return dest

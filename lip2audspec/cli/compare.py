"""``lip2audspec compare``: evaluation reports of several models side by side.

Reads the ``report.json`` of each evaluation folder (``lip2audspec evaluate -o DIR``) and writes
``comparison.md``, ``comparison.json`` and ``index.html`` (tables, paired word-accuracy differences against
the first model, example clips with each model's reconstruction side by side); see
:func:`lip2audspec.evaluation.compare.write_comparison`.

Example::

    lip2audspec compare window=eval_window framesync=eval_framesync -o comparison
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ParameterError


def add_arguments(parser) -> None:
    parser.add_argument("reports", nargs="+", metavar="LABEL=REPORT",
                        help="a label and an evaluation folder (report.json); the first is the baseline")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output folder")
    parser.add_argument("--condition", default="recon", choices=("recon", "oracle", "original"),
                        help="condition compared (default recon)")
    parser.add_argument("--clips", type=int, default=3, help="example clips shown side by side (default 3)")
    parser.add_argument("--title", default="Lip-to-speech models side by side")


def parse_reports(items) -> dict:
    """``["a=dir1", "b=dir2"]`` -> ``{"a": "dir1", "b": "dir2"}`` (labels unique, both parts non-empty)."""
    out = {}
    for item in items:
        label, sep, path = str(item).partition("=")
        if not sep or not label or not path:
            raise ParameterError(f"expected LABEL=REPORT_FOLDER, got {item!r}")
        if label in out:
            raise ParameterError(f"label {label!r} given twice")
        out[label] = path
    return out


def run(args) -> int:
    from ..evaluation.compare import write_comparison

    doc = write_comparison(args.out, parse_reports(args.reports), condition=args.condition, clips=args.clips,
                           title=args.title)
    print((args.out / "comparison.md").read_text(), end="")
    print(f"written: {args.out / 'index.html'} ({len(doc['examples'])} example clips)")
    return 0

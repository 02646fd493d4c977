"""``lip2audspec models [NAME]``: the bundled pretrained models, or one model's card."""

from __future__ import annotations


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", help="print this model's card (MODEL_CARD.md)")


def run(args) -> int:
    from .. import pretrained

    if args.name:
        print(pretrained.card(args.name), end="")
        return 0
    names = pretrained.available()
    if not names:
        print(f"no bundled models in {pretrained.models_root()}")
        return 0
    width = max(map(len, names))
    for name in names:
        description = " ".join(str(pretrained.info(name).get("description", "")).split())
        print(f"{name:<{width}}  {description}")
    print("\nlip2audspec models NAME prints a model's card; lip2audspec reconstruct VIDEO -m NAME -o OUT.wav uses it")
    return 0

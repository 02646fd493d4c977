#!/usr/bin/env python
"""Prepare a GRID folder (real or synthetic) into training datasets.

Same as ``lip2audspec prepare``; e.g.::

    python data_prep/prepare_grid.py data/grid -o data/prepared --speakers s1 s2 s4 s29 --workers 2
"""

import sys

from lip2audspec.cli.main import main

if __name__ == "__main__":
    sys.exit(main(["prepare", *sys.argv[1:]]))

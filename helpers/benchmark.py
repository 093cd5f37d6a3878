"""How long the course takes to run, against the floor of just starting it.

    python -m helpers.benchmark

Runs each notebook in a fresh kernel and times it, each beside a notebook that only imports
the stack (torch, sympy, matplotlib, helpers): the floor no notebook can beat.
Prints each notebook's time, the suite's time, the floor's, and their ratio. One run, serial;
a measurement, not a test.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from helpers.claims import NOTEBOOK_DIR
from helpers.report import execute

IMPORTS = """
import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn.functional as F
from helpers import verify, symbolic, numeric, models, rlhf, dpo, plots
"""


def floor_notebook(directory: Path) -> Path:
    path = directory / "floor.ipynb"
    nb = new_notebook(cells=[new_code_cell(IMPORTS.strip())])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def main() -> int:
    paths = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    times, floors = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = floor_notebook(Path(tmp))
        for path in paths:  # a floor kernel beside each notebook: both see the same machine load
            floors.append(execute(floor_path)[1])
            times[path.stem] = execute(path)[1]
            print(f"{path.stem:<28}{times[path.stem]:6.1f} s   (floor {floors[-1]:.1f} s)", flush=True)
    suite, floor = sum(times.values()), sum(floors)
    print(f"{'suite':<28}{suite:6.1f} s  ({len(paths)} notebooks)")
    print(f"{'floor (imports only)':<28}{floor:6.1f} s  ({len(paths)} kernels)")
    print(f"ratio suite / floor: {suite / floor:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long the course takes to run, against the floor of just starting it.

    rlhf-course bench [--notebooks NB ...]

Runs each notebook in a fresh kernel and times it, each beside a floor kernel that only does what
every notebook's setup does: import the stack (torch, torch.optim, sympy, matplotlib, every math
module of helpers), create one torch.optim optimiser, and make the explicit setup calls (threads,
plot style, gc freeze). No notebook can beat the floor. Prints each notebook's time and its floor's, the
suite's time, the floor's, and their ratio. One run, serial, minutes long; a measurement, not a test.
"""

from __future__ import annotations

import argparse
import pkgutil
import tempfile
from pathlib import Path

import helpers
from helpers.course import Course, CourseError, read_notebook
from helpers.course.cli import add_verb
from helpers.course.progress import Progress
from helpers.course.report import add_notebooks_argument, execute

FLOOR = """\
import matplotlib.pyplot as plt
import sympy as sp
import torch
import torch.nn.functional as F

from helpers import {modules}
from helpers.numeric import freeze_gc, set_threads
from helpers.plots import use_style

set_threads()
use_style()
freeze_gc()
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `bench` sub-command and its flags."""
    parser = add_verb(subparsers, "bench", "time each notebook against a kernel that only starts up",
                      __doc__)
    add_notebooks_argument(parser)
    return parser


def math_modules() -> list[str]:
    """The modules of `helpers` a notebook may import (every one but the course tooling)."""
    return sorted(m.name for m in pkgutil.iter_modules(helpers.__path__) if not m.ispkg)


def floor_source() -> str:
    """The floor kernel's one cell: the notebooks' imports and setup, nothing else."""
    return FLOOR.format(modules=", ".join(math_modules()))


def floor_notebook():
    """A notebook node holding the floor cell."""
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell(floor_source())])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def timed(nb, path: Path) -> float:
    """Seconds to run `nb` in a fresh kernel; CourseError naming `path` if it fails."""
    seconds, error = execute(nb, path)
    if error:
        raise CourseError(f"{path}: failed ({error})")
    return seconds


def run(args: argparse.Namespace) -> int:
    """Time each selected notebook beside a floor kernel; print the times and the ratio."""
    paths = Course(args.root).select(args.notebooks)
    notebooks = [read_notebook(p) for p in paths]
    times, floors = {}, []
    progress = Progress(len(paths))
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = Path(tmp) / "floor.ipynb"
        for path, nb in zip(paths, notebooks):  # a floor beside each notebook: both see the same load
            progress.start(path.stem)
            floors.append(timed(floor_notebook(), floor_path))
            times[path.stem] = timed(nb, path)
            progress.done(f"{times[path.stem]:5.1f} s   (floor {floors[-1]:.1f} s)")
    suite, floor = sum(times.values()), sum(floors)
    print(f"{'suite':<28}{suite:6.1f} s  ({len(paths)} notebooks)")
    print(f"{'floor (imports and setup)':<28}{floor:6.1f} s  ({len(paths)} kernels)")
    print(f"ratio suite / floor: {suite / floor:.2f}" if floor else "no notebooks timed")
    return 0

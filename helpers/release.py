"""Student versions of the notebooks, built with nbgrader's preprocessors.

    python -m helpers.release [--out DIR] [NOTEBOOK ...]

Each released notebook has its solutions replaced by nbgrader's stub (`# YOUR CODE HERE` /
`raise NotImplementedError()`), hidden tests removed, outputs cleared and graded cells locked;
checksums are recorded so that `nbgrader autograde` can tell a changed test cell. Without
NOTEBOOK arguments, every notebook in notebooks/ is released. The default output is release/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, ComputeChecksums, LockCells

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
PREPROCESSORS = (LockCells, ClearSolutions, ClearHiddenTests, ClearOutput, ComputeChecksums)


def student_version(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of a notebook (a new node; the argument is left unchanged)."""
    nb = nbformat.from_dict(nbformat.from_dict(nb))  # deep copy
    resources: dict = {}
    for preprocessor in PREPROCESSORS:
        nb, resources = preprocessor().preprocess(nb, resources)
    return nb


def release(paths: list[Path], out: Path) -> list[Path]:
    """Write the student version of each notebook in `paths` into `out`; return the new paths."""
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise ValueError(f"NOTEBOOK: expected an existing .ipynb file, got {str(path)!r}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        target = out / path.name
        nbformat.write(student_version(nb), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.release", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("release"),
                        help="directory for the student versions (default: release/)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to release (default: every notebook in notebooks/)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    try:
        written = release(paths, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    for path in written:
        print(f"released {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

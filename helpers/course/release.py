"""Student versions of the notebooks, built with nbgrader's preprocessors.

    rlhf-course release [--out DIR] [--force] [NOTEBOOK ...]

Each released notebook has its solutions replaced by nbgrader's stub (`# YOUR CODE HERE` /
`raise NotImplementedError()`), hidden tests removed, outputs cleared and graded cells locked;
checksums are recorded so that `nbgrader autograde` can tell a changed test cell. Without
NOTEBOOK arguments, every course notebook is released. The default output is release/.

The release never overwrites a notebook it releases. Unless --force is given, it also refuses
to write into a directory that holds source notebooks (notebooks/, or any directory with a
notebook that has solution cells) and to overwrite a file it did not write: the files it wrote
are listed in DIR/.rlhf-release.json. It checks everything before writing anything.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from helpers.course import (
    COURSE,
    Course,
    CourseError,
    check_dir_path,
    read_notebook,
    writable_dir,
    write_atomic,
)
from helpers.course.cli import add_verb

MANIFEST = ".rlhf-release.json"
SOLUTION_MARKERS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `release` sub-command and its flags."""
    parser = add_verb(subparsers, "release", "write the student versions of the notebooks", __doc__)
    parser.add_argument("--out", type=Path, default=Path("release"), metavar="DIR",
                        help="directory for the student versions (default: %(default)s/)")
    parser.add_argument("--force", action="store_true",
                        help="write even into a directory of source notebooks or over files the "
                             "release did not write (never over a notebook being released)")
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK",
                        help="notebooks to release (default: every course notebook)")
    return parser


def student_version(nb):
    """The student version of a notebook (a new node; the argument is left unchanged)."""
    import nbformat
    from nbgrader import preprocessors as pp

    nb = nbformat.from_dict(nbformat.from_dict(nb))  # deep copy
    resources: dict = {}
    for preprocessor in (pp.LockCells, pp.ClearSolutions, pp.ClearHiddenTests, pp.ClearOutput,
                         pp.ComputeChecksums):
        nb, resources = preprocessor().preprocess(nb, resources)
    return nb


def holds_solutions(nb) -> bool:
    """Whether a notebook node is a source: a solution or hidden-test region, or a solution cell
    without the checksum that a release records."""
    def source_cell(cell) -> bool:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        return (any(marker in cell.get("source", "") for marker in SOLUTION_MARKERS)
                or bool(meta.get("solution")) and "checksum" not in meta)

    return any(source_cell(cell) for cell in nb.cells)


def is_source(path: Path) -> bool:
    """Whether the file at `path` is a notebook holding solutions (a file that is no notebook is not)."""
    try:
        return holds_solutions(read_notebook(path))
    except CourseError:
        return False


def listed(names: list[str], most: int = 3) -> str:
    """`a, b, c and 4 more`: names for a one-line message."""
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def written_before(out: Path) -> set[str]:
    """The file names an earlier release wrote into `out` (its manifest; empty when none)."""
    try:
        return set(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["written"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def refusal(paths: list[Path], out: Path, course: Course, force: bool) -> str | None:
    """Why writing the release of `paths` into `out` must not happen (None: it may)."""
    targets = {path: out / path.name for path in paths}
    clobbered = [p.name for p, t in targets.items() if t.exists() and t.resolve() == p.resolve()]
    if clobbered:
        return f"--out {out} would overwrite the notebooks being released ({listed(clobbered)})"
    if force:
        return None
    sources = [p.name for p in sorted(out.glob("*.ipynb")) if is_source(p)]
    if out.resolve() == course.notebook_dir.resolve() or sources:
        return (f"--out {out} holds source notebooks ({listed(sources) or 'the course'}); "
                "pick another directory, or --force")
    ours = written_before(out)
    foreign = [t.name for t in targets.values() if t.exists() and (t.name not in ours or is_source(t))]
    if foreign:
        return (f"--out {out}: would overwrite {listed(foreign)}, not written by a release "
                f"(not in {MANIFEST}); remove them, or --force")
    return None


def release(paths: list[Path], out: Path, course: Course | None = None, force: bool = False) -> list[Path]:
    """Write the student version of each notebook in `paths` into directory `out`; the new paths.
    Every check (cheapest first) comes before the first write."""
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise CourseError(f"NOTEBOOK: expected an existing .ipynb file, got {str(path)!r}")
    check_dir_path(out, f"--out {out}")
    if reason := refusal(paths, out, course or COURSE, force):
        raise CourseError(f"refused: {reason}")
    notebooks = {path: read_notebook(path) for path in paths}
    writable_dir(out, f"--out {out}")
    return write_release(notebooks, out)


def write_release(notebooks: dict[Path, object], out: Path) -> list[Path]:
    """Write the student version of each {path: notebook} into `out`, then update the manifest."""
    import nbformat

    written = []
    for path, nb in notebooks.items():
        write_atomic(out / path.name, nbformat.writes(student_version(nb)) + "\n")
        written.append(out / path.name)
    names = sorted(written_before(out) | {p.name for p in written})
    write_atomic(out / MANIFEST, json.dumps({"written": names}, indent=1) + "\n")
    return written


def run(args: argparse.Namespace) -> int:
    """Release the notebooks named (default: the whole course at --root) into --out."""
    course = Course(args.root)
    for path in release(args.notebooks or course.notebooks(), args.out, course, args.force):
        print(f"released {path}")
    return 0

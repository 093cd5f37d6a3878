"""Apply each catalogued slip to a scratch copy of the course and report the claim that catches it.

    rlhf-course slips [--jobs 2] [--only ID ...] [--out build/slips.json] [--check slips/report.json]

A slip is a line written the way a student (or the sheet) gets it wrong: a helper's formula or
the expression of a sheet line in a notebook's check cell, changed by one `find` → `replace`.
The catalogue (slips/catalogue.toml) keeps each as data: id, file, find, replace, and a one-line
description a student understands. For every slip, a scratch copy of the course gets the change,
the notebooks it touches run top to bottom in fresh kernels importing the scratch helpers, and
only a raised check counts: the slip is caught when a cell raises AssertionError, and the claim
that caught it is the one the error names (a verdict's check) or, for a supporting assert, the
first claim of the notebook whose verdict line no longer appears. A changed printed number
catches nothing. Exits non-zero when a slip survives, its text is not found exactly once, or a
notebook fails for another reason. `--check` compares the catching claims with a stored report
(the one the overview's table is built from) and fails on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import tomllib

from helpers.course import (
    KERNEL_QUIET,
    Course,
    CourseError,
    read_notebook,
    strip_ansi,
    writable_dir,
    write_atomic,
)
from helpers.course.cli import add_verb
from helpers.course.progress import Progress

CATALOGUE = Path("slips/catalogue.toml")
STORED_REPORT = Path("slips/report.json")
COPIED = ("helpers", "sheet", "CLAIMS.md")  # what a notebook may read besides itself


@dataclass(frozen=True)
class Slip:
    """One catalogued slip: in `file`, the text `find` (exactly once) becomes `replace`."""

    id: str
    file: str
    find: str
    replace: str
    description: str
    notebooks: tuple[str, ...] = ()  # stems to run; default: every notebook that uses `file`


@dataclass
class Outcome:
    """What one slip did: caught by `claim` in `notebook`, or not (`problem` says why)."""

    id: str
    description: str
    file: str
    caught: bool
    claim: str = ""
    notebook: str = ""
    error: str = ""
    problem: str = ""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `slips` sub-command and its flags."""
    parser = add_verb(subparsers, "slips", "apply each catalogued slip and report the claim that catches it",
                      __doc__)
    parser.add_argument("--jobs", type=int, default=2, metavar="N",
                        help="slips run side by side (default: %(default)s)")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run these slips only")
    parser.add_argument("--out", type=Path, default=Path("build/slips.json"), metavar="PATH",
                        help="where the JSON report goes (default: %(default)s)")
    parser.add_argument("--check", type=Path, metavar="REPORT",
                        help="fail unless every slip is caught by the same claim as in REPORT")
    return parser


def load_catalogue(path: Path) -> list[Slip]:
    """The slips of a catalogue file; CourseError naming the file and the entry when one is malformed."""
    try:
        entries = tomllib.loads(path.read_text(encoding="utf-8")).get("slip", [])
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{path}: cannot read the catalogue ({exc})") from None
    slips, seen = [], set()
    for i, entry in enumerate(entries):
        try:
            slip = Slip(**{**entry, "notebooks": tuple(entry.get("notebooks", ()))})
        except TypeError as exc:
            raise CourseError(f"{path}: entry {i + 1}: {exc}") from None
        if slip.id in seen or slip.find == slip.replace or not slip.description:
            raise CourseError(f"{path}: entry {i + 1} ({slip.id}): expected a new id, a change and a "
                              "description")
        seen.add(slip.id)
        slips.append(slip)
    return slips


def affected(slip: Slip, course: Course) -> list[Path]:
    """The notebooks a slip can change: those named, the notebook it edits, or every notebook that
    imports its helpers module directly or through another helpers module."""
    every = course.topic_notebooks()
    if slip.notebooks:
        return [p for p in every if p.stem in slip.notebooks or p.stem[:2] in slip.notebooks]
    target = Path(slip.file)
    if target.suffix == ".ipynb":
        return [course.root / target]
    users = _importers(course.root / "helpers", target.stem)
    return [p for p in every if _imported(p.read_text(encoding="utf-8")) & users]


def _imported(text: str) -> set[str]:
    """The helpers modules a source text imports (`helpers.x`, `from helpers import x, y`)."""
    names = set(re.findall(r"\bhelpers\.(\w+)", text))
    for group in re.findall(r"from helpers import \(?([\w, \n]+)\)?", text):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    return names


def _importers(package: Path, module: str) -> set[str]:
    """`module` and every helpers module that imports it, directly or through others."""
    graph = {p.stem: _imported(p.read_text(encoding="utf-8")) for p in package.glob("*.py")}
    users, grew = {module}, True
    while grew:
        more = {name for name, deps in graph.items() if deps & users} - users
        users, grew = users | more, bool(more)
    return users


def apply(slip: Slip, root: Path) -> None:
    """Change slip.find into slip.replace in root/slip.file; CourseError unless it occurs exactly once."""
    path = root / slip.file
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        sources = ["".join(c["source"]) for c in cells]
        count = sum(s.count(slip.find) for s in sources)
        if count != 1:
            raise CourseError(f"slip {slip.id}: expected its text once in {slip.file}'s code, found {count}")
        cell = next(c for c, s in zip(cells, sources) if slip.find in s)
        cell["source"] = "".join(cell["source"]).replace(slip.find, slip.replace)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return
    if text.count(slip.find) != 1:
        raise CourseError(f"slip {slip.id}: expected its text once in {slip.file}, found "
                          f"{text.count(slip.find)}")
    path.write_text(text.replace(slip.find, slip.replace), encoding="utf-8")


def stored_verdict_order(path: Path) -> list[str]:
    """The claims whose verdict lines the committed notebook prints, in order."""
    from helpers.verify import parse_verdicts

    nb = read_notebook(path)
    text = "\n".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []) if out.get("output_type") == "stream")
    return [claim for claim, _, _ in parse_verdicts(text)]


def run_notebook(path: Path, scratch: Path) -> tuple[str, str, list[str], str] | None:
    """Execute a scratch notebook with the scratch helpers: None if it ran through, else
    (exception name, its message's first line, the claims whose verdict lines were printed,
    the nbgrader grade_id of the cell that raised, or "" for a cell that is not a graded test)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    from helpers.verify import parse_verdicts

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # the stored outputs must not stand in for cells that never ran
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    os.environ["PYTHONPATH"] = str(scratch)  # this worker's kernels import the slipped helpers
    client = NotebookClient(nb, timeout=300, kernel_name="python3", extra_arguments=KERNEL_QUIET,
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        return None
    except CellExecutionError as exc:
        name, message = exc.ename, strip_ansi(exc.evalue or "").strip()
    except (CellTimeoutError, DeadKernelError) as exc:
        name, message = type(exc).__name__, strip_ansi(str(exc)).strip()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    printed = "\n".join(out.get("text", "") for cell in code for out in cell.get("outputs", [])
                        if out.get("output_type") == "stream")
    raised = [cell for cell in code if any(o.get("output_type") == "error" for o in cell.get("outputs", []))]
    grading = raised[0].metadata.get("nbgrader", {}) if raised else {}
    test_id = grading.get("grade_id", "") if grading.get("grade") else ""
    first = (message.splitlines() or [""])[0]
    return name, first, [claim for claim, _, _ in parse_verdicts(printed)], test_id


def try_slip(slip: Slip, root: Path) -> Outcome:
    """Apply one slip to a scratch copy of the course at `root` and run what it touches."""
    course = Course(root)
    outcome = Outcome(slip.id, slip.description, slip.file, caught=False)
    with tempfile.TemporaryDirectory(prefix=f"slip-{slip.id}-") as tmp:
        scratch = Path(tmp)
        for name in COPIED:
            source = root / name
            if source.is_dir():
                shutil.copytree(source, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, scratch / name)
        notebooks = affected(slip, course)
        (scratch / "notebooks").mkdir()
        for path in notebooks:
            shutil.copy2(path, scratch / "notebooks" / path.name)
        if Path(slip.file).suffix == ".ipynb" and not (scratch / slip.file).exists():
            outcome.problem = f"{slip.file}: no such notebook"
            return outcome
        try:
            apply(slip, scratch)
        except CourseError as exc:
            outcome.problem = str(exc)
            return outcome
        if not notebooks:
            outcome.problem = f"no notebook uses {slip.file}"
            return outcome
        for path in notebooks:
            failure = run_notebook(scratch / "notebooks" / path.name, scratch)
            if failure is None:
                continue
            from helpers.verify import CLAIM_ID_PATTERN

            name, message, printed, test_id = failure
            outcome.notebook, outcome.error = path.stem, f"{name}: {message}"[:200]
            if name != "AssertionError":
                outcome.problem = f"{path.stem} failed with {name}, not a check"
                return outcome
            named = re.match(rf"^({CLAIM_ID_PATTERN}):", message)
            missing = [c for c in stored_verdict_order(path) if c not in printed]
            if named:
                outcome.claim = named.group(1)
            elif test_id:
                outcome.claim = f"exercise test {test_id}"
            elif missing:
                outcome.claim = missing[0]
            else:
                outcome.problem = f"{path.stem}: an assert after every verdict raised, not a claim's check"
                return outcome
            outcome.caught = True
            return outcome
        outcome.problem = "survived: every notebook it touches ran through"
    return outcome


def run(args: argparse.Namespace) -> int:
    """Run the catalogue (or --only some of it), print the table, write the report."""
    root = args.root.resolve()
    slips = load_catalogue(root / CATALOGUE)
    if args.only:
        unknown = sorted(set(args.only) - {s.id for s in slips})
        if unknown:
            raise CourseError(f"--only: no slip called {', '.join(unknown)}")
        slips = [s for s in slips if s.id in args.only]
    if args.jobs < 1:
        raise CourseError(f"--jobs: expected a number >= 1, got {args.jobs}")
    out = args.out if args.out.is_absolute() else root / args.out
    writable_dir(out.parent, f"--out {args.out}")
    stored = _read_report(args.check) if args.check else None
    progress = Progress(len(slips))
    outcomes: list[Outcome] = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [(slip, pool.submit(try_slip, slip, root)) for slip in slips]
        for slip, future in futures:
            progress.start(slip.id)
            outcome = future.result()
            outcomes.append(outcome)
            progress.done(f"caught by {outcome.claim} ({outcome.notebook})" if outcome.caught
                          else f"NOT CAUGHT: {outcome.problem}")
    write_atomic(out, json.dumps([asdict(o) for o in outcomes], indent=1, ensure_ascii=False) + "\n")
    print(table(outcomes))
    bad = [o for o in outcomes if not o.caught]
    if stored is not None:
        bad += [o for o in outcomes if o.caught and stored.get(o.id) != o.claim]
        for o in outcomes:
            if o.caught and stored.get(o.id) != o.claim:
                print(f"{o.id}: caught by {o.claim}, the stored report says {stored.get(o.id)}")
    print(f"{sum(o.caught for o in outcomes)} of {len(outcomes)} slips caught; report in {args.out}")
    return 1 if bad else 0


def _read_report(path: Path) -> dict[str, str]:
    try:
        return {o["id"]: o["claim"] for o in json.loads(path.read_text(encoding="utf-8"))}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CourseError(f"--check {path}: not a slips report ({exc})") from None


def table(outcomes: list[Outcome]) -> str:
    """A Markdown table slip → the claim that catches it."""
    lines = ["| slip | what a student writes | caught by | where |", "|---|---|---|---|"]
    for o in outcomes:
        caught = o.claim if o.caught else f"**not caught** ({o.problem})"
        lines.append(f"| {o.id} | {o.description} | {caught} | {o.notebook or o.file} |")
    return "\n".join(lines)

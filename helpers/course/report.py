"""Execute every notebook afresh and report the verdict of every claim.

    rlhf-course report [--out build/report.md] [--device cpu|cuda|auto] [--notebooks NB ...]

Each notebook runs headless in a fresh kernel (nbclient); the verdict lines it prints are
collected into one claims table, printed and written as Markdown together with each notebook's
run time. Exits non-zero if a notebook fails or a claim of CLAIMS.md has no verdict (or several).
Every notebook is read and checked, and the output path proved writable, before any is run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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

DEVICES = ("auto", "cpu", "cuda")
HEADING = "# Claims report"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `report` sub-command and its flags."""
    parser = add_verb(subparsers, "report", "execute the notebooks, tabulate every claim's verdict", __doc__)
    parser.add_argument("--out", type=Path, default=Path("build/report.md"), metavar="PATH",
                        help="where the Markdown report goes (default: %(default)s)")
    parser.add_argument("--device", choices=DEVICES,
                        help="where the numeric checks run (sets RLHF_DEVICE for the kernels)")
    add_notebooks_argument(parser)
    return parser


def add_notebooks_argument(parser: argparse.ArgumentParser) -> None:
    """--notebooks NB ...: a subset of the topic notebooks (shared with `bench`)."""
    parser.add_argument("--notebooks", nargs="+", metavar="NB",
                        help="a subset, by number (03), stem, file name or path (default: all)")


def execute(nb, path: Path, timeout: int = 600) -> tuple[float, str | None]:
    """Run notebook node `nb` (read from `path`) in a fresh kernel: (seconds, None), or the failure's
    last line (colour codes removed) in place of None when a cell raises, times out or the kernel dies."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", extra_arguments=KERNEL_QUIET,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        lines = strip_ansi(str(exc)).strip().splitlines()
        return time.perf_counter() - start, lines[-1] if lines else type(exc).__name__
    return time.perf_counter() - start, None


def check_target(out: Path) -> None:
    """Refuse an --out that is a directory, unwritable, or a file other than an earlier report."""
    writable_dir(out.parent, f"--out {out}")
    if out.is_dir():
        raise CourseError(f"--out {out}: is a directory, expected a file path")
    if out.exists() and not out.read_text(encoding="utf-8", errors="replace").startswith(HEADING):
        raise CourseError(f"--out {out}: exists and is not a report; remove it or pick another path")


def markdown(verdicts, sheet, times: dict[str, float], problems: list[str]) -> str:
    """The report: each notebook's time, the claims table, the problems found."""
    from helpers.course import claims

    lines = [HEADING, "", "| notebook | seconds |", "|---|---|"]
    lines += [f"| {name} | {sec:.1f} |" for name, sec in times.items()]
    lines += ["", claims.table(verdicts, sheet), ""]
    if problems:
        lines += ["## Problems", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    """Check the inputs and the output path (cheapest first), execute each notebook, print and
    write the report."""
    course = Course(args.root)
    paths = course.select(args.notebooks)
    check_target(args.out)
    notebooks = {p: read_notebook(p) for p in paths}
    sheet = sheet_of(course)  # imports helpers.course.claims, and torch through helpers.verify

    from helpers.course import claims

    if args.device:
        os.environ["RLHF_DEVICE"] = args.device  # inherited by the kernels started below
    verdicts, times, failed = execute_all(notebooks)
    problems = failed + [p for p in claims.problems(verdicts, sheet)
                         if not args.notebooks or "no verdict" not in p]  # a subset misses the rest
    print(f"\n{claims.table(verdicts, sheet)}")
    print(f"\n{len(verdicts)} verdicts from {len(times)} notebooks in {sum(times.values()):.1f} s")
    write_atomic(args.out, markdown(verdicts, sheet, times, problems))
    print(f"written to {args.out}")
    for problem in problems:
        print(f"rlhf-course report: {problem}", file=sys.stderr)
    return 1 if problems else 0


def execute_all(notebooks: dict[Path, object]) -> tuple[list, dict[str, float], list[str]]:
    """Execute each {path: notebook} with progress shown: (verdicts, seconds by stem, failures)."""
    from helpers.course import claims

    verdicts, times, failed = [], {}, []
    progress = Progress(len(notebooks))
    for path, nb in notebooks.items():
        progress.start(path.stem)
        seconds, error = execute(nb, path)
        if error:
            progress.done("FAILED")
            failed.append(f"{path.stem}: {error}")
            continue
        found = claims.verdicts_in(nb, path.stem)
        verdicts += found
        times[path.stem] = seconds
        progress.done(f"{len(found)} verdicts, {seconds:.1f} s")
    return verdicts, times, failed


def sheet_of(course: Course) -> dict[str, str]:
    """The claims of the course's CLAIMS.md; CourseError if it is missing or lists none."""
    from helpers.course import claims

    try:
        return claims.sheet_claims(course.claims_file)
    except (OSError, ValueError) as exc:
        raise CourseError(f"{course.claims_file}: {getattr(exc, 'strerror', None) or exc}") from None

"""The course tooling: claims, report, release, site, bench and the `rlhf-course` command.

This package owns, once, where the course lives: the repository root, the notebook directory,
the ordered list of notebooks and the claims file. It depends on `helpers`, never the other way
round. Importing it is cheap (no notebook, torch or nbgrader import), so `rlhf-course --help`
answers at once; each command imports what it runs.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"  # NN_slug.ipynb, in teaching order
OVERVIEW_PREFIX = "00_"  # the overview collects the verdicts of the topic notebooks
# Kernels started by the commands log nothing to the command's stderr: not the start-up warnings,
# and not the "KeyboardInterrupt caught in kernel" (logged as an error) that a kernel may write
# when jupyter_client interrupts it on shutdown after a failed cell, depending on timing.
KERNEL_QUIET = ["--IPKernelApp.log_level=CRITICAL"]
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class CourseError(Exception):
    """A refusal or a bad input of a course command: the CLI prints it as one line, exit 1."""


@dataclass(frozen=True)
class Course:
    """A course checkout: `root` holds notebooks/ and CLAIMS.md."""

    root: Path = ROOT

    @property
    def notebook_dir(self) -> Path:
        return self.root / "notebooks"

    @property
    def claims_file(self) -> Path:
        return self.root / "CLAIMS.md"

    def notebooks(self) -> list[Path]:
        """Every course notebook (NN_slug.ipynb), in teaching order, the overview first."""
        return sorted(self.notebook_dir.glob(NOTEBOOK_GLOB))

    def topic_notebooks(self) -> list[Path]:
        """The notebooks that check claims: every one but the overview."""
        return [p for p in self.notebooks() if not p.name.startswith(OVERVIEW_PREFIX)]

    def select(self, names: list[str] | None) -> list[Path]:
        """The topic notebooks named by number, stem, file name or path (all when none named)."""
        every = self.topic_notebooks()
        if not names:
            return every
        chosen = []
        for name in names:
            match = [p for p in every if name in (p.name, p.stem, p.stem[:2])
                     or Path(name).resolve() == p.resolve()]
            if not match:
                raise CourseError(f"--notebooks: expected one of {[p.stem[:2] for p in every]} "
                                  f"(or a stem), got {name!r}")
            chosen += match
        return chosen


COURSE = Course()


def strip_ansi(text: str) -> str:
    """`text` without terminal colour codes (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)


def check_dir_path(path: Path, flag: str) -> None:
    """Raise CourseError (starting with `flag`, the option as given) if `path` or its nearest existing
    ancestor is not a directory: checked before any work, without creating anything."""
    where = "" if flag.endswith(str(path)) else f" {path}"
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        place = "is" if existing == path else f"lies under {existing}, which is"
        raise CourseError(f"{flag}:{where} {place} a file, expected a directory")


def writable_dir(path: Path, flag: str) -> Path:
    """Create directory `path` if needed and prove it writable, or raise CourseError starting with
    `flag` (the option as given, e.g. "--out build/report.md")."""
    check_dir_path(path, flag)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        where = "" if flag.endswith(str(path)) else f" {path}"
        raise CourseError(f"{flag}:{where} not writable ({exc.strerror or exc})") from None
    return path


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it: never a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_notebook(path: Path):
    """The notebook at `path`, checked against nbformat's schema; CourseError naming the file if not."""
    try:
        text = path.read_text(encoding="utf-8")
        json.loads(text)  # a file that is no JSON is named without importing nbformat (a second)
    except OSError as exc:
        raise CourseError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise CourseError(f"{path}: not a notebook (not JSON: {_first_line(str(exc))})") from None
    import nbformat

    try:
        nb = nbformat.reads(text, as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise CourseError(f"{path}: not a valid notebook ({_first_line(exc.message)})") from None
    except Exception as exc:  # JSON that nbformat cannot convert: a list, a missing key
        raise CourseError(f"{path}: not a notebook ({_first_line(str(exc))})") from None
    return nb


def _first_line(text: str, width: int = 120) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= width else line[: width - 1] + "…"

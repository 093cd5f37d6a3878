"""Fixtures of the tooling tests: tiny notebooks, a scratch course, and `rlhf-course` run as a user runs it.

Tests marked `full_run` execute course notebooks again (the release, other parameter settings, the
bench floor): they run when RLHF_FULL=1 (as `.ci/run` does after the README's `pytest`), so that the
README's `pytest` (unit tests, strict nbval of every notebook, the quick tooling tests) stays fast.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.course import COURSE, Course
from helpers.course.cli import main

SCRIPT = Path(sys.executable).with_name("rlhf-course")  # installed by `pip install -e .`
SCRATCH_CLAIMS = "## Sheet part 1(a)\n- C1.1 a\n- C1.2 b\n"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "full_run: executes course notebooks again; runs when RLHF_FULL=1")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RLHF_FULL") != "1":
        for item in items:
            if "full_run" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="runs with RLHF_FULL=1 (.ci/run)"))


def write_notebook(path: Path, *lines: str, code: str = "") -> Path:
    """A notebook with a '# <stem> title' heading and one cell printing each of `lines`, then `code`."""
    source = "\n".join([f"print({line!r})" for line in lines] + [code])
    nb = new_notebook(cells=[new_markdown_cell(f"# {path.stem} title"), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def make_notebook() -> Callable[..., Path]:
    """write_notebook(path, *lines, code=""): a tiny notebook printing `lines`, then running `code`."""
    return write_notebook


@pytest.fixture
def scratch_course(tmp_path: Path) -> Course:
    """A course in tmp_path/course: an overview, 01_a printing C1.1's verdict, 02_b printing C1.2's."""
    root = tmp_path / "course"
    (root / "notebooks").mkdir(parents=True)
    write_notebook(root / "notebooks" / "00_overview.ipynb")
    write_notebook(root / "notebooks" / "01_a.ipynb", "C1.1    holds      first  (m: b)")
    write_notebook(root / "notebooks" / "02_b.ipynb", "C1.2    corrected  second  (m: b)")
    (root / "CLAIMS.md").write_text(SCRATCH_CLAIMS, encoding="utf-8")
    return Course(root)


@pytest.fixture
def solution_notebook() -> Path:
    """A real course notebook with exercises (solutions and hidden tests)."""
    return next(p for p in COURSE.topic_notebooks() if "BEGIN SOLUTION" in p.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Cli:
    """`rlhf-course` run in a subprocess from `cwd`, as a user runs it."""

    cwd: Path

    def __call__(self, *args: object, module: bool = False) -> subprocess.CompletedProcess:
        """Run `rlhf-course ARGS` (or `python -m helpers.course ARGS` when `module`)."""
        command = [sys.executable, "-m", "helpers.course"] if module else [str(SCRIPT)]
        return subprocess.run(command + [str(a) for a in args], cwd=self.cwd, capture_output=True,
                              text=True, timeout=600, env={**os.environ, "COLUMNS": "100"})

    def refuses(self, *args: object, status: int = 1) -> str:
        """Run a command that must fail: exit `status`, one line `rlhf-course VERB: ...` on stderr."""
        result = self(*args)
        lines = result.stderr.splitlines()
        assert result.returncode == status, f"exit {result.returncode}: {result.stderr[-2000:]}"
        assert len(lines) == 1 and lines[0].startswith(f"rlhf-course {args[0]}: "), result.stderr[-2000:]
        return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """Runs `rlhf-course` with tmp_path as the working directory."""
    return Cli(tmp_path)


@pytest.fixture
def course_main(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                capsys: pytest.CaptureFixture) -> Callable[..., tuple[int, str, str]]:
    """`rlhf-course ARGS` called in this process from tmp_path, sharing the test's imports (the
    notebook machinery, nbgrader, torch): (exit status, stdout, stderr). For runs that must work;
    the failure modes run the real command through `cli`."""
    monkeypatch.chdir(tmp_path)

    def run(*args: object) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` (hidden ones too) and its bytes."""
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def files_of() -> Callable[[Path], dict[str, bytes]]:
    """snapshot(directory): {relative path: bytes} of every file under it, to show nothing changed."""
    return snapshot

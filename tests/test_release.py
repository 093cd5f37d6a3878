"""The instructor workflow: exercise format, the student release, and nbgrader's own checks.

Executing tests (released notebooks run top to bottom, `nbgrader validate`) live in one class
per notebook, so that pytest-xdist's `--dist loadscope` spreads notebooks over workers.
Set RLHF_QUICK=1 to skip the executing tests while iterating locally.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from helpers.release import main as release_main
from helpers.release import student_version

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WITH_EXERCISES = [p for p in NOTEBOOKS if not p.name.startswith("00_")]
QUICK = pytest.mark.skipif(os.environ.get("RLHF_QUICK") == "1", reason="RLHF_QUICK=1")
REGION = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", re.S)


def nbgrader_cells(nb):
    return [c for c in nb.cells if "nbgrader" in c.metadata]


def region_lines(nb) -> set[str]:
    """Non-blank lines inside solution and hidden-test regions of a notebook."""
    lines = set()
    for cell in nb.cells:
        for _, body in REGION.findall(cell.source):
            lines |= {line.strip() for line in body.splitlines() if line.strip()}
    return lines


def outside_lines(nb) -> set[str]:
    """Non-blank lines outside every region (they may legitimately stay in the release)."""
    return {line.strip() for cell in nb.cells for line in REGION.sub("", cell.source).splitlines()}


def read(path: Path):
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- static checks


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_notebook_has_two_graded_exercises_in_nbgrader_format(path):
    cells = nbgrader_cells(read(path))
    ids = [c.metadata.nbgrader["grade_id"] for c in cells]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id in {ids}"
    for cell in cells:
        meta = cell.metadata.nbgrader
        assert meta.get("schema_version") == 3, f"{path.name}: {meta}"
        if meta.get("grade"):
            assert meta.get("points", 0) > 0 and meta.get("locked"), f"{path.name}: {meta}"
        if meta.get("solution"):
            assert cell.cell_type == "markdown" or "### BEGIN SOLUTION" in cell.source, \
                f"{path.name}: solution cell {meta['grade_id']} has no BEGIN SOLUTION region"
    graded = [c for c in cells if c.metadata.nbgrader.get("grade") and c.cell_type == "code"]
    solutions = [c for c in cells if c.metadata.nbgrader.get("solution")]
    assert len(graded) >= 2 and len(solutions) >= 2, \
        f"{path.name}: expected at least two graded exercises, got {len(graded)} test cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_near_the_top(path):
    nb = read(path)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters', got {len(tagged)}"
    assert tagged[0] <= 3, f"{path.name}: the parameters cell should be near the top"


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_source_notebooks_pass_their_autograder_cells(path):
    """The committed (executed) notebook: every graded cell ran and raised nothing."""
    for cell in nbgrader_cells(read(path)):
        if cell.metadata.nbgrader.get("grade") and cell.cell_type == "code":
            assert cell.execution_count is not None, f"{path.name}: graded cell never ran"
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{path.name}: {cell.metadata.nbgrader['grade_id']} failed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_release_removes_every_solution_and_hidden_test(path):
    source = read(path)
    released = student_version(source)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.name}: marker {marker!r} left in the release"
    secret = region_lines(source) - outside_lines(source)
    released_lines = {line.strip() for line in text.splitlines()}
    leaked = sorted(secret & released_lines)
    assert not leaked, f"{path.name}: solution or hidden-test lines survive: {leaked}"
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")
    graded = [c for c in nbgrader_cells(released) if c.metadata.nbgrader.get("grade")]
    assert all(c.metadata.nbgrader.get("locked") for c in graded)
    for cell in nbgrader_cells(released):
        if cell.metadata.nbgrader.get("solution") and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source


def test_release_command_writes_student_versions(tmp_path, capsys):
    assert release_main(["--out", str(tmp_path), str(NOTEBOOKS[-1])]) == 0
    out = tmp_path / NOTEBOOKS[-1].name
    assert out.is_file() and "released" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        release_main(["--out", str(tmp_path), str(tmp_path / "missing.ipynb")])


def test_release_command_runs_as_a_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "helpers.release", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]


# --------------------------------------------------------------------------- executing checks


def run_released(path: Path) -> tuple[set[int], set[int]]:
    """Execute the student version of `path` cell by cell; (cells that erred, graded cells)."""
    nb = student_version(read(path))
    client = NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    erred = {i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and any(o.output_type == "error" for o in c.outputs)}
    exercise = {i for i, c in enumerate(nb.cells) if "nbgrader" in c.metadata
                and (c.metadata.nbgrader.get("grade") or c.metadata.nbgrader.get("solution"))
                and c.cell_type == "code"}
    graded = {i for i in exercise if nb.cells[i].metadata.nbgrader.get("grade")}
    assert erred <= exercise, f"{path.name}: cells {sorted(erred - exercise)} fail in the " \
        "release although they are not exercises (they depend on a solution)"
    return erred, graded


def nbgrader_validate(path: Path) -> str:
    result = subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(path)],
                            cwd=path.parent, capture_output=True, text=True, timeout=300)
    return result.stdout + result.stderr


def _make_class(path: Path):
    @QUICK
    def test_released_notebook_fails_only_at_its_exercises(self):
        erred, graded = run_released(path)
        assert graded <= erred, f"{path.name}: test cells {sorted(graded - erred)} pass " \
            "without a solution (a test that cannot fail)"

    @QUICK
    def test_nbgrader_validate_accepts_the_source(self):
        report = nbgrader_validate(path)
        assert "Success! Your notebook passes all the tests." in report, report[-2000:]

    name = "TestAssignment_" + path.stem.split("_")[0]
    return name, type(name, (), {
        "test_released_notebook_fails_only_at_its_exercises":
            test_released_notebook_fails_only_at_its_exercises,
        "test_nbgrader_validate_accepts_the_source": test_nbgrader_validate_accepts_the_source,
    })


for _path in WITH_EXERCISES:
    _name, _cls = _make_class(_path)
    globals()[_name] = _cls

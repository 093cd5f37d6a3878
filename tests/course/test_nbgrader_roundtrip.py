"""nbgrader's whole round trip on a real gradebook, with the commands the README's instructor guide
gives: a course directory (nbgrader_config.py, source/ps1/ holding course notebooks),
`nbgrader generate_assignment`, two submissions, `nbgrader autograde`, the scores read from
nbgrader's SQLite gradebook, `nbgrader generate_feedback`.

- `solver` hands in every exercise solved (the release with each solution cell filled in from the
  source notebook): full points on every graded cell, hidden tests included;
- `blank` hands in the release untouched: zero on every exercise test, and no other cell fails.

The round trip executes notebooks, so it is a `full_run` test (it runs when RLHF_FULL=1) on an
assignment of one notebook, the course notebook with exercises that executes fastest (autograde runs
it once per student). RLHF_FULL_ROUNDTRIP=1 runs it, whatever RLHF_FULL says, on the whole course.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from nbgrader.utils import is_grade, is_solution

from helpers.course import COURSE
from helpers.course.release import release

ASSIGNMENT = "ps1"
STUDENTS = ("solver", "blank")
# The notebook with exercises that executes fastest: 04 took 6.3-8.1 s of kernel CPU time over two
# runs, 05 7.5-8.0 s, the others 8.8-12 s (2 cores).
QUICK = ["04"]
FULL = os.environ.get("RLHF_FULL_ROUNDTRIP") == "1"
NOTEBOOKS = COURSE.notebooks() if FULL else COURSE.select(QUICK)
NBGRADER = Path(sys.executable).with_name("nbgrader")
CONFIG = """c = get_config()
c.CourseDirectory.course_id = "rlhf-dpo"
c.Execute.timeout = 600  # seconds a cell may take (nbgrader's default is 30)
"""
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)

pytestmark = [] if FULL else [pytest.mark.full_run]


def nbgrader(course: Path, *args: str) -> str:
    """Run `nbgrader ARGS` in the course directory, as an instructor does; its log."""
    result = subprocess.run([str(NBGRADER), *args], cwd=course, capture_output=True, text=True,
                            timeout=3600, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{log[-4000:]}"
    return log


def solved(released, source):
    """The release with every solution cell filled in as the source notebook solves it (markers dropped)."""
    answers = {c.metadata.nbgrader["grade_id"]: MARKER.sub("", c.source)
               for c in source.cells if is_solution(c)}
    nb = nbformat.from_dict(nbformat.from_dict(released))  # deep copy
    for cell in nb.cells:
        if is_solution(cell):
            cell.source = answers[cell.metadata.nbgrader["grade_id"]]
    return nb


@dataclass(frozen=True)
class Graded:
    """A course directory after the round trip, and what the gradebook says."""

    course: Path
    scores: dict  # student -> notebook -> grade_id -> (score, max_score)
    totals: dict  # student -> (score, max_score)

    def released(self, path: Path):
        return nbformat.read(self.course / "release" / ASSIGNMENT / path.name, as_version=4)

    def autograded(self, student: str, path: Path):
        return nbformat.read(self.course / "autograded" / student / ASSIGNMENT / path.name, as_version=4)


def read_gradebook(course: Path) -> tuple[dict, dict]:
    scores, totals = {}, {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in STUDENTS:
            submission = gradebook.find_submission(ASSIGNMENT, student)
            totals[student] = (submission.score, submission.max_score)
            scores[student] = {nb.name: {g.name: (g.score, g.max_score) for g in nb.grades}
                               for nb in submission.notebooks}
    return scores, totals


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Graded:
    """The round trip on NOTEBOOKS, run once for the module."""
    course = tmp_path_factory.mktemp("nbgrader_course")
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    for path in NOTEBOOKS:
        shutil.copy(path, course / "source" / ASSIGNMENT / path.name)
    nbgrader(course, "generate_assignment", ASSIGNMENT)
    for student in STUDENTS:
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
    for path in NOTEBOOKS:
        released = nbformat.read(course / "release" / ASSIGNMENT / path.name, as_version=4)
        nbformat.write(solved(released, nbformat.read(path, as_version=4)),
                       course / "submitted" / "solver" / ASSIGNMENT / path.name)
        nbformat.write(released, course / "submitted" / "blank" / ASSIGNMENT / path.name)
    nbgrader(course, "autograde", ASSIGNMENT, "--create")
    nbgrader(course, "generate_feedback", ASSIGNMENT)
    return Graded(course, *read_gradebook(course))


def graded_cells(nb) -> list:
    return [cell for cell in nb.cells if is_grade(cell)]


def errors(nb) -> dict[str, str]:
    """{grade_id or cell index: error name} for every cell with an error output."""
    found = {}
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found[cell.metadata.get("nbgrader", {}).get("grade_id", str(index))] = out.ename
    return found


def test_the_assignment_holds_graded_exercises(graded):
    graded_ids = {p.stem: [c.metadata.nbgrader["grade_id"] for c in graded_cells(graded.released(p))]
                  for p in NOTEBOOKS}
    assert all(len(ids) >= 2 for name, ids in graded_ids.items() if not name.startswith("00_")), graded_ids
    assert {name: sorted(cells) for name, cells in graded.scores["solver"].items()} == \
        {name: sorted(ids) for name, ids in graded_ids.items()}


def test_rlhf_course_release_equals_generate_assignment(graded, tmp_path):
    ours = release(NOTEBOOKS, tmp_path / "release")
    for path, mine in zip(NOTEBOOKS, ours):
        theirs, mine = graded.released(path), nbformat.read(mine, as_version=4)
        assert len(mine.cells) == len(theirs.cells), path.name
        for index, (a, b) in enumerate(zip(mine.cells, theirs.cells)):
            where = f"{path.name} cell {index}"
            assert (a.cell_type, a.source) == (b.cell_type, b.source), where
            assert a.metadata.get("nbgrader") == b.metadata.get("nbgrader"), where
            assert a.get("outputs", []) == b.get("outputs", []) == [], where


def test_solved_gets_full_points_on_every_graded_cell_hidden_tests_included(graded):
    for path in NOTEBOOKS:
        cells = graded.scores["solver"][path.stem]
        short = {grade_id: s for grade_id, s in cells.items() if not (s[0] == s[1] > 0)}
        assert not short, f"{path.name}: graded cells without full points (score, max): {short}"
        autograded = graded.autograded("solver", path)
        failed = errors(autograded)
        assert failed == {}, f"{path.name}: cells failed for the solved submission: {failed}"
        source = {c.metadata.nbgrader["grade_id"]: c.source
                  for c in nbformat.read(path, as_version=4).cells if is_grade(c)}
        for cell in graded_cells(autograded):  # autograde graded the source's tests, hidden ones too
            assert cell.source == source[cell.metadata.nbgrader["grade_id"]], path.name
    assert any("BEGIN HIDDEN TESTS" in text for text in _test_sources()), "no hidden test was graded"
    score, most = graded.totals["solver"]
    assert score == most == sum(m for cells in graded.scores["solver"].values() for _, m in cells.values())


def _test_sources() -> list[str]:
    return [c.source for p in NOTEBOOKS for c in nbformat.read(p, as_version=4).cells if is_grade(c)]


def test_blank_gets_zero_on_every_exercise_test_and_nothing_else_fails(graded):
    for path in NOTEBOOKS:
        cells = graded.scores["blank"][path.stem]
        assert all(score == 0 for score, _ in cells.values()), f"{path.name}: {cells}"
        autograded = graded.autograded("blank", path)
        tests = {c.metadata.nbgrader["grade_id"] for c in graded_cells(autograded) if c.cell_type == "code"}
        failed = errors(autograded)
        assert set(failed) == tests, f"{path.name}: failed {failed}, exercise tests {sorted(tests)}"
        assert set(failed.values()) <= {"NotImplementedError"}, f"{path.name}: {failed}"
    assert graded.totals["blank"][0] == 0 < graded.totals["blank"][1]


@pytest.mark.parametrize("student", STUDENTS)
def test_feedback_is_an_html_page_per_notebook_with_the_score(graded, student):
    score_line = re.compile(r"Score:\s*([\d.]+)\s*/\s*([\d.]+)")
    for path in NOTEBOOKS:
        page = graded.course / "feedback" / student / ASSIGNMENT / f"{path.stem}.html"
        assert page.is_file(), f"no feedback {page.relative_to(graded.course)}"
        text = page.read_text(encoding="utf-8")
        assert text.lstrip().lower().startswith("<!doctype html"), page.name
        total = sum(s for s, _ in graded.scores[student][path.stem].values())
        most = sum(m for _, m in graded.scores[student][path.stem].values())
        first = score_line.search(text)
        assert first and (float(first[1]), float(first[2])) == (total, most), \
            f"{page.name}: expected 'Score: {total} / {most}', found {first and first[0]}"

"""The instructor workflow, statically: the exercise format, the student release, nbgrader's checks on
the committed notebooks, and what `rlhf-course release` refuses to overwrite.

The executing checks (released notebooks run top to bottom, other parameter settings) are in
test_parameters.py.
"""

from __future__ import annotations

import json
import re
import shutil

import nbformat
import pytest
from nbgrader.preprocessors import CheckCellMetadata
from nbgrader.utils import is_grade, is_locked, is_solution
from nbgrader.validator import Validator

from helpers.course import COURSE
from helpers.course.release import MANIFEST, student_version

NOTEBOOKS = COURSE.notebooks()
WITH_EXERCISES = COURSE.topic_notebooks()
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


def read(path):
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- the committed notebooks


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_notebook_has_two_graded_exercises_in_nbgrader_format(path):
    cells = nbgrader_cells(read(path))
    ids = [c.metadata.nbgrader["grade_id"] for c in cells]
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id in {ids}"
    for cell in cells:
        meta = cell.metadata.nbgrader
        assert meta.get("schema_version") == 3, f"{path.name}: {meta}"
        if is_grade(cell):
            assert meta.get("points", 0) > 0 and is_locked(cell), f"{path.name}: {meta}"
        if is_solution(cell):
            assert cell.cell_type == "markdown" or "### BEGIN SOLUTION" in cell.source, \
                f"{path.name}: solution cell {meta['grade_id']} has no BEGIN SOLUTION region"
    graded = [c for c in cells if is_grade(c) and c.cell_type == "code"]
    solutions = [c for c in cells if is_solution(c)]
    assert len(graded) >= 2 and len(solutions) >= 2, \
        f"{path.name}: expected at least two graded exercises, got {len(graded)} test cells"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_near_the_top(path):
    nb = read(path)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: expected one cell tagged 'parameters', got {len(tagged)}"
    assert tagged[0] <= 3, f"{path.name}: the parameters cell should be near the top"


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.stem)
def test_source_notebooks_pass_their_autograder_cells_and_nbgrader_validation(path):
    """The committed (executed; nbval re-executes it) notebook: every graded cell ran and raised
    nothing, and nbgrader's validator, run on these outputs, accepts it."""
    for cell in nbgrader_cells(read(path)):
        if is_grade(cell) and cell.cell_type == "code":
            assert cell.execution_count is not None, f"{path.name}: graded cell never ran"
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{path.name}: {cell.metadata.nbgrader['grade_id']} failed"
    assert Validator(preprocessors=[CheckCellMetadata]).validate(str(path)) == {}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_release_removes_every_solution_and_hidden_test(path):
    source = read(path)
    released = student_version(source)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{path.name}: marker {marker!r} left in the release"
    secret = region_lines(source) - outside_lines(source)
    leaked = sorted(secret & {line.strip() for line in text.splitlines()})
    assert not leaked, f"{path.name}: solution or hidden-test lines survive: {leaked}"
    assert all(not c.get("outputs") for c in released.cells if c.cell_type == "code")
    assert all(is_locked(c) for c in nbgrader_cells(released) if is_grade(c))
    for cell in nbgrader_cells(released):
        if is_solution(cell) and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source


# --------------------------------------------------------------------------- rlhf-course release


def test_release_writes_every_notebook_and_a_manifest_and_may_write_again(course_main, tmp_path):
    for _ in range(2):  # the second run overwrites only what the first wrote
        status, out, err = course_main("release", "--out", "out")
        assert status == 0, err
    assert sorted(p.name for p in (tmp_path / "out").glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    manifest = json.loads((tmp_path / "out" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest == {"written": [p.name for p in NOTEBOOKS]}
    assert out.count("released ") == len(NOTEBOOKS)


@pytest.fixture
def source_course(scratch_course, solution_notebook):
    """The scratch course with a real notebook that has exercises: notebooks/NN_*.ipynb."""
    shutil.copy(solution_notebook, scratch_course.notebook_dir)
    return scratch_course


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_release_never_writes_over_the_notebooks_it_releases(source_course, cli, files_of, force):
    before = files_of(source_course.root)
    flags = ["--force"] if force else []
    message = cli.refuses("release", "--root", source_course.root, "--out", source_course.notebook_dir,
                          *flags)
    assert "refused" in message and "would overwrite the notebooks being released" in message
    assert files_of(source_course.root) == before


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
def test_release_refuses_a_directory_of_source_notebooks_unless_forced(cli, course_main, tmp_path,
                                                                      solution_notebook, files_of):
    sources = tmp_path / "sources"
    sources.mkdir()
    shutil.copy(solution_notebook, sources / "mine.ipynb")
    before = files_of(sources)
    message = cli.refuses("release", "--out", sources, solution_notebook)
    assert "holds source notebooks (mine.ipynb)" in message and "--force" in message
    assert files_of(sources) == before
    assert course_main("release", "--out", sources, "--force", solution_notebook)[0] == 0
    assert files_of(sources)["mine.ipynb"] == before["mine.ipynb"]


def test_release_refuses_to_overwrite_a_file_it_did_not_write_unless_forced(cli, course_main, tmp_path,
                                                                           solution_notebook, files_of):
    out = tmp_path / "out"
    out.mkdir()
    (out / solution_notebook.name).write_text("my notes\n", encoding="utf-8")
    before = files_of(out)
    message = cli.refuses("release", "--out", out, solution_notebook)
    assert f"would overwrite {solution_notebook.name}, not written by a release" in message
    assert files_of(out) == before
    assert course_main("release", "--out", out, "--force", solution_notebook)[0] == 0
    assert "BEGIN SOLUTION" not in (out / solution_notebook.name).read_text(encoding="utf-8")


@pytest.mark.parametrize("out", ["a_file", "a_file/sub"])
def test_release_onto_a_file_or_under_one_is_one_line(cli, tmp_path, solution_notebook, out):
    (tmp_path / "a_file").write_text("keep\n", encoding="utf-8")
    message = cli.refuses("release", "--out", out, solution_notebook)
    assert message.startswith(f"rlhf-course release: --out {out}:")
    assert (tmp_path / "a_file").read_text(encoding="utf-8") == "keep\n"


def test_release_of_a_missing_or_corrupt_notebook_writes_nothing(cli, tmp_path):
    (tmp_path / "bad.ipynb").write_text("{", encoding="utf-8")
    assert "missing.ipynb" in cli.refuses("release", "--out", "out", "missing.ipynb")
    assert "bad.ipynb" in cli.refuses("release", "--out", "out", "bad.ipynb")
    assert not (tmp_path / "out").exists()

"""Each notebook's checks hold for other settings of its parameters cell, its released version fails
only at its exercises, and nbgrader's validator accepts it: two executions per notebook.

The settings are the notebook's own metadata `parameter_sets` (two per notebook), injected after
the cell tagged `parameters` the way papermill does it. The first setting runs the student release
(cells may fail only at the exercises, and every test cell must fail there: no test passes without
a solution); the second runs the source notebook, which must raise nowhere, and nbgrader's validator
checks the executed result. The default setting is nbval's run of the committed notebook, which
test_release.py validates the same way. One class per notebook, so that pytest-xdist's
`--dist loadscope` spreads notebooks over workers; the executions run when RLHF_FULL=1 (.ci/run).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.preprocessors import CheckCellMetadata
from nbgrader.utils import is_grade, is_solution
from nbgrader.validator import Validator
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from helpers.course import COURSE, KERNEL_QUIET
from helpers.course.release import student_version


def parameter_sets(path: Path) -> list[dict]:
    return nbformat.read(path, as_version=4).metadata.get("parameter_sets", [])


def parameter_names(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {line.split("=")[0].strip() for line in cell.source.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}


@pytest.mark.parametrize("path", COURSE.topic_notebooks(), ids=lambda p: p.stem)
def test_two_parameter_sets_name_real_parameters(path):
    sets = parameter_sets(path)
    assert len(sets) >= 2, f"{path.name}: expected two parameter_sets in the metadata, got {sets}"
    unknown = {k for s in sets for k in s} - parameter_names(path)
    assert not unknown, f"{path.name}: parameter_sets name {unknown}, not in the parameters cell"


def execute_with(file: Path, parameters: dict, allow_errors: bool):
    """The notebook `file` with `parameters` injected as papermill injects them, executed top to
    bottom in a fresh kernel that runs in the course's notebook directory."""
    nb = parameterize_notebook(load_notebook_node(str(file)), parameters)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
                   extra_arguments=KERNEL_QUIET,
                   resources={"metadata": {"path": str(COURSE.notebook_dir)}}).execute()
    return nb


def code_cells(nb, keep) -> set[int]:
    return {i for i, c in enumerate(nb.cells) if c.cell_type == "code" and keep(c)}


def _make_class(path: Path):
    @pytest.mark.full_run
    def test_release_with_the_first_setting_fails_only_at_its_exercises(self, tmp_path):
        released = tmp_path / path.name
        nbformat.write(student_version(nbformat.read(path, as_version=4)), released)
        nb = execute_with(released, parameter_sets(path)[0], allow_errors=True)
        erred = code_cells(nb, lambda c: any(o.output_type == "error" for o in c.outputs))
        exercise = code_cells(nb, lambda c: is_grade(c) or is_solution(c))
        graded = code_cells(nb, is_grade)
        assert erred <= exercise, f"{path.name}: cells {sorted(erred - exercise)} fail in the release " \
            "although they are not exercises (they depend on a solution, or the setting breaks them)"
        assert graded <= erred, f"{path.name}: test cells {sorted(graded - erred)} pass " \
            "without a solution (a test that cannot fail)"

    @pytest.mark.full_run
    def test_source_with_the_second_setting_runs_and_nbgrader_validates_it(self, tmp_path):
        nb = execute_with(path, parameter_sets(path)[1], allow_errors=False)
        nbformat.write(nb, tmp_path / path.name)
        assert Validator(preprocessors=[CheckCellMetadata]).validate(str(tmp_path / path.name)) == {}

    name = "TestWorkflow_" + path.stem.split("_")[0]
    return name, type(name, (), {
        "test_release_with_the_first_setting_fails_only_at_its_exercises":
            test_release_with_the_first_setting_fails_only_at_its_exercises,
        "test_source_with_the_second_setting_runs_and_nbgrader_validates_it":
            test_source_with_the_second_setting_runs_and_nbgrader_validates_it,
    })


for _path in COURSE.topic_notebooks():
    _name, _cls = _make_class(_path)
    globals()[_name] = _cls

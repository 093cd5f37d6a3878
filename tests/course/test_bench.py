"""`rlhf-course bench`: the floor kernel does what every notebook's setup does, and the verb runs."""

import pytest

from helpers.course.bench import floor_source, math_modules


def test_the_floor_imports_every_math_module_and_makes_the_notebooks_setup_calls():
    source = floor_source()
    compile(source, "floor", "exec")
    assert {"numeric", "plots", "verify", "models", "dpo"} <= set(math_modules())
    assert "course" not in math_modules()
    assert f"from helpers import {', '.join(math_modules())}" in source
    for call in ("set_threads()", "use_style()", "freeze_gc()", "torch.optim.SGD(", "import sympy",
                 "import matplotlib"):
        assert call in source, f"the floor lacks {call}"


def test_a_corrupt_notebook_is_named_before_anything_runs(scratch_course, cli):
    broken = scratch_course.notebooks()[1]
    broken.write_text("{", encoding="utf-8")
    assert str(broken) in cli.refuses("bench", "--root", scratch_course.root)


@pytest.mark.full_run
def test_bench_times_a_notebook_against_the_floor(scratch_course, cli):
    result = cli("bench", "--root", scratch_course.root, "--notebooks", "01")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[1/1] 01_a ... " in result.stdout and "(floor " in result.stdout
    assert "ratio suite / floor: " in result.stdout and not result.stderr

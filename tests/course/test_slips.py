"""The slip catalogue: every entry applies to today's code, and `rlhf-course slips` reports the claim
whose check raised (a scratch course with one helper and one notebook stands in for the course)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.course import COURSE, CourseError
from helpers.course.slips import CATALOGUE, Slip, affected, apply, load_catalogue

SLIPS = load_catalogue(COURSE.root / CATALOGUE)


def test_the_catalogue_holds_at_least_thirty_slips_over_every_topic_notebook():
    assert len(SLIPS) >= 30, f"{len(SLIPS)} slips"
    touched = {p.stem[:2] for slip in SLIPS for p in affected(slip, COURSE)}
    topics = {p.stem[:2] for p in COURSE.topic_notebooks()}
    assert topics <= touched, f"no slip touches {sorted(topics - touched)}"


@pytest.mark.parametrize("slip", SLIPS, ids=[s.id for s in SLIPS])
def test_each_slip_applies_exactly_once_to_todays_code(slip: Slip, tmp_path: Path):
    target = tmp_path / slip.file
    target.parent.mkdir(parents=True)
    target.write_bytes((COURSE.root / slip.file).read_bytes())
    apply(slip, tmp_path)
    assert target.read_bytes() != (COURSE.root / slip.file).read_bytes()


def test_the_stored_report_names_a_catching_claim_for_every_slip():
    stored = {o["id"]: o for o in json.loads((COURSE.root / "slips/report.json").read_text("utf-8"))}
    assert set(stored) == {s.id for s in SLIPS}, "refresh slips/report.json with rlhf-course slips"
    assert all(o["caught"] and o["claim"] for o in stored.values())


def test_a_malformed_catalogue_is_refused_naming_the_file(tmp_path: Path):
    bad = tmp_path / "catalogue.toml"
    bad.write_text('[[slip]]\nid = "a"\nfile = "x.py"\nfind = "1"\nreplace = "1"\ndescription = "d"\n')
    with pytest.raises(CourseError, match="catalogue.toml"):
        load_catalogue(bad)
    bad.write_text('[[slip]]\nid = "a"\n')
    with pytest.raises(CourseError, match="entry 1"):
        load_catalogue(bad)


def test_a_slip_whose_text_is_gone_is_refused(tmp_path: Path):
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "m.py").write_text("x = 1\n")
    with pytest.raises(CourseError, match="found 0"):
        apply(Slip("s", "helpers/m.py", "x = 2", "x = 3", "d"), tmp_path)


def _scratch_course(root: Path, make_notebook) -> None:
    (root / "helpers").mkdir(parents=True)
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "area.py").write_text("def area(r):\n    return 3.0 * r * r\n")
    (root / "notebooks").mkdir()
    make_notebook(root / "notebooks" / "00_overview.ipynb")
    check = ("from helpers.area import area\n"
             "assert abs(area(2.0) - 12.0) < 1e-9, 'C1.1: area(2) is not 12'\n"
             "print('C1.1    holds      area  (m: b; control: w rejected)')")
    make_notebook(root / "notebooks" / "01_a.ipynb", code=check)
    (root / "CLAIMS.md").write_text("## Sheet part 1(a)\n- C1.1 a\n", encoding="utf-8")
    (root / "slips").mkdir()
    (root / "slips" / "catalogue.toml").write_text(
        '[[slip]]\nid = "square-forgotten"\nfile = "helpers/area.py"\nfind = "r * r"\nreplace = "r"\n'
        'description = "the radius not squared"\n', encoding="utf-8")


@pytest.mark.full_run
def test_slips_runs_a_scratch_course_and_names_the_catching_claim(tmp_path: Path, make_notebook,
                                                                  course_main):
    root = tmp_path / "course"
    _scratch_course(root, make_notebook)
    # the stored outputs the catching claim is read from: a clean run prints C1.1's verdict
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(root / "notebooks" / "01_a.ipynb", as_version=4)
    import os
    os.environ["PYTHONPATH"] = str(root)
    try:
        NotebookClient(nb, kernel_name="python3").execute()
    finally:
        del os.environ["PYTHONPATH"]
    nbformat.write(nb, root / "notebooks" / "01_a.ipynb")
    status, out, _ = course_main("slips", "--root", root, "--jobs", 1, "--out", tmp_path / "r.json")
    assert status == 0, out
    (outcome,) = json.loads((tmp_path / "r.json").read_text())
    assert outcome["caught"] and outcome["claim"] == "C1.1", outcome
    assert "square-forgotten" in out and "1 of 1 slips caught" in out

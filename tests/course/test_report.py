"""`rlhf-course report` on a scratch course: the report, its problems, and what it refuses."""

import pytest


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
def test_report_executes_collects_and_writes(scratch_course, course_main, tmp_path):
    status, out, err = course_main("report", "--root", scratch_course.root, "--out", "build/report.md")
    assert status == 0, err
    text = (tmp_path / "build" / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# Claims report") and "| C1.1 | 1(a) | holds | 01_a | first |" in text
    assert "[1/2] 01_a ... 1 verdicts" in out and "[2/2] 02_b ... 1 verdicts" in out
    assert "\r" not in out, "progress off a terminal is plain lines"


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
def test_a_failing_notebook_and_a_missing_verdict_fail_the_report_without_colour_codes(
        scratch_course, course_main, tmp_path, make_notebook):
    make_notebook(scratch_course.notebooks()[2], code="raise RuntimeError('broken')")
    status, out, err = course_main("report", "--root", scratch_course.root, "--out", "r.md")
    assert status == 1 and "[2/2] 02_b ... FAILED" in out
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "- 02_b: RuntimeError: broken" in text and "- C1.2: no verdict" in text
    assert "\x1b[" not in text and "\x1b[" not in err
    assert "rlhf-course report: 02_b: RuntimeError: broken" in err.splitlines()


def test_a_subset_needs_no_verdict_from_the_notebooks_left_out(scratch_course, course_main):
    status, out, err = course_main("report", "--root", scratch_course.root, "--out", "r.md",
                                   "--notebooks", "01")
    assert status == 0, err
    assert "[1/1] 01_a" in out and "02_b" not in out


def test_an_unknown_notebook_is_refused(scratch_course, cli):
    assert "'99'" in cli.refuses("report", "--root", scratch_course.root, "--notebooks", "99")


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
@pytest.mark.parametrize("content", ["not json {", '{"nbformat": 4, "nbformat_minor": 5, "cells": []}'],
                         ids=["not-json", "schema-invalid"])
def test_a_corrupt_notebook_is_named_before_anything_runs(scratch_course, cli, tmp_path, content):
    broken = scratch_course.notebooks()[2]
    broken.write_text(content, encoding="utf-8")
    message = cli.refuses("report", "--root", scratch_course.root, "--out", "r.md")
    assert str(broken) in message and "notebook" in message
    assert not (tmp_path / "r.md").exists()


@pytest.mark.parametrize("out", ["a_file/report.md", "a_dir", "not_a_report.md"])
def test_an_out_path_that_cannot_or_must_not_be_written_is_refused_before_anything_runs(
        scratch_course, cli, tmp_path, files_of, out):
    (tmp_path / "a_file").write_text("keep\n", encoding="utf-8")
    (tmp_path / "a_dir").mkdir()
    (tmp_path / "not_a_report.md").write_text("# notes\n", encoding="utf-8")
    before = files_of(tmp_path)
    message = cli.refuses("report", "--root", scratch_course.root, "--out", out)
    assert f"--out {out}" in message
    assert files_of(tmp_path) == before


def test_a_claims_file_without_claims_is_named(scratch_course, course_main):
    scratch_course.claims_file.write_text("# nothing\n", encoding="utf-8")
    status, _, err = course_main("report", "--root", scratch_course.root)
    assert status == 1 and err.startswith(f"rlhf-course report: {scratch_course.claims_file}: ")
    assert len(err.splitlines()) == 1

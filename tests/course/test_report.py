"""`rlhf-course report` on a scratch course: the report, its problems, and what it refuses."""

import pytest


def test_report_executes_collects_and_writes(scratch_course, cli, tmp_path):
    result = cli("report", "--root", scratch_course.root, "--out", "build/report.md")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "build" / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# Claims report") and "| C1.1 | 1(a) | holds | 01_a | first |" in text
    assert "[1/2] 01_a ... 1 verdicts" in result.stdout and "[2/2] 02_b ... 1 verdicts" in result.stdout
    assert "\r" not in result.stdout, "progress on a pipe is plain lines"


def test_a_failing_notebook_and_a_missing_verdict_fail_the_report_without_colour_codes(
        scratch_course, cli, tmp_path, make_notebook):
    make_notebook(scratch_course.notebooks()[2], code="raise RuntimeError('broken')")
    result = cli("report", "--root", scratch_course.root, "--out", "r.md")
    assert result.returncode == 1 and "[2/2] 02_b ... FAILED" in result.stdout
    text = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "- 02_b: RuntimeError: broken" in text and "- C1.2: no verdict" in text
    assert "\x1b[" not in text and "\x1b[" not in result.stderr
    assert "rlhf-course report: 02_b: RuntimeError: broken" in result.stderr.splitlines()


def test_a_subset_needs_no_verdict_from_the_notebooks_left_out(scratch_course, cli):
    result = cli("report", "--root", scratch_course.root, "--out", "r.md", "--notebooks", "01")
    assert result.returncode == 0, result.stderr
    assert "[1/1] 01_a" in result.stdout and "02_b" not in result.stdout


def test_an_unknown_notebook_is_refused(scratch_course, cli):
    assert "'99'" in cli.refuses("report", "--root", scratch_course.root, "--notebooks", "99")


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


def test_a_claims_file_without_claims_is_named(scratch_course, cli):
    scratch_course.claims_file.write_text("# nothing\n", encoding="utf-8")
    assert str(scratch_course.claims_file) in cli.refuses("report", "--root", scratch_course.root)

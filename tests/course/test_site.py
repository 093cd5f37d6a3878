"""`rlhf-course site` on a scratch course: pages in course order, and never a half-written build."""

import pytest

from helpers.course.site import MARKER


def leftovers(directory):
    """Staging or old directories a build left beside its output."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".html."))


def test_site_builds_pages_and_an_index_in_course_order_and_rebuilds_in_place(scratch_course, course_main,
                                                                              tmp_path):
    for _ in range(2):  # the second build replaces the first
        status, _, err = course_main("site", "--root", scratch_course.root, "--out", "html")
        assert status == 0, err
    pages = sorted(p.name for p in (tmp_path / "html").glob("*.html"))
    assert pages == ["00_overview.html", "01_a.html", "02_b.html", "index.html"]
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert index.index("01_a title") < index.index("02_b title")
    assert (tmp_path / "html" / MARKER).is_file() and not leftovers(tmp_path)


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
@pytest.mark.parametrize("execute", [False, True], ids=["corrupt", "failing-with-execute"])
def test_a_bad_notebook_leaves_the_previous_build_untouched(scratch_course, cli, course_main, tmp_path,
                                                           files_of, make_notebook, execute):
    assert course_main("site", "--root", scratch_course.root, "--out", "html")[0] == 0
    before = files_of(tmp_path / "html")
    bad = scratch_course.notebooks()[2]
    if execute:
        make_notebook(bad, code="1 / 0")
        message = cli.refuses("site", "--root", scratch_course.root, "--out", "html", "--execute")
        assert "ZeroDivisionError" in message
    else:
        bad.write_text("{ not json", encoding="utf-8")
        message = cli.refuses("site", "--root", scratch_course.root, "--out", "html")
    assert str(bad) in message
    assert files_of(tmp_path / "html") == before and not leftovers(tmp_path)


@pytest.mark.full_run  # executes notebooks or starts the command: .ci/run runs it
def test_a_corrupt_notebook_writes_no_site_at_all(scratch_course, cli, tmp_path):
    scratch_course.notebooks()[1].write_text("[]", encoding="utf-8")
    cli.refuses("site", "--root", scratch_course.root, "--out", "html")
    assert not (tmp_path / "html").exists() and not leftovers(tmp_path)


@pytest.mark.parametrize("out", ["a_file", "a_file/html", "notes"])
def test_an_out_that_is_a_file_or_not_a_site_build_is_refused(scratch_course, cli, tmp_path, files_of, out):
    (tmp_path / "a_file").write_text("keep\n", encoding="utf-8")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep\n", encoding="utf-8")
    before = files_of(tmp_path)
    assert f"--out {out}" in cli.refuses("site", "--root", scratch_course.root, "--out", out)
    assert files_of(tmp_path) == before

"""helpers.claims, helpers.report and helpers.site on small notebooks made here."""

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import claims, report, site

SHEET = """# claims
## Sheet part 1(a) — x
- C1.1 first
- C1.2 second
## Sheet part 1(c–d) — y
- C3.2 The chain, each `=` a claim (C3.2a … C3.2c in order)
## Beyond the sheet
Added claims take the next number (C3.3, C4.6, …).
"""


def notebook(path: Path, *lines: str) -> Path:
    source = "\n".join(f"print({line!r})" for line in lines)
    nb = new_notebook(cells=[new_markdown_cell(f"# {path.stem} title"), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def sheet(tmp_path):
    path = tmp_path / "CLAIMS.md"
    path.write_text(SHEET, encoding="utf-8")
    return claims.sheet_claims(path)


def test_sheet_claims_expand_the_chain_and_stop_before_added_examples(sheet):
    assert sheet == {"C1.1": "1(a)", "C1.2": "1(a)", "C3.2a": "1(c–d)", "C3.2b": "1(c–d)",
                     "C3.2c": "1(c–d)"}


def test_the_real_claims_file_lists_every_part():
    real = claims.sheet_claims()
    assert len(real) == 25 and {"C1.1", "C3.2e", "C6.4"} <= set(real) and "C3.2" not in real


def test_sheet_claims_rejects_a_file_without_claims(tmp_path):
    (tmp_path / "empty.md").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ValueError, match="path"):
        claims.sheet_claims(tmp_path / "empty.md")


def test_problems_and_table(sheet):
    found = [claims.Verdict("C1.1", "holds", "a", "01"), claims.Verdict("C1.2", "refined", "b", "01"),
             claims.Verdict("C1.2", "holds", "b again", "02"), claims.Verdict("C3.2a", "holds", "c", "03"),
             claims.Verdict("C1.9", "holds", "(added) extra", "01"),
             claims.Verdict("C2.9", "holds", "not marked", "02")]
    problems = claims.problems(found, sheet)
    assert "C3.2b: no verdict" in problems and "C3.2c: no verdict" in problems
    assert "C1.2: 2 verdicts (expected exactly one)" in problems
    assert any(p.startswith("C2.9: not in CLAIMS.md") for p in problems)
    assert not any(p.startswith("C1.9") for p in problems)
    table = claims.table(found, sheet)
    assert "| C1.9 | added | holds | 01 | extra |" in table
    assert table.index("C1.9") < table.index("C2.9") < table.index("C3.2a")
    assert "<td>C1.9</td><td>added</td>" in claims.html_table(found, sheet)


def test_claim_key_orders_numerically():
    ids = ["C6.10", "C3.2e", "C6.2", "C3.2a", "C3.10", "C3.3"]
    assert sorted(ids, key=claims.claim_key) == ["C3.2a", "C3.2e", "C3.3", "C3.10", "C6.2", "C6.10"]


def test_verdicts_in_reads_stdout_only(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("x")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout",
                               text="C1.1    holds      a thing  (sympy: lhs - rhs = 0)\nother\n"),
        nbformat.v4.new_output("stream", name="stderr", text="C1.2    holds      no  (m: b)\n")]
    assert claims.verdicts_in(nb, "01") == [claims.Verdict("C1.1", "holds", "a thing", "01")]


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A two-notebook course in tmp_path, wired into helpers.claims / report / site."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    notebook(nbdir / "00_overview.ipynb")
    notebook(nbdir / "01_a.ipynb", "C1.1    holds      first  (m: b)")
    notebook(nbdir / "02_b.ipynb", "C1.2    corrected  second  (m: b)")
    (tmp_path / "CLAIMS.md").write_text("## Sheet part 1(a)\n- C1.1 a\n- C1.2 b\n", encoding="utf-8")
    monkeypatch.setattr(claims, "NOTEBOOK_DIR", nbdir)
    monkeypatch.setattr(claims, "CLAIMS_FILE", tmp_path / "CLAIMS.md")
    monkeypatch.setattr(site, "NOTEBOOK_DIR", nbdir)
    return nbdir


def test_report_executes_collects_and_writes(course, tmp_path, capsys):
    out = tmp_path / "build" / "report.md"
    assert report.main(["--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "| C1.1 | 1(a) | holds | 01_a | first |" in text and "| 02_b |" in text
    printed = capsys.readouterr().out
    assert "[1/2] 01_a ... 1 verdicts" in printed and "[2/2] 02_b" in printed


def test_report_fails_when_a_claim_has_no_verdict(course, tmp_path):
    notebook(course / "02_b.ipynb", "nothing here")
    assert report.main(["--out", str(tmp_path / "r.md")]) == 1


def test_report_fails_when_a_notebook_fails(course, tmp_path):
    nb = nbformat.read(course / "02_b.ipynb", as_version=4)
    nb.cells.append(new_code_cell("raise RuntimeError('broken')"))
    nbformat.write(nb, course / "02_b.ipynb")
    assert report.main(["--out", str(tmp_path / "r.md")]) == 1


def test_report_subset_and_bad_subset(course, tmp_path):
    assert report.main(["--out", str(tmp_path / "r.md"), "--notebooks", "01"]) == 0
    with pytest.raises(SystemExit):
        report.main(["--notebooks", "99"])


def test_site_builds_pages_and_an_index_in_course_order(course, tmp_path):
    pages = site.build(tmp_path / "html")
    assert [p.name for p in pages] == ["00_overview.html", "01_a.html", "02_b.html"]
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert index.index("01_a title") < index.index("02_b title")
    assert "C1.1    holds" in pages[1].read_text(encoding="utf-8")

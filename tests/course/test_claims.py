"""helpers.course.claims: the claims of CLAIMS.md and the verdict lines the notebooks print."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from helpers.course import claims

SHEET = """# claims
## Sheet part 1(a) — x
- C1.1 first
- C1.2 second
## Sheet part 1(c–d) — y
- C3.2 The chain, each `=` a claim (C3.2a … C3.2c in order)
## Beyond the sheet
Added claims take the next number (C3.3, C4.6, …).
"""


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
    assert {"C1.1", "C3.2e", "C6.4"} <= set(real) and "C3.2" not in real
    assert all(claims.CLAIM_ID.match(c) for c in real)


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


def test_claim_key_orders_numerically_and_rejects_what_is_no_id():
    ids = ["C6.10", "C3.2e", "C6.2", "C3.2a", "C3.10", "C3.3"]
    assert sorted(ids, key=claims.claim_key) == ["C3.2a", "C3.2e", "C3.3", "C3.10", "C6.2", "C6.10"]
    with pytest.raises(ValueError, match="claim"):
        claims.claim_key("C3")


def test_verdicts_in_reads_stdout_only():
    nb = nbformat.v4.new_notebook(cells=[new_code_cell("x")])
    nb.cells[0].outputs = [
        new_output("stream", name="stdout",
                   text="C1.1    holds      a thing  (sympy: lhs - rhs = 0)\nother\n"),
        new_output("stream", name="stderr", text="C1.2    holds      no  (m: b)\n")]
    assert claims.verdicts_in(nb, "01") == [claims.Verdict("C1.1", "holds", "a thing", "01")]


def test_collect_reads_the_stored_outputs_of_the_topic_notebooks(scratch_course):
    nb = nbformat.read(scratch_course.notebooks()[1], as_version=4)
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="C1.1    holds      first  (m: b)\n")]
    nbformat.write(nb, scratch_course.notebooks()[1])
    found = claims.collect(scratch_course.topic_notebooks())
    assert found == [claims.Verdict("C1.1", "holds", "first", "01_a")]

"""sheet/: the solution sheet as written, its English reading, claims.json, and the verdict table."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest

from helpers.course import COURSE
from helpers.course.claims import sheet_claims
from helpers.course.sheet import claims_table_html, normalised, sheet_dir, sheet_lines, tagged

FA = sheet_dir() / "solution-sheet.fa.md"
EN = sheet_dir() / "solution-sheet.en.md"
CLAIMS = sheet_claims(COURSE.claims_file)
LINES = sheet_lines()


def read(path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_sheet_claim_has_an_entry_and_nothing_else_does():
    assert set(LINES) == set(CLAIMS), f"only in CLAIMS.md: {set(CLAIMS) - set(LINES)}, " \
                                      f"only in claims.json: {set(LINES) - set(CLAIMS)}"
    for claim, entry in LINES.items():
        assert set(entry) == {"fa", "en", "part"}, f"{claim}: keys {sorted(entry)}"
        assert entry["part"] == CLAIMS[claim], f"{claim}: part {entry['part']!r}, CLAIMS.md {CLAIMS[claim]!r}"
        assert entry["fa"].strip() and entry["en"].strip(), f"{claim}: empty text"


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_the_persian_line_is_on_the_sheet_under_its_own_tag(claim):
    text = normalised(read(FA))
    at = text.find(normalised(LINES[claim]["fa"]))
    assert at >= 0, f"{claim}: its 'fa' text is not in {FA.name}"
    assert text.find(normalised(LINES[claim]["fa"]), at + 1) < 0, f"{claim}: its 'fa' text is there twice"
    assert claim in tag_group_before(text, at), f"{claim}: the nearest tags before its line are " \
                                                f"{tag_group_before(text, at)}"


def tag_group_before(text: str, at: int) -> list[str]:
    """The IDs of the last run of tags (separated only by spaces) that starts before `at`."""
    runs = list(re.finditer(r"(?:\[\*\*C[^*]+\*\*\] ?)+", text[:at]))
    return tagged(runs[-1].group()) if runs else []


@pytest.mark.parametrize("claim", sorted(CLAIMS))
def test_the_english_reading_is_in_the_english_file(claim):
    assert normalised(LINES[claim]["en"]) in normalised(read(EN)), \
        f"{claim}: its 'en' text is not in {EN.name}"


@pytest.mark.parametrize("path", [FA, EN], ids=lambda p: p.name)
def test_every_claim_is_tagged_once_and_every_tag_is_a_claim(path):
    tags = tagged(read(path))
    assert not set(tags) - set(CLAIMS), f"{path.name}: tags that are no claim: {set(tags) - set(CLAIMS)}"
    assert sorted(tags) == sorted(CLAIMS), f"{path.name}: tagged {len(tags)}, expected each of " \
                                           f"{len(CLAIMS)} claims once"


def test_the_english_reading_keeps_the_sheet_order():
    assert tagged(read(EN)) == tagged(read(FA))


def math_problems(text: str) -> list[str]:
    """What would not render, paragraph by paragraph: unbalanced `$$`, `$`, braces, \\left/\\right,
    \\begin/\\end."""
    found = []
    for par in re.split(r"\n\s*\n", text.replace(r"\$", "")):
        if par.count("$$") % 2:
            found.append(f"odd number of $$ in {par[:60]!r}")
            continue
        inline = re.sub(r"\$\$.*?\$\$", " ", par, flags=re.S)
        if inline.count("$") % 2:
            found.append(f"odd number of $ in {par[:60]!r}")
        for formula in re.findall(r"\$\$(.*?)\$\$|\$(.*?)\$", par, flags=re.S):
            tex = "".join(formula).replace(r"\{", "").replace(r"\}", "")
            for a, b in (("{", "}"), (r"\left", r"\right"), (r"\begin", r"\end")):
                if tex.count(a) != tex.count(b):
                    found.append(f"{a} {tex.count(a)} vs {b} {tex.count(b)} in {tex[:60]!r}")
    return found


@pytest.mark.parametrize("path", [FA, EN], ids=lambda p: p.name)
def test_the_markdown_math_is_balanced(path):
    assert math_problems(read(path)) == []


def test_the_json_texts_and_the_table_cells_are_balanced():
    cells = [text_of(cell) for row in table([(c, "holds", "") for c in CLAIMS]) for cell in row[1:3]]
    problems = [p for text in cells for p in math_problems(text)]
    assert problems == [] and len(cells) == 2 * len(CLAIMS)


@pytest.mark.parametrize(("text", "problem"), [
    ("a $x$ and $y", "odd number of $"), ("$$x$", "odd number of $$"),
    (r"$\frac{1}{2$", "{ 2 vs } 1"), (r"$$\left( x$$", r"\left 1 vs \right 0"),
])
def test_the_balance_check_catches(text, problem):
    assert problem in " ".join(math_problems(text))


def test_the_balance_check_accepts_escaped_dollars_and_math_over_lines():
    assert math_problems("costs \\$5, $x$\n$$a\n= b$$\n\n$y$") == []


# --- the verdict table ---------------------------------------------------------------------------

def table(rows) -> list[list[ET.Element]]:
    """The <td> cells of each body row of claims_table_html(rows), parsed as XML."""
    root = ET.fromstring(claims_table_html(rows))
    assert [th.text for th in root.iter("th")] == ["ID", "the sheet's line", "English reading",
                                                   "verdict", "what was checked"]
    return [list(tr) for tr in root.find("tbody")]


def text_of(cell: ET.Element) -> str:
    return "\n\n".join(t.strip() for t in cell.itertext())


def test_every_sheet_claim_shows_its_persian_line_right_to_left_and_its_reading():
    rows = table([(c, "holds", "checked") for c in CLAIMS])
    assert len(rows) == len(CLAIMS)
    for claim, (id_cell, fa, en, verdict, what) in zip(CLAIMS, rows):
        assert id_cell.text == claim and verdict.text == "holds" and what.text == "checked"
        assert fa.get("dir") == "rtl" and fa.get("lang") == "fa", f"{claim}: {fa.attrib}"
        assert normalised(LINES[claim]["fa"]) in normalised(text_of(fa)), f"{claim}: Persian line missing"
        assert normalised(text_of(en)) == normalised(LINES[claim]["en"]), f"{claim}: English reading differs"
        assert en.get("dir") is None


def test_math_is_left_for_mathjax():
    rows = table([("C1.1", "corrected", "σ' = σ(1 − σ)"), ("C3.2c", "holds", "pointwise"),
                  ("C1.3", "refined", "offset")])
    assert text_of(rows[0][1]) == LINES["C1.1"]["fa"] and text_of(rows[0][1]).startswith("$$")
    piece = text_of(rows[1][1])  # a piece of the sheet's aligned display, with its '&'
    assert piece == f"$$\\begin{{aligned}} {LINES['C3.2c']['fa']} \\end{{aligned}}$$" and "&=" in piece
    assert text_of(rows[2][1]) == LINES["C1.3"]["fa"]  # prose without math stays prose


def test_added_claims_say_added_in_the_sheet_columns():
    (row,) = table([("C6.5", "holds", "(added) gradcheck on 114 parameters")])
    assert [c.text for c in row] == ["C6.5", "(added)", "(added)", "holds", "gradcheck on 114 parameters"]
    assert all(c.get("dir") is None for c in row)


def test_what_is_html_escaped():
    out = claims_table_html([("C2.3", "corrected", "drop γ>0 < drop γ=0 & H → < 1e-2")])
    assert "drop γ&gt;0 &lt; drop γ=0 &amp; H → &lt; 1e-2" in out
    assert html.escape(LINES["C6.4"]["fa"], quote=False) in claims_table_html([("C6.4", "holds", "")])


def test_the_table_is_plain_html():
    out = claims_table_html([(c, "holds", "x") for c in CLAIMS] + [("C7.1", "holds", "(added) y")])
    assert not re.search(r"<(script|style)|style=|class=|on\w+=", out)


def test_the_notebook_call_form():
    record = {"C1.1": ("C1.1", "corrected", "w", "sympy", "exact"), "C1.4": ("C1.4", "holds", "(added) v",
                                                                           "torch", "< 1e-5")}
    rows = table([(c, v, w) for c, v, w, _, _ in record.values()])
    assert [r[0].text for r in rows] == ["C1.1", "C1.4"]


@pytest.mark.parametrize("rows", [[], [("C1.1", "holds")], [("C1.1", "holds", 3)], ["C1.1"]])
def test_bad_rows_raise_naming_rows(rows):
    with pytest.raises(ValueError, match="rows"):
        claims_table_html(rows)

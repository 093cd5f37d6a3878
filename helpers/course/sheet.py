"""The solution sheet as written: each claim's line(s) in Persian, its English reading, and a
table of verdicts that shows them side by side.

`sheet/claims.json` maps a claim ID to {"fa": the sheet's line(s) as written, LaTeX included,
"en": the English reading, "part": the sheet part, e.g. "1(a)"}. An "fa" text is a piece of
`sheet/solution-sheet.fa.md`: whole lines (separated by a blank line when there are several), or,
where one display of the sheet holds several claims, the part of the formula that is the claim
(no `$` then). In the two markdown files a claim is tagged `[**C1.1**]` where its line begins.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from pathlib import Path

from helpers.course import COURSE
from helpers.verify import CLAIM_ID_PATTERN

TAG = re.compile(rf"\[\*\*({CLAIM_ID_PATTERN})\*\*\]")  # [**C1.1**], [**C3.2a**]
PERSIAN = re.compile(r"[\u0600-\u06FF]")  # the Arabic-script block: the sheet's prose
RLM = "&rlm;"  # opens a tagged Persian line, so that GitHub's dir="auto" sets it right-to-left
ADDED = "(added)"
HEADERS = ("ID", "the sheet's line", "English reading", "verdict", "what was checked")


def sheet_dir() -> Path:
    """The directory that holds the sheet: solution-sheet.fa.md, solution-sheet.en.md, claims.json."""
    return COURSE.root / "sheet"


def sheet_lines(path: Path | None = None) -> dict[str, dict]:
    """{claim ID: {"fa": …, "en": …, "part": …}} for every claim of the sheet (sheet/claims.json)."""
    return json.loads((path or sheet_dir() / "claims.json").read_text(encoding="utf-8"))


def tagged(text: str) -> list[str]:
    """The claim IDs tagged `[**C1.1**]` in a markdown text of the sheet, in order of appearance."""
    return TAG.findall(text)


def normalised(text: str) -> str:
    """`text` with every run of whitespace one space and the direction marks removed."""
    return " ".join(text.replace(RLM, " ").split())


def claims_table_html(rows: Iterable[tuple[str, str, str]], lines: dict[str, dict] | None = None) -> str:
    """An HTML table of verdicts: ID | the sheet's line (Persian, right-to-left) | English reading |
    verdict | what was checked; one row per (claim, verdict, what). A claim not on the sheet shows
    "(added)" in the two sheet columns. Math stays `$…$` for MathJax; no scripts or styles.
    `lines` defaults to `sheet_lines()`."""
    rows = _check_rows(rows)
    lines = sheet_lines() if lines is None else lines
    head = "".join(f"<th>{h}</th>" for h in HEADERS)
    body = "".join(_row(claim, verdict, what, lines.get(claim)) for claim, verdict, what in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _row(claim: str, verdict: str, what: str, line: dict | None) -> str:
    """One <tr>: the sheet's cells from `line`, or "(added)" when the claim is not on the sheet."""
    if line is None:
        sheet = f"<td>{ADDED}</td><td>{ADDED}</td>"
        what = what.removeprefix(ADDED).lstrip()
    else:
        sheet = f'<td dir="rtl" lang="fa">{_cell(_as_math(line["fa"]))}</td><td>{_cell(line["en"])}</td>'
    return f"<tr><td>{_cell(claim)}</td>{sheet}<td>{_cell(verdict)}</td><td>{_cell(what)}</td></tr>"


def _as_math(fa: str) -> str:
    """A sheet text ready for MathJax: lines as they are; a piece of a display formula (no `$`, no
    Persian, maybe `&` alignment marks) inside `$$\\begin{aligned} … \\end{aligned}$$`."""
    piece = "$" not in fa and not PERSIAN.search(fa)
    return f"$$\\begin{{aligned}} {fa} \\end{{aligned}}$$" if piece else fa


def _cell(text: str) -> str:
    """`text` HTML-escaped (`&`, `<`, `>`), its lines (separated by blank lines) joined by <br/>."""
    return "<br/>".join(html.escape(part.strip(), quote=False) for part in text.split("\n\n"))


def _check_rows(rows: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """`rows` as a list of (claim, verdict, what) string triples; ValueError naming `rows` if not."""
    rows = list(rows)
    bad = [r for r in rows if not (isinstance(r, tuple | list) and len(r) == 3
                                   and all(isinstance(x, str) for x in r))]
    if not rows or bad:
        got = "nothing" if not rows else repr(bad[0])[:80]
        raise ValueError(f"rows: expected (claim, verdict, what) string triples, got {got}")
    return [tuple(r) for r in rows]

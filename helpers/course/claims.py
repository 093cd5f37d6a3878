"""The claims of CLAIMS.md and the verdicts the notebooks print for them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from helpers.course import COURSE
from helpers.verify import CLAIM_ID, CLAIM_ID_PATTERN, parse_verdicts

# CLAIMS.md's bullets, built on helpers.verify's claim ID (C3.2a), the one ID pattern of the course
_BULLET = re.compile(rf"^- ({CLAIM_ID_PATTERN})\b")  # "- C3.2 The chain ..."
_RANGE = re.compile(rf"\(({CLAIM_ID_PATTERN})([a-z]) … \1([a-z])")  # "(C3.2a … C3.2e in order)"
_PART = re.compile(r"^## Sheet part (\S+)")


@dataclass(frozen=True)
class Verdict:
    claim: str
    verdict: str
    what: str
    notebook: str

    @property
    def added(self) -> bool:
        return self.what.startswith("(added)")


def sheet_claims(path: Path | None = None) -> dict[str, str]:
    """{claim ID: sheet part} for every claim of CLAIMS.md, with C3.2 split into C3.2a–e."""
    path = path or COURSE.claims_file
    claims, part = {}, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## Beyond the sheet"):
            break
        if m := _PART.match(line):
            part = m.group(1)
        if m := _BULLET.match(line):
            span = _RANGE.search(line)
            if span and span.group(1) == m.group(1):
                first, last = ord(span.group(2)), ord(span.group(3))
                claims.update({f"{m.group(1)}{chr(c)}": part for c in range(first, last + 1)})
            else:
                claims[m.group(1)] = part
    if not claims:
        raise ValueError(f"path: expected claim bullets '- C1.1 …' in {path}, found none")
    return claims


def verdicts_in(nb: nbformat.NotebookNode, name: str) -> list[Verdict]:
    """The verdict lines among a notebook's stored stdout outputs, in order."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                found += [Verdict(c, v, w.split("  (")[0], name)
                          for c, v, w in parse_verdicts(output.get("text", ""))]
    return found


def collect(notebooks: list[Path] | None = None) -> list[Verdict]:
    """Verdicts of the given notebooks (default: the course's topic notebooks, stored outputs)."""
    paths = notebooks or COURSE.topic_notebooks()
    return [v for p in paths for v in verdicts_in(nbformat.read(p, as_version=4), p.stem)]


def claim_key(claim: str) -> tuple[int, int, str]:
    """Sort key: C3.2a < C3.2e < C3.3 < C3.10."""
    if not CLAIM_ID.match(claim):
        raise ValueError(f"claim: expected an ID like C3.2a, got {claim!r}")
    part, number = claim[1:].split(".")
    letter = number.lstrip("0123456789")
    return int(part), int(number.removesuffix(letter)), letter


def problems(verdicts: list[Verdict], claims: dict[str, str]) -> list[str]:
    """What is wrong with a set of verdicts: sheet claims without one, IDs with several."""
    seen: dict[str, int] = {}
    for v in verdicts:
        seen[v.claim] = seen.get(v.claim, 0) + 1
    out = [f"{c}: no verdict" for c in claims if c not in seen]
    out += [f"{c}: {n} verdicts (expected exactly one)" for c, n in seen.items() if n > 1]
    out += [f"{v.claim}: not in CLAIMS.md and not marked '(added)'"
            for v in verdicts if v.claim not in claims and not v.added]
    return out


def table(verdicts: list[Verdict], claims: dict[str, str]) -> str:
    """A Markdown table: ID, sheet part (or 'added'), verdict, notebook, what was checked."""
    rows = ["| ID | sheet part | verdict | notebook | what was checked |", "|---|---|---|---|---|"]
    for v in sorted(verdicts, key=lambda v: claim_key(v.claim)):
        part = claims.get(v.claim, "added")
        what = v.what.removeprefix("(added) ").replace("|", "\\|")
        rows.append(f"| {v.claim} | {part} | {v.verdict} | {v.notebook} | {what} |")
    return "\n".join(rows)


def html_table(verdicts: list[Verdict], claims: dict[str, str]) -> str:
    """The same table as `table`, as HTML (rendered in JupyterLab, compared by nbval)."""
    esc = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

    def cell(text: str) -> str:
        return "".join(esc.get(ch, ch) for ch in text)

    head = "".join(f"<th>{h}</th>" for h in ("ID", "sheet part", "verdict", "notebook",
                                             "what was checked"))
    rows = [f"<tr><td>{v.claim}</td><td>{claims.get(v.claim, 'added')}</td><td>{v.verdict}</td>"
            f"<td>{v.notebook}</td><td>{cell(v.what.removeprefix('(added) '))}</td></tr>"
            for v in sorted(verdicts, key=lambda v: claim_key(v.claim))]
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"

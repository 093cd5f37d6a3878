"""Every notebook in JupyterLab, in a real browser: it opens, MathJax typesets every formula (no
error, no undefined macro, no raw `$` left), every stored figure shows, and nbgrader's extension is
there (its menu, the Validate button, the Create Assignment panel).

A control notebook with one fault per cell shows that each check catches its fault, where it is.
"""

from __future__ import annotations

import base64
import zlib

import nbformat
import pytest
from browser_pages import expected, problems, read, settle
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.course import COURSE

NOTEBOOKS = COURSE.notebooks()
NBGRADER = {  # what nbgrader's JupyterLab extension adds, found by its text or title
    "the Nbgrader menu": "Array.from(document.querySelectorAll('.lm-MenuBar-itemLabel'))"
                         ".some((e) => e.textContent === 'Nbgrader')",
    "the Validate button": "document.querySelector('.jp-NotebookPanel-toolbar .validate-button') !== null",
    "the Create Assignment panel":
        "document.querySelector('[title=\"Nbgrader Create Assignment\"]') !== null",
}


def open_notebook(browser, lab, path: str, want: dict) -> dict:
    """Open `path` (relative to the server's root) in JupyterLab; the settled page state."""
    browser.get(f"{lab.url}/lab/tree/{path}?reset")  # ?reset: a fresh workspace, only this notebook
    try:
        return settle(browser, ready=lambda s: all(s[key] == want[key] for key in ("cells", "markdown"))
                      and (s["formulas"] > 0 or not want["math"]))  # MathJax has started
    finally:
        lab.shut_down_kernels()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_renders_in_jupyterlab(browser, lab, lab_root, path):
    want = expected(read(lab_root / "notebooks" / path.name))
    state = open_notebook(browser, lab, f"notebooks/{path.name}", want)
    assert problems(state, want) == [], f"{path.name} in JupyterLab"
    missing = [name for name, script in NBGRADER.items() if not browser.execute_script(f"return {script}")]
    assert not missing, f"{path.name}: nbgrader's extension is not there: {missing} missing"


def png(width: int = 2, height: int = 2) -> bytes:
    """A small grey PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + b"\x08\x00\x00\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


# cell source -> what `problems` must say about that cell (None: nothing)
CONTROL = [
    (r"fine: $\sigma(z)$ and $$\begin{aligned} a &= b && \text{why} \end{aligned}$$", None),
    (r"a brace too many: $\frac{1}{2}}$", "MathJax error 'Extra close brace"),
    (r"an \end that does not match: $$\begin{aligned} a &= b \end{align}$$", "MathJax error"),
    (r"an undefined macro: $\notamacro x$", "undefined macro"),
    (r"an unclosed brace: $\frac{1}{2$", "raw $ left"),
    (r"a lone dollar: costs $5 and more", "raw $ left"),
    (r"a dollar in code is fine: `cost = $5` and $y$", None),
    # JupyterLab's markdown drops the backslash before MathJax sees it: \$ is no escape there
    (r"an escaped dollar: \$5 and $y$", "raw $ left"),
]


# two HTML outputs (a table of verdicts holds math): typeset, and a `$` left raw
HTML_OUTPUTS = [r"<table><tr><td>$\sigma(z)$</td></tr></table>",
                r"<table><tr><td>$\frac{1}{2$</td></tr></table>"]


def control_notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell(source) for source, _ in CONTROL]
    for data in (base64.b64encode(png()).decode(), base64.b64encode(b"not a png").decode()):
        cells.append(new_code_cell("plot()", execution_count=len(cells), outputs=[
            new_output("display_data", data={"image/png": data, "text/plain": "<Figure>"})]))
    for html in HTML_OUTPUTS:
        cells.append(new_code_cell("table()", execution_count=len(cells), outputs=[
            new_output("display_data", data={"text/html": html, "text/plain": "<table>"})]))
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_the_checks_catch_each_fault_in_its_cell(browser, lab, lab_root):
    nb = control_notebook()
    nbformat.write(nb, lab_root / "control" / "faults.ipynb")
    want = expected(nb)
    found = problems(open_notebook(browser, lab, "control/faults.ipynb", want), want)
    for index, (source, fault) in enumerate(CONTROL):
        here = [f for f in found if f.startswith(f"cell {index}:")]
        if fault is None:
            assert here == [], f"{source!r} flagged: {here}"
        else:
            assert any(fault in f for f in here), f"{source!r}: expected {fault!r}, found {here}"
    figures = len(CONTROL)  # the good figure, then the broken one, then the two HTML outputs
    assert [f for f in found if f.startswith((f"cell {figures}:", f"cell {figures + 1}:"))] == \
        [f"cell {figures + 1}: figure not shown"], found
    assert [f for f in found if f.startswith(f"cell {figures + 2}:")] == [], found
    assert any(f.startswith(f"cell {figures + 3}: raw $ left") for f in found), found

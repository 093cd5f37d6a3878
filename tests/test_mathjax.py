"""Every formula in every markdown cell typesets in MathJax 3 without error.

MathJax 3 (npm package mathjax-full, pinned in tests/mathjax/package.json) is what JupyterLab 4
renders markdown math with; in the browser an error shows as red or raw text, so this test
typesets every formula from node with the error-hiding packages left out. The test installs
the package (npm ci) when it is missing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import nbformat
import pytest

from helpers.course import COURSE, ROOT

CHECKER = ROOT / "tests" / "mathjax"
NOTEBOOKS = COURSE.notebooks()
CODE = re.compile(r"```.*?```|~~~.*?~~~|`[^`\n]*`", re.S)


def markdown_items() -> list[dict]:
    """{notebook, cell, text} for each markdown cell, with code spans and fences removed."""
    items = []
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                items.append({"notebook": path.name, "cell": index,
                              "text": CODE.sub(" ", cell.source)})
    return items


def typeset(items: list[dict]) -> dict:
    if not (CHECKER / "node_modules" / "mathjax-full").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=CHECKER, check=True, timeout=300)
    result = subprocess.run(["node", "check_tex.js"], cwd=CHECKER, input=json.dumps(items),
                            capture_output=True, text=True, timeout=120, check=True)
    return json.loads(result.stdout)


pytestmark = pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                reason="node and npm are needed for the MathJax check")


def test_every_formula_typesets():
    items = markdown_items()
    report = typeset(items)
    assert report["checked"] == len(items) > 0
    errors = [f"{e['notebook']} cell {e['cell']}: {e['error']} in {e['formula']!r}"
              for e in report["errors"]]
    assert not errors, "MathJax errors:\n" + "\n".join(errors)


@pytest.mark.parametrize(("text", "message"), [
    (r"$\frac{1}{2}}$", "Extra close brace"),
    (r"$\frac{1}{2$", "unmatched $"),  # MathJax finds no formula: it would render raw
    (r"$\notamacro x$", "Undefined control sequence"),
    (r"costs $5 and more", "unmatched $"),
    (r"$$\begin{aligned} a &= b \end{align}$$", "end"),
])
def test_the_checker_catches_errors(text, message):
    report = typeset([{"notebook": "t.ipynb", "cell": 0, "text": text}])
    assert report["errors"], f"no error reported for {text!r}"
    assert message.lower() in report["errors"][0]["error"].lower(), report["errors"]


def test_the_checker_accepts_good_math():
    text = r"An escaped \$5, $\sigma(z)$ and $$\begin{aligned} a &= b && \text{why} \end{aligned}$$"
    assert typeset([{"notebook": "t.ipynb", "cell": 0, "text": text}])["errors"] == []

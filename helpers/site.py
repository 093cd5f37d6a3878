"""Render the course to static HTML, with an index page in course order.

    python -m helpers.site [--out build/html] [--execute]

Notebooks are committed executed (CI checks that their outputs reproduce), so by default their
stored outputs are rendered; `--execute` runs each one afresh first.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from helpers.claims import NOTEBOOK_DIR
from helpers.report import execute


def title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The text of the notebook's first '# ' heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def build(out: Path, run: bool = False) -> list[Path]:
    """Write one HTML page per notebook and index.html into `out`; return the pages."""
    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    entries, pages = [], []
    for path in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        nb = execute(path)[0] if run else nbformat.read(path, as_version=4)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title(nb, path.stem)}})
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        entries.append(f'<li><a href="{page.name}">{html.escape(title(nb, path.stem))}</a></li>')
    index = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
             "<title>RLHF and DPO, verified line by line</title></head><body>"
             "<h1>RLHF and DPO, verified line by line</h1>"
             "<p>The notebooks in course order.</p><ol>" + "".join(entries) + "</ol></body></html>\n")
    (out / "index.html").write_text(index, encoding="utf-8")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.site", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/html"))
    parser.add_argument("--execute", action="store_true", help="run each notebook afresh first")
    args = parser.parse_args(argv)
    pages = build(args.out, run=args.execute)
    print(f"wrote {len(pages)} pages and index.html to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

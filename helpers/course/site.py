"""Render the course to static HTML, with an index page in course order.

    rlhf-course site [--out build/html] [--execute]

Notebooks are committed executed (CI checks that their outputs reproduce), so by default their
stored outputs are rendered; --execute runs each one afresh first. Every notebook is read and
checked before anything is rendered, the pages are built in a temporary directory beside --out and
moved into place only when all of them and index.html are written: a failed build leaves the
previous one as it was. --out must be new, empty or an earlier site build (it is replaced whole).
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import tempfile
from pathlib import Path

from helpers.course import Course, CourseError, check_dir_path, read_notebook, writable_dir
from helpers.course.cli import add_verb
from helpers.course.progress import Progress

MARKER = ".rlhf-site"  # written into every build: an --out holding it may be replaced
TITLE = "RLHF and DPO, verified line by line"


def add_parser(subparsers) -> argparse.ArgumentParser:
    """The `site` sub-command and its flags."""
    parser = add_verb(subparsers, "site", "render the course to HTML with an index page", __doc__)
    parser.add_argument("--out", type=Path, default=Path("build/html"), metavar="DIR",
                        help="the site's directory, replaced whole (default: %(default)s)")
    parser.add_argument("--execute", action="store_true", help="run each notebook afresh first")
    return parser


def title(nb, fallback: str) -> str:
    """The text of the notebook's first '# ' heading."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def check_target(out: Path) -> None:
    """Refuse an --out that is a file, unwritable, or a non-empty directory other than a site build."""
    check_dir_path(out, f"--out {out}")
    writable_dir(out.parent, f"--out {out}")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise CourseError(f"--out {out}: exists and is not a site build (no {MARKER}); "
                          "remove it or pick another directory")


def execute_all(notebooks: dict[Path, object]) -> None:
    """Run each {path: notebook} afresh, in place, with progress shown; CourseError at the first failure."""
    from helpers.course.report import execute

    progress = Progress(len(notebooks))
    for path, nb in notebooks.items():
        progress.start(path.stem)
        seconds, error = execute(nb, path)
        progress.done(f"FAILED: {error}" if error else f"{seconds:.1f} s")
        if error:
            raise CourseError(f"{path}: failed when executed ({error}); nothing written")


def render(notebooks: dict[Path, object], out: Path) -> list[Path]:
    """Write one HTML page per notebook ({path: node}), index.html and the marker into `out`."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    entries, pages = [], []
    for path, nb in notebooks.items():
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title(nb, path.stem)}})
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        entries.append(f'<li><a href="{page.name}">{html.escape(title(nb, path.stem))}</a></li>')
    index = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{TITLE}</title></head><body>"
             f"<h1>{TITLE}</h1><p>The notebooks in course order.</p><ol>{''.join(entries)}</ol>"
             "</body></html>\n")
    (out / "index.html").write_text(index, encoding="utf-8")
    (out / MARKER).write_text("written by rlhf-course site; the directory is replaced on each build\n",
                              encoding="utf-8")
    return pages


def build(paths: list[Path], out: Path, run: bool = False) -> list[Path]:
    """Render `paths` in a directory beside `out`, then swap it in for `out`; the pages in `out`."""
    check_target(out)
    out = out.resolve()
    notebooks = {p: read_notebook(p) for p in paths}  # a corrupt notebook stops here: nothing written
    if run:
        execute_all(notebooks)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
    try:
        pages = render(notebooks, staging)
        os.chmod(staging, 0o755)
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [out / p.name for p in pages]


def replace_dir(new: Path, out: Path) -> None:
    """Move directory `new` to `out`, removing the earlier `out` only once `new` is in place."""
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        out.rename(old)
    new.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    """Build the site of the course at --root into --out."""
    pages = build(Course(args.root).notebooks(), args.out, run=args.execute)
    print(f"wrote {len(pages)} pages and index.html to {args.out}")
    return 0

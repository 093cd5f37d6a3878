"""Render the course to static HTML, with an index page in course order.

    rlhf-course site [--out build/html] [--execute]

Notebooks are committed executed (CI checks that their outputs reproduce), so by default their
stored outputs are rendered; --execute runs each one afresh first. Every notebook is read and
checked before anything is rendered, the pages are built in a temporary directory beside --out and
moved into place only when all of them and index.html are written: a failed build leaves the
previous one as it was. --out must be new, empty or an earlier site build (it is replaced whole).

The site needs no network: formulas are typeset by a copy of MathJax 3 (the version JupyterLab 4
renders with) written into DIR/_static/mathjax/ from the pinned django-static-mathjax package,
with JupyterLab's TeX settings; the pages load nothing from elsewhere.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import shutil
import tempfile
from pathlib import Path

from helpers.course import Course, CourseError, check_dir_path, read_notebook, writable_dir
from helpers.course.cli import add_verb
from helpers.course.progress import Progress

MARKER = ".rlhf-site"  # written into every build: an --out holding it may be replaced
TITLE = "RLHF and DPO, verified line by line"
# MathJax 3 in one file: TeX input with every package, SVG output (no web fonts to fetch, which
# a page opened from file:// could not load).
MATHJAX_FILE = "tex-svg-full.js"
MATHJAX_URL = f"_static/mathjax/{MATHJAX_FILE}"  # relative to the pages, which sit beside index.html
MATHJAX_PACKAGE = "django-static-mathjax"  # ships MathJax as package data (no other dependency)
# JupyterLab 4's TeX settings, so that a formula renders on the site as it does in the notebook.
MATHJAX_CONFIG = r"""<script>
window.MathJax = {
  tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
        processEscapes: true, processEnvironments: true},
  svg: {fontCache: 'global'}
};
</script>
<script id="MathJax-script" src="{url}"></script>"""
# The lab template with the MathJax above, and without require.js (fetched from a CDN; only
# widgets need it, and the course has none).
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}
""" + MATHJAX_CONFIG.replace("{url}", "{{ resources.mathjax_url }}") + """
{%- endblock html_head_js_mathjax -%}
"""


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


def mathjax_source() -> Path:
    """MathJax 3's single-file bundle inside the installed django-static-mathjax package (its
    LICENSE two directories up)."""
    from importlib.util import find_spec

    spec = find_spec("mathjax")
    found = [Path(p) / "static" / "mathjax" for p in (spec.submodule_search_locations or [])] if spec else []
    for root in found:
        bundle = root / "es5" / MATHJAX_FILE
        if bundle.is_file() and (root / "LICENSE").is_file() and mathjax_version(root).startswith("3."):
            return bundle
    raise CourseError(f"MathJax 3 not found: expected es5/{MATHJAX_FILE} from the {MATHJAX_PACKAGE} "
                      "package (pip install -r requirements.txt)")


def mathjax_version(root: Path) -> str:
    """The version in MathJax's package.json under `root` ('' when unreadable)."""
    try:
        return str(json.loads((root / "package.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def render(notebooks: dict[Path, object], out: Path, mathjax: Path) -> list[Path]:
    """Write one HTML page per notebook ({path: node}), index.html, a copy of the `mathjax` bundle
    and the marker into `out`."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    (out / MATHJAX_URL).parent.mkdir(parents=True)
    shutil.copyfile(mathjax, out / MATHJAX_URL)
    shutil.copyfile(mathjax.parents[1] / "LICENSE", (out / MATHJAX_URL).with_name("LICENSE"))  # Apache 2.0
    exporter = HTMLExporter(template_name="lab", template_file="rlhf_site.html.j2",
                            extra_loaders=[DictLoader({"rlhf_site.html.j2": TEMPLATE})],
                            mathjax_url=MATHJAX_URL)
    entries, pages = [], []
    for path, nb in notebooks.items():
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title(nb, path.stem)}})
        page = out / f"{path.stem}.html"
        page.write_text(body, encoding="utf-8")
        pages.append(page)
        entries.append(f'<li><a href="{page.name}">{html.escape(title(nb, path.stem))}</a></li>')
    index = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{TITLE}</title>"
             f"{MATHJAX_CONFIG.replace('{url}', MATHJAX_URL)}</head><body>"
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
    mathjax = mathjax_source()
    if run:
        execute_all(notebooks)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.building-"))
    try:
        pages = render(notebooks, staging, mathjax)
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

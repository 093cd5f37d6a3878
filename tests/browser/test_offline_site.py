"""The site `rlhf-course site` writes, opened from file:// in a browser with no network: MathJax (the
copy inside the site) typesets every formula of every page with no error, every figure shows, and
no page asks for anything outside the site.

The control is the same page with nbconvert's default MathJax (from a CDN): with the network off it
typesets nothing, so the network is really off and the check would catch a site that needs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser_pages import expected, problems, read, settle
from nbconvert import HTMLExporter

from helpers.course import COURSE
from helpers.course.site import MATHJAX_URL

NOTEBOOKS = COURSE.notebooks()
# Resolves once MathJax has typeset the page; false when no MathJax 3 ever loaded.
MATHJAX_DONE = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + arguments[0] * 1000;
(function wait() {
  if (window.MathJax && window.MathJax.startup && window.MathJax.startup.promise) {
    window.MathJax.startup.promise.then(() => done(true), (e) => done(String(e)));
  } else if (Date.now() > deadline) {
    done(false);
  } else {
    setTimeout(wait, 100);
  }
})();
"""
REMOTE_SCRIPT = re.compile(r"<script[^>]*\ssrc=[\"']?(https?:)?//")
OUTSIDE = "performance.getEntriesByType('resource').map((e) => e.name).filter((n) => !n.startsWith('file:'))"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course's site, built by the command a user runs."""
    out = tmp_path_factory.mktemp("site") / "html"
    result = subprocess.run([sys.executable, "-m", "helpers.course", "site", "--out", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return out


def open_page(browser, page: Path, wait: float = 60) -> tuple[object, dict]:
    """Open `page` from file://; (what MathJax's startup said, the settled page state)."""
    browser.get(page.as_uri())
    typeset = browser.execute_async_script(MATHJAX_DONE, wait)
    return typeset, settle(browser)


def test_the_site_carries_its_own_mathjax(site):
    bundle = site / MATHJAX_URL
    assert bundle.is_file() and bundle.stat().st_size > 1_000_000, bundle
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert f'src="{MATHJAX_URL}"' in text and not REMOTE_SCRIPT.search(text), page.name


def test_the_index_opens_offline_and_links_every_page(browser, site):
    typeset, _ = open_page(browser, site / "index.html")
    assert typeset is True, f"MathJax did not start on index.html: {typeset}"
    links = browser.execute_script("return Array.from(document.querySelectorAll('li a')).map((a) => a.href)")
    targets = [Path(link.removeprefix("file://")) for link in links]
    assert [t.name for t in targets] == [f"{p.stem}.html" for p in NOTEBOOKS]
    assert all(t.is_file() for t in targets), targets
    assert browser.execute_script("return document.querySelectorAll('mjx-merror').length") == 0
    assert browser.execute_script(f"return {OUTSIDE}") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_page_typesets_offline(browser, site, path):
    typeset, state = open_page(browser, site / f"{path.stem}.html")
    assert typeset is True, f"MathJax did not start on {path.stem}.html: {typeset}"
    want = expected(read(path))
    assert problems(state, want) == [], f"{path.stem}.html offline"
    assert browser.execute_script(f"return {OUTSIDE}") == [], "a page asked for something outside the site"


def test_control_a_page_with_mathjax_from_a_cdn_typesets_nothing_offline(browser, tmp_path):
    path = next(p for p in NOTEBOOKS if expected(read(p))["math"])
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(read(path))
    page = tmp_path / "cdn.html"
    page.write_text(body, encoding="utf-8")
    typeset, state = open_page(browser, page, wait=5)
    assert typeset is False and state["formulas"] == 0, (typeset, state["formulas"])
    assert "no formula typeset" in problems(state, expected(read(path)))

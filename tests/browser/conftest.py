"""Real-browser tests: the course as a student sees it, in headless Chromium driven by selenium.

Skipped unless RLHF_BROWSER=1 (`.ci/run` sets it): they need a Chromium-family browser and its
chromedriver on PATH (Debian: `apt-get install chromium chromium-driver`; GitHub's ubuntu runners
ship Google Chrome and chromedriver) and take a few minutes. With RLHF_BROWSER=1, a missing browser
is a failure, not a skip.

The browser has no network: every request that is not to this machine goes to a proxy that does
not exist, and host names do not resolve. So the tests show that the course renders offline.
What a page must show and how it is inspected is in browser_pages.py.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_pages import NOWHERE, TIMEOUT, Lab, find_browser

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RLHF_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason="real-browser test: set RLHF_BROWSER=1 (needs Chromium and chromedriver)")
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Chromium with no network off this machine, driven by selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = find_browser()
    options = Options()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1400,1000", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-default-apps", "--disable-sync",
                 f"--proxy-server={NOWHERE}", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("no_proxy", "NO_PROXY"):  # selenium talks to chromedriver on this machine directly
            patch.setenv(name, ",".join(filter(None, [os.environ.get(name), "127.0.0.1", "localhost"])))
        driver = webdriver.Chrome(options=options, service=Service(driver_path))
        driver.set_script_timeout(TIMEOUT)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's directory: a copy of the course's notebooks/ (a test never writes into the
    checkout) and control/ for notebooks the tests write."""
    from helpers.course import COURSE

    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(COURSE.notebook_dir, root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (root / "control").mkdir()
    return root


@pytest.fixture(scope="session")
def lab(lab_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    server = Lab(lab_root, tmp_path_factory.mktemp("lab_home"))
    try:
        yield server
    finally:
        server.stop()

"""What the browser tests look at, and the browser and JupyterLab they drive.

One page inspection, `INSPECT`, serves JupyterLab and the static site alike (both lay a notebook out
with JupyterLab's classes): it counts the cells, rendered markdown cells, typeset formulas and shown
figures, and lists, per cell, what MathJax could not typeset. `problems` turns that into sentences,
against what the notebook file says the page must show (`expected`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVER = "chromedriver"
NOWHERE = "127.0.0.1:9"  # the proxy for every request off this machine: nothing listens there
TIMEOUT = 120  # seconds for a page to settle (2 busy cores)
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # to the test's server, never a proxy

# The state of a notebook page. A formula is an error when MathJax put an merror in it (TeX it could
# not parse: a brace, an \end) and undefined when it holds a red mtext (the noundefined package's
# mark of an unknown macro); a `$` left in the text of rendered markdown or of an HTML output
# (outside code) was never typeset.
INSPECT = r"""
const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));
const where = (el) => cells.findIndex((c) => c.contains(el));
const formulas = Array.from(document.querySelectorAll('mjx-container'));
const flagged = (selector) => formulas.filter((f) => f.querySelector(selector)).map((f) => ({
  cell: where(f), text: (f.querySelector('[data-mjx-error]') || {}).title || f.textContent.slice(0, 80)}));
const raw = [];
for (const md of document.querySelectorAll('.jp-Notebook .jp-RenderedHTMLCommon')) {
  const walker = document.createTreeWalker(md, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.textContent.includes('$') && !node.parentElement.closest('mjx-container, code, pre')) {
      raw.push({cell: where(node.parentElement), text: node.textContent.trim().slice(0, 80)});
    }
  }
}
const images = Array.from(document.querySelectorAll('.jp-Notebook .jp-RenderedImage img'));
return {
  cells: cells.length,
  markdown: document.querySelectorAll('.jp-Notebook .jp-MarkdownCell .jp-RenderedMarkdown').length,
  formulas: formulas.length,
  errors: flagged('mjx-merror, [data-mml-node="merror"]'),
  undefined: flagged('mjx-mtext[style*="color: red"], [data-mml-node="mtext"][fill="red"]'),
  raw: raw,
  images: images.length,
  hidden_images: images.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => where(i)),
};
"""


# --------------------------------------------------------------------------- what the page must show


def expected(nb) -> dict:
    """What a page of notebook `nb` must show: its cells, markdown cells and stored PNG figures."""
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    return {"cells": len(nb.cells),
            "markdown": sum(cell.cell_type == "markdown" for cell in nb.cells),
            "images": sum("image/png" in out.get("data", {}) for out in outputs),
            "math": any("$" in cell.source for cell in nb.cells if cell.cell_type == "markdown")}


def problems(state: dict, want: dict) -> list[str]:
    """What is wrong with a page in `state` (INSPECT's answer) that should show `want`, in words."""
    found = [f"cell {e['cell']}: MathJax error {e['text']!r}" for e in state["errors"]]
    found += [f"cell {e['cell']}: undefined macro in {e['text']!r}" for e in state["undefined"]]
    found += [f"cell {e['cell']}: raw $ left in {e['text']!r}" for e in state["raw"]]
    found += [f"cell {c}: figure not shown" for c in state["hidden_images"]]
    for key in ("cells", "markdown", "images"):
        if state[key] != want[key]:
            found.append(f"{key}: expected {want[key]} on the page, found {state[key]}")
    if want["math"] and not state["formulas"]:
        found.append("no formula typeset")
    return found


def settle(driver, ready: Callable[[dict], bool] = lambda s: True, quiet: float = 1.0,
           timeout: float = TIMEOUT) -> dict:
    """INSPECT's answer once `ready(state)` holds and the page has not changed for `quiet` seconds,
    5 s more while a raw `$` or a figure not shown is on it (MathJax or the image may still be
    loading); the last answer when `timeout` seconds pass first."""
    deadline, previous, since = time.monotonic() + timeout, None, time.monotonic()
    while True:
        state, now = driver.execute_script(INSPECT), time.monotonic()
        if state != previous:
            previous, since = state, now
        elif ready(state) and now - since >= quiet + (5 if state["raw"] or state["hidden_images"] else 0) \
                or now > deadline:
            return state
        time.sleep(0.25)


def read(path: Path):
    return nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------- the browser


def major(executable: str) -> str:
    """The major version an executable prints for --version ('' when it prints none)."""
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"(\d+)\.\d+\.\d+", out)
    return match.group(1) if match else ""


def find_browser() -> tuple[str, str]:
    """(browser, chromedriver) on PATH, preferring the browser of the driver's major version."""
    driver = shutil.which(DRIVER) or shutil.which(DRIVER, path=os.environ.get("CHROMEWEBDRIVER", ""))
    browsers = [path for name in BROWSERS if (path := shutil.which(name))]
    if not driver or not browsers:
        pytest.fail(f"RLHF_BROWSER=1 needs one of {', '.join(BROWSERS)} and {DRIVER} on PATH "
                    f"(found browser: {browsers or 'none'}, driver: {driver or 'none'}); on Debian: "
                    "apt-get install chromium chromium-driver")
    version = major(driver)
    return next((b for b in browsers if major(b) == version), browsers[0]), driver


# --------------------------------------------------------------------------- JupyterLab


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LAB_SETTINGS = {  # user settings: every cell rendered (no windowing), no autosave, no news
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": '{"autosave": false}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        '{"fetchNews": "false", "checkForUpdates": false}',
}
LAB_CONFIG = ('c.LabApp.news_url = None\n'
              'c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"\n')


class Lab:
    """A JupyterLab server on 127.0.0.1:`port` serving `root`, with no token."""

    def __init__(self, root: Path, home: Path):
        self.root, self.port = root, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        for name, text in LAB_SETTINGS.items():
            (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
            (home / "settings" / name).write_text(text, encoding="utf-8")
        (home / "config").mkdir()
        (home / "config" / "jupyter_lab_config.py").write_text(LAB_CONFIG, encoding="utf-8")
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
               "JUPYTER_RUNTIME_DIR": str(home / "runtime")}
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                   f"--port={self.port}", "--ServerApp.port_retries=0", "--ServerApp.token=",
                   "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                   f"--ServerApp.root_dir={root}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
                   f"--LabApp.user_settings_dir={home / 'settings'}"]
        self.log = home / "lab.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.wait_up()

    def wait_up(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                LOCAL.open(f"{self.url}/api/status", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        self.stop()
        pytest.fail(f"JupyterLab did not start:\n{self.log.read_text(encoding='utf-8')[-3000:]}")

    def api(self, path: str, method: str = "GET") -> bytes:
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        with LOCAL.open(request, timeout=30) as response:
            return response.read()

    def shut_down_kernels(self) -> None:
        """End the kernels that opening notebooks started (the tests run no code)."""
        for kernel in json.loads(self.api("kernels")):
            self.api(f"kernels/{kernel['id']}", method="DELETE")

    def stop(self) -> None:
        self.process.terminate()  # the server shuts its kernels down on SIGTERM
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()



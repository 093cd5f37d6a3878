"""ruff over helpers/, tests/ and the notebooks (ruff reads .ipynb); settings in pyproject.toml."""

import subprocess
import sys

from helpers.course import ROOT


def test_ruff_is_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "helpers", "tests", "notebooks"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr

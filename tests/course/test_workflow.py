"""The GitHub Actions workflow runs what `.ci/run` runs, and `.ci/run` runs the README's commands.

The workflow is checked as GitHub reads it (YAML): its triggers, the Python matrix, the pip cache
keyed on the requirements and constraints, `bash .ci/run` as its one command, the report uploaded
as an artifact. `.ci/run`'s own lines that read the install and test commands from the README's
quick start are run on the README and must give the commands of its code block; on a README whose
commands differ, they give those (so `.ci/run` writes none of its own).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers.course import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "notebooks.yml"
CI_RUN = ROOT / ".ci" / "run"
EXTRACTION = re.compile(r"^(quick_start|install|test_cmd)=.*$", re.M)  # .ci/run's lines that read the README
JUPYTER = " && jupyter lab notebooks/"  # the end of the install line that CI does not run


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job(workflow) -> dict:
    jobs = workflow["jobs"]
    assert len(jobs) == 1, f"expected one job, got {list(jobs)}"
    return next(iter(jobs.values()))


def step_using(job: dict, action: str) -> dict:
    found = [s for s in job["steps"] if s.get("uses", "").startswith(f"{action}@")]
    assert len(found) == 1, f"expected one step using {action}, got {len(found)}"
    return found[0]


def readme_commands(readme: str) -> tuple[str, str]:
    """(install, test) from the first bash block of the README's quick start, the way a reader
    copies them (install without the closing `jupyter lab`)."""
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```bash\n(.*?)^```$", section, re.S | re.M)
    assert block, "no ```bash block in the README's quick start"
    install, test = block[1].splitlines()[:2]
    return install.removesuffix(JUPYTER), test


def ci_run_commands(directory: Path) -> tuple[str, str]:
    """(install, test) as `.ci/run`'s extraction lines read them from directory/README.md."""
    lines = [m[0] for m in EXTRACTION.finditer(CI_RUN.read_text(encoding="utf-8"))]
    names = [line.split("=", 1)[0] for line in lines]
    assert names == ["quick_start", "install", "test_cmd"], f".ci/run's extraction lines changed: {names}"
    script = "\n".join(["set -euo pipefail", *lines])
    result = subprocess.run(["bash", "-c", script + '\nprintf "%s\\n" "$install" "$test_cmd"'],
                            cwd=directory, capture_output=True, text=True, timeout=30, check=True)
    install, test = result.stdout.splitlines()
    return install, test


def test_it_runs_on_push_pull_request_and_by_hand(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request", "workflow_dispatch"} <= set(triggers), triggers


def test_it_runs_on_ubuntu_for_python_3_11_and_3_12(job):
    assert job["runs-on"] == "ubuntu-latest"
    assert job["strategy"]["matrix"]["python-version"] == ["3.11", "3.12"]
    python = step_using(job, "actions/setup-python")["with"]
    assert python["python-version"] == "${{ matrix.python-version }}"


def test_it_caches_pip_on_the_requirements_and_the_constraints(job):
    python = step_using(job, "actions/setup-python")["with"]
    assert python["cache"] == "pip"
    assert python["cache-dependency-path"].split() == ["requirements.txt", "constraints.txt"]


def test_its_one_command_is_ci_run_and_pip_can_find_torchs_cpu_wheels(job):
    commands = [s["run"].strip() for s in job["steps"] if "run" in s]
    assert commands == ["bash .ci/run"], commands
    assert job["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_it_uploads_the_report_even_when_a_step_failed(job):
    upload = step_using(job, "actions/upload-artifact")
    assert upload["if"] == "always()" and upload["with"]["path"] == "build/report.md"
    assert "${{ matrix.python-version }}" in upload["with"]["name"]  # one artifact per Python


def test_ci_run_takes_its_commands_from_the_readme(tmp_path):
    text = CI_RUN.read_text(encoding="utf-8")
    assert 'eval "$install"' in text and 'eval "$test_cmd"' in text
    install, test = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert ci_run_commands(ROOT) == (install, test)
    assert install.startswith("python3 -m venv .venv && ") and "pip install -r requirements.txt" in install
    assert test.split()[0] == "pytest"
    # a README with other commands: .ci/run follows it
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    other = readme.replace(f"{install}{JUPYTER}\n{test}\n",
                           f"{install} --no-cache-dir{JUPYTER}\n{test} -x\n", 1)
    assert other != readme
    (tmp_path / "README.md").write_text(other, encoding="utf-8")
    assert ci_run_commands(tmp_path) == (f"{install} --no-cache-dir", f"{test} -x")

"""Each notebook's checks hold for other settings of its parameters cell, not only the defaults.

The settings are the notebook's own metadata `parameter_sets` (two per notebook); papermill
injects each after the cell tagged `parameters` and runs the notebook top to bottom. One class
per notebook, so that pytest-xdist's `--dist loadscope` spreads notebooks over workers.
Set RLHF_QUICK=1 to skip these while iterating locally.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import papermill
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
QUICK = pytest.mark.skipif(os.environ.get("RLHF_QUICK") == "1", reason="RLHF_QUICK=1")


def parameter_sets(path: Path) -> list[dict]:
    return nbformat.read(path, as_version=4).metadata.get("parameter_sets", [])


def parameter_names(path: Path) -> set[str]:
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {line.split("=")[0].strip() for line in cell.source.splitlines()
            if "=" in line and not line.lstrip().startswith("#")}


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.name.startswith("00_")],
                         ids=lambda p: p.stem)
def test_two_parameter_sets_name_real_parameters(path):
    sets = parameter_sets(path)
    assert len(sets) >= 2, f"{path.name}: expected two parameter_sets in the metadata, got {sets}"
    unknown = {k for s in sets for k in s} - parameter_names(path)
    assert not unknown, f"{path.name}: parameter_sets name {unknown}, not in the parameters cell"


def _make_class(path: Path):
    def run(self, index: int, tmp_path: Path):
        sets = parameter_sets(path)
        if index >= len(sets):
            pytest.skip(f"{path.name} has {len(sets)} parameter sets")
        papermill.execute_notebook(str(path), str(tmp_path / path.name), parameters=sets[index],
                                   kernel_name="python3", cwd=str(path.parent),
                                   progress_bar=False, log_output=False)

    @QUICK
    def test_first_parameter_set(self, tmp_path):
        run(self, 0, tmp_path)

    @QUICK
    def test_second_parameter_set(self, tmp_path):
        run(self, 1, tmp_path)

    name = "TestParameters_" + path.stem.split("_")[0]
    return name, type(name, (), {"test_first_parameter_set": test_first_parameter_set,
                                 "test_second_parameter_set": test_second_parameter_set})


for _path in NOTEBOOKS:
    if not _path.name.startswith("00_"):
        _name, _cls = _make_class(_path)
        globals()[_name] = _cls

"""Importing a helpers module changes nothing global: torch threads, the RNG, matplotlib's
settings, the garbage collector. Checked in a fresh interpreter, so no earlier import hides a change."""

import json
import os
import subprocess
import sys

SCRIPT = """
import gc, json, pkgutil, importlib
import matplotlib, torch
torch.set_num_threads(3)
rc = {k: repr(v) for k, v in matplotlib.rcParams.items()}
rng = torch.random.get_rng_state().clone()
import helpers
names = sorted(m.name for m in pkgutil.walk_packages(helpers.__path__, "helpers.")
               if not m.name.endswith(".__main__"))  # a __main__ runs a program: not imported
for name in names:
    importlib.import_module(name)
print(json.dumps({
    "modules": names,
    "threads": torch.get_num_threads(),
    "frozen": gc.get_freeze_count(),
    "rc_changed": sorted(k for k, v in matplotlib.rcParams.items() if repr(v) != rc.get(k)),
    "rng_unchanged": bool(torch.equal(rng, torch.random.get_rng_state())),
}))
"""


def test_importing_every_helpers_module_changes_nothing_global():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "helpers.dpo" in result["modules"] and "helpers.checks" in result["modules"]
    assert result["threads"] == 3, f"an import changed torch's threads to {result['threads']}"
    assert result["frozen"] == 0, "an import froze the garbage collector's objects"
    assert result["rc_changed"] == [], f"an import changed matplotlib's {result['rc_changed']}"
    assert result["rng_unchanged"], "an import drew from (or seeded) torch's global RNG"

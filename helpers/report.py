"""Execute every notebook afresh and report the verdict of every claim.

    python -m helpers.report [--out build/report.md] [--device cpu|cuda|auto] [--notebooks NB ...]

Each notebook runs headless in a fresh kernel (nbclient); the verdict lines it prints are
collected into one claims table, printed and written as Markdown together with each notebook's
run time. Exits non-zero if a notebook fails or a claim of CLAIMS.md has no verdict (or several).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers import claims

DEVICES = ("auto", "cpu", "cuda")


def execute(path: Path, timeout: int = 600) -> tuple[nbformat.NotebookNode, float]:
    """Run a notebook top to bottom in a fresh kernel; (executed notebook, seconds)."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb, time.perf_counter() - start


def topic_notebooks(names: list[str] | None) -> list[Path]:
    """The topic notebooks (00_overview excluded), or those named (by file, stem or number)."""
    every = sorted(p for p in claims.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")
                   if not p.name.startswith("00_"))
    if not names:
        return every
    chosen = []
    for name in names:
        match = [p for p in every if name in (str(p), p.name, p.stem, p.stem[:2])
                 or Path(name).resolve() == p.resolve()]
        if not match:
            raise ValueError(f"--notebooks: expected one of {[p.stem for p in every]}, got {name!r}")
        chosen += match
    return chosen


def markdown(verdicts, sheet, times: dict[str, float], problems: list[str], full: bool) -> str:
    lines = ["# Claims report", "", "| notebook | seconds |", "|---|---|"]
    lines += [f"| {name} | {sec:.1f} |" for name, sec in times.items()]
    lines += ["", claims.table(verdicts, sheet), ""]
    if problems and full:
        lines += ["## Problems", ""] + [f"- {p}" for p in problems]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.report",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/report.md"))
    parser.add_argument("--device", choices=DEVICES,
                        help="where the numeric checks run (sets RLHF_DEVICE for the kernels)")
    parser.add_argument("--notebooks", nargs="+", metavar="NB",
                        help="a subset, by file name, stem or number (default: all)")
    args = parser.parse_args(argv)
    if args.device:
        os.environ["RLHF_DEVICE"] = args.device  # inherited by the kernels started below
    try:
        paths = topic_notebooks(args.notebooks)
    except ValueError as exc:
        parser.error(str(exc))
    verdicts, times, failed = [], {}, []
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] {path.stem} ...", end=" ", flush=True)
        try:
            nb, seconds = execute(path)
        except CellExecutionError as exc:
            print("FAILED")
            failed.append(f"{path.stem}: {str(exc).strip().splitlines()[-1]}")
            continue
        found = claims.verdicts_in(nb, path.stem)
        verdicts += found
        times[path.stem] = seconds
        print(f"{len(found)} verdicts, {seconds:.1f} s")
    sheet = claims.sheet_claims()
    full = not args.notebooks
    problems = failed + [p for p in claims.problems(verdicts, sheet)
                         if full or "no verdict" not in p]
    print()
    print(claims.table(verdicts, sheet))
    print(f"\n{len(verdicts)} verdicts from {len(times)} notebooks in {sum(times.values()):.1f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(verdicts, sheet, times, problems, True), encoding="utf-8")
    print(f"written to {args.out}")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

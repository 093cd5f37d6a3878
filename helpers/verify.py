"""Claim checks: each one asserts, then prints exactly one verdict line.

A verdict line reads ``<ID>  <verdict>  <what was checked>  (<method>: <bound met>)``.
Only bounds that were met are printed, never raw round-off, so stored notebook outputs are
the same on every machine. A failed check raises ``AssertionError`` naming the claim, the
tolerance and the measured error.
"""

from __future__ import annotations

import re

import numpy as np
import sympy as sp
import torch

from helpers import symbolic

VERDICTS = ("holds", "corrected", "refined")
CLAIM_ID = re.compile(r"^C\d+\.\d+[a-z]?$")
VERDICT_LINE = re.compile(r"^(C\d+\.\d+[a-z]?)\s{2,}(holds|corrected|refined)\s{2,}(.*)$")

# Every verdict printed in this process, in order: (claim, verdict, what, method, bound).
RECORD: list[tuple[str, str, str, str, str]] = []


def verdict_line(claim: str, verdict: str, what: str, method: str, bound: str) -> str:
    """Format one verdict line (without printing or recording it)."""
    if not isinstance(claim, str) or not CLAIM_ID.match(claim):
        raise ValueError(f"claim: expected an ID like 'C1.2' or 'C3.2a', got {claim!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict: expected one of {VERDICTS}, got {verdict!r}")
    return f"{claim:<6}  {verdict:<9}  {what}  ({method}: {bound})"


def _report(claim: str, verdict: str, what: str, method: str, bound: str) -> None:
    line = verdict_line(claim, verdict, what, method, bound)
    RECORD.append((claim, verdict, what, method, bound))
    print(line)


def _fmt(x: float) -> str:
    return f"{x:.0e}".replace("e-0", "e-").replace("e+0", "e+")


def max_abs_diff(actual, expected) -> float:
    """max |actual - expected| over all entries, as a float (tensors, arrays or numbers)."""
    a = torch.as_tensor(actual, dtype=torch.float64).detach().cpu()
    b = torch.as_tensor(expected, dtype=torch.float64).detach().cpu()
    if a.shape != b.shape:
        raise ValueError(f"actual, expected: shapes must match, got {tuple(a.shape)} "
                         f"and {tuple(b.shape)}")
    if a.numel() == 0:
        raise ValueError("actual: expected at least one value, got an empty tensor")
    diff = (a - b).abs()
    if torch.isnan(diff).any():
        return float("nan")
    return float(diff.max())


def _check_tol(tol: float) -> None:
    if not (isinstance(tol, (int, float)) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol: expected a finite number > 0, got {tol!r}")


# --------------------------------------------------------------------------- silent asserts
# For the supporting steps of a claim: they assert (with a clear message) but print nothing,
# so each claim still ends in exactly one verdict line.


def assert_equal(lhs, rhs, what: str) -> str:
    """Assert sympy lhs = rhs (AssertionError naming `what`); return the method that decided."""
    ok, method = symbolic.equal(lhs, rhs)
    if not ok:
        raise AssertionError(f"{what}: sympy finds lhs - rhs = {sp.simplify(lhs - rhs)} "
                             f"(≠ 0{symbolic.counterexample(lhs, rhs)})")
    return method


def assert_close(actual, expected, what: str, *, tol: float) -> str:
    """Assert max|actual - expected| < tol (AssertionError naming `what`); return the bound."""
    _check_tol(tol)
    err = max_abs_diff(actual, expected)
    if not err < tol:
        raise AssertionError(f"{what}: max|Δ| = {err:.3g} exceeds tolerance {_fmt(tol)}")
    return f"max|Δ| < {_fmt(tol)}"


# --------------------------------------------------------------------------- symbolic


def check_equal(claim: str, lhs, rhs, what: str, *, verdict: str = "holds") -> None:
    """Assert the sympy expressions lhs and rhs are equal and print the verdict line."""
    ok, method = symbolic.equal(lhs, rhs)
    if not ok:
        point = symbolic.counterexample(lhs, rhs)
        raise AssertionError(f"{claim}: {what}: sympy finds lhs - rhs = "
                             f"{sp.simplify(lhs - rhs)} (≠ 0{point})")
    _report(claim, verdict, what, method, "lhs - rhs = 0")


def check_corrected(claim: str, what: str, written: tuple, corrected: tuple) -> sp.Expr:
    """The sheet's line `written = (lhs, rhs)` is false, `corrected = (lhs, rhs)` is true.

    Asserts both, prints a `corrected` verdict line that shows how the written line fails,
    and returns the simplified difference lhs - rhs of the written line.
    """
    w_lhs, w_rhs = written
    ok, _ = symbolic.equal(w_lhs, w_rhs)
    if ok:
        raise AssertionError(f"{claim}: the written line {w_lhs} = {w_rhs} holds; "
                             "it is not a slip, so 'corrected' is the wrong verdict")
    ok, method = symbolic.equal(*corrected)
    if not ok:
        raise AssertionError(f"{claim}: the corrected line {corrected[0]} = {corrected[1]} "
                             f"does not hold either (difference {sp.simplify(corrected[0] - corrected[1])})")
    diff = sp.simplify(w_lhs - w_rhs)
    _report(claim, "corrected", what, method,
            f"written line is off by {sp.sstr(diff)}{symbolic.counterexample(w_lhs, w_rhs)}; "
            "corrected line lhs - rhs = 0")
    return diff


# --------------------------------------------------------------------------- numeric


def check_close(claim: str, actual, expected, what: str, *, tol: float,
                method: str = "torch float64", verdict: str = "holds") -> None:
    """Assert max|actual - expected| < tol and print the verdict line with the bound met."""
    _check_tol(tol)
    err = max_abs_diff(actual, expected)
    if not err < tol:
        raise AssertionError(f"{claim}: {what}: max|Δ| = {err:.3g} exceeds tolerance "
                             f"{_fmt(tol)} ({method})")
    _report(claim, verdict, what, method, f"max|Δ| < {_fmt(tol)}")


def check_corrected_close(claim: str, what: str, written, corrected, expected, *,
                          tol: float, method: str = "torch float64") -> float:
    """The sheet's value `written` misses `expected`; the corrected value matches it.

    Asserts max|written - expected| >= 1000·tol (a real miss, not round-off) and
    max|corrected - expected| < tol; returns the written line's error.
    """
    _check_tol(tol)
    miss = max_abs_diff(written, expected)
    if not miss >= 1000 * tol:
        raise AssertionError(f"{claim}: the written line misses by only {miss:.3g} "
                             f"(< 1000 × tolerance {_fmt(tol)}): not shown to fail")
    err = max_abs_diff(corrected, expected)
    if not err < tol:
        raise AssertionError(f"{claim}: corrected line: max|Δ| = {err:.3g} exceeds tolerance "
                             f"{_fmt(tol)} ({method})")
    _report(claim, "corrected", what, method,
            f"written line misses by > {_fmt(_floor_pow10(miss))}; corrected max|Δ| < {_fmt(tol)}")
    return miss


def _floor_pow10(x: float) -> float:
    """Largest power of ten <= x: a bound on a large miss that is stable across machines."""
    if not (np.isfinite(x) and x > 0):
        return float("inf") if x == float("inf") else 0.0
    return float(10.0 ** np.floor(np.log10(x)))


# --------------------------------------------------------------------------- conditions


def check_condition(claim: str, condition: bool, what: str, *, method: str, bound: str,
                    measured: str = "", verdict: str = "holds") -> None:
    """Assert a condition (a statistical bound, an inequality, a property) and print it.

    `bound` is what the line prints as met; `measured` goes into the error message only.
    """
    if not isinstance(condition, (bool, np.bool_)) and not (
            isinstance(condition, torch.Tensor) and condition.numel() == 1):
        raise ValueError(f"condition: expected a bool, got {type(condition).__name__}")
    if not bool(condition):
        detail = f", measured {measured}" if measured else ""
        raise AssertionError(f"{claim}: {what}: bound {bound} not met{detail} ({method})")
    _report(claim, verdict, what, method, bound)


def check_refined(claim: str, what: str, *, holds_under: bool, fails_without: bool,
                  method: str, bound: str) -> None:
    """A claim that is true only under a condition: assert it holds there and fails elsewhere."""
    if not bool(holds_under):
        raise AssertionError(f"{claim}: {what}: does not hold even under the condition "
                             f"({method}: {bound})")
    if not bool(fails_without):
        raise AssertionError(f"{claim}: {what}: no failure shown without the condition, "
                             "so 'refined' is not supported")
    _report(claim, "refined", what, method, bound)


# --------------------------------------------------------------------------- summary


def summary(claims: list[str] | None = None) -> str:
    """A plain-text table of the verdicts recorded so far (optionally only `claims`)."""
    rows = [r for r in RECORD if claims is None or r[0] in claims]
    if claims is not None:
        missing = [c for c in claims if c not in {r[0] for r in rows}]
        if missing:
            raise AssertionError(f"no verdict recorded for {missing}")
    lines = [f"{'claim':<6} | {'verdict':<9} | what was checked", f"{'-' * 6}-+-{'-' * 9}-+-{'-' * 40}"]
    lines += [f"{c:<6} | {v:<9} | {w}" for c, v, w, _, _ in rows]
    return "\n".join(lines)


def parse_verdicts(text: str) -> list[tuple[str, str, str]]:
    """(claim, verdict, rest) for each verdict line found in printed text."""
    out = []
    for line in text.splitlines():
        m = VERDICT_LINE.match(line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out

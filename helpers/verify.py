"""Claim checks: each one asserts, shows that it can fail, then prints exactly one verdict line.

A verdict line reads
``<ID>  <verdict>  <what was checked>  (<method>: <bound met>; control: <wrong line> rejected, <gap>)``.

Every check compares two independent computations, and runs its *controls* (the plausible
wrong variants of the line: a sign flipped, y_w and y_l swapped, β dropped, ...) through the
same comparison with the same tolerance: each control must be rejected, or the check raises.
Only bounds met are printed, never raw round-off, so stored notebook outputs are the same on
every machine. A failed check raises ``AssertionError`` naming the claim, the tolerance and
the measured error; a control that is not rejected raises naming the claim and the control.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp
import torch

from helpers import symbolic

VERDICTS = ("holds", "corrected", "refined")
CLAIM_ID_PATTERN = r"C\d+\.\d+[a-z]?"
CLAIM_ID = re.compile(rf"^{CLAIM_ID_PATTERN}$")
VERDICT_LINE = re.compile(rf"^({CLAIM_ID_PATTERN})\s{{2,}}(holds|corrected|refined)\s{{2,}}(.*)$")

_IDENTICAL = "sympy: both computations built the same expression"

# The verdicts printed in this process, by claim: re-running a cell replaces its row.
RECORD: dict[str, tuple[str, str, str, str, str]] = {}


def verdict_line(claim: str, verdict: str, what: str, method: str, bound: str) -> str:
    """Format one verdict line (without printing or recording it)."""
    if not isinstance(claim, str) or not CLAIM_ID.match(claim):
        raise ValueError(f"claim: expected an ID like 'C1.2' or 'C3.2a', got {claim!r}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict: expected one of {VERDICTS}, got {verdict!r}")
    return f"{claim:<6}  {verdict:<9}  {what}  ({method}: {bound})"


def _report(claim: str, verdict: str, what: str, method: str, bound: str,
            controls: list[str], basis: str | None) -> None:
    if not controls:
        raise ValueError(f"controls: {claim} needs at least one control (a wrong variant that the "
                         "same comparison rejects), got none")
    method = f"{basis}; {method}" if basis else method
    bound = "; ".join([bound] + [f"control: {c}" for c in controls])
    line = verdict_line(claim, verdict, what, method, bound)
    RECORD[claim] = (claim, verdict, what, method, bound)
    print(line)


def _fmt(x: float) -> str:
    """1e-12, 5e-3, 1, 1e3: one significant digit, no zero-padded exponent."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return mantissa if int(exponent) == 0 else f"{mantissa}e{int(exponent)}"


def _floor_pow10(x: float) -> float:
    """Largest power of ten <= x: a bound on a large gap that is stable across machines."""
    if not (np.isfinite(x) and x > 0):
        return float("inf") if x == float("inf") else 0.0
    return float(10.0 ** np.floor(np.log10(x)))


def _as_tensor(x) -> torch.Tensor:
    return torch.as_tensor(x, dtype=torch.float64).detach().cpu()


def max_abs_diff(actual, expected) -> float:
    """max |actual - expected| over all entries, as a float (tensors, arrays or numbers)."""
    a, b = _as_tensor(actual), _as_tensor(expected)
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
    if not (isinstance(tol, (int, float)) and not isinstance(tol, bool) and np.isfinite(tol)
            and tol > 0):
        raise ValueError(f"tol: expected a finite number > 0, got {tol!r}")


def _check_controls(controls: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if controls is None:
        return {}
    if not isinstance(controls, Mapping) or not all(isinstance(k, str) and k for k in controls):
        raise ValueError(f"controls: expected a mapping from a label (the wrong line, in words) to "
                         f"its value, got {type(controls).__name__}")
    return controls


def _require_two_computations(actual, expected) -> None:
    """ValueError when both sides are one object (or one tensor's memory): nothing is compared."""
    same = actual is expected
    if isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor):
        same = same or (actual.data_ptr() == expected.data_ptr() and actual.shape == expected.shape
                        and actual.stride() == expected.stride() and actual.numel() > 0)
    if same:
        raise ValueError("actual, expected: the two sides are the same object; a check compares "
                         "two independent computations")


def _same_expression(lhs, rhs) -> bool:
    """True when the two sides are one expression once sympy built them.

    sympy caches what it builds, so two independent computations that reach the same tree
    (sympy.stats and the integral written out, say) may even be one object. Such a check is not
    refused but flagged in its verdict line: the agreement is real, but sympy decided it as it
    built the expressions, not the comparison.
    """
    return sp.sympify(lhs) == sp.sympify(rhs)


def as_bool(name: str, value) -> bool:
    """A condition as a Python bool: bool, numpy bool or a one-element torch bool tensor.

    Anything else (a float tensor, NaN, a number) is a ValueError naming `name`: a condition
    is a comparison's result, never a value that happens to be truthy.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.dtype == torch.bool and value.numel() == 1:
        return bool(value)
    shown = (f"a {value.dtype} tensor of shape {tuple(value.shape)}"
             if isinstance(value, torch.Tensor) else repr(value))
    raise ValueError(f"{name}: expected a bool (a comparison's result), got {shown}")


# --------------------------------------------------------------------------- exercise answers


def expect_tensor(answer, shape: tuple[int, ...], what: str = "your answer",
                  dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The check an exercise's test cell runs first: `answer` is a `dtype` tensor of `shape`.

    AssertionError in words a student can act on ("expected a float64 tensor of shape (4,), got
    a list"), instead of torch's "Float did not match Double" further down. Returns the answer.
    """
    def described(x) -> str:
        if isinstance(x, torch.Tensor):
            return f"a {str(x.dtype).removeprefix('torch.')} tensor of shape {tuple(x.shape)}"
        return "None" if x is None else f"a {type(x).__name__}"

    wanted = f"a {str(dtype).removeprefix('torch.')} tensor of shape {tuple(shape)}"
    if not (isinstance(answer, torch.Tensor) and answer.dtype == dtype
            and tuple(answer.shape) == tuple(shape)):
        raise AssertionError(f"{what}: expected {wanted}, got {described(answer)}")
    if answer.is_floating_point() and not torch.isfinite(answer).all():
        raise AssertionError(f"{what}: expected finite values, got NaN or inf")
    return answer


def expect_number(answer, what: str = "your answer") -> float:
    """The check an exercise's test cell runs on a scalar answer: a real number (not a bool).

    Accepts Python and numpy numbers and one-element float tensors; AssertionError in words a
    student can act on otherwise ("expected a number, got None"). Returns it as a float.
    """
    if isinstance(answer, torch.Tensor) and answer.numel() == 1 and answer.is_floating_point():
        answer = answer.item()
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, float, np.integer, np.floating)):
        shown = "None" if answer is None else f"a {type(answer).__name__}"
        raise AssertionError(f"{what}: expected a number, got {shown}")
    if not np.isfinite(float(answer)):
        raise AssertionError(f"{what}: expected a finite number, got {answer!r}")
    return float(answer)


# --------------------------------------------------------------------------- silent asserts
# For the supporting steps of a claim: they assert (with a clear message) but print nothing,
# so each claim still ends in exactly one verdict line.


def assert_equal(lhs, rhs, what: str) -> str:
    """Assert sympy lhs = rhs (AssertionError naming `what`); return the method that decided."""
    same = _same_expression(lhs, rhs)
    ok, method = symbolic.equal(lhs, rhs)
    if not ok:
        raise AssertionError(f"{what}: sympy finds lhs - rhs ≠ 0{symbolic.counterexample(lhs, rhs)}")
    return _IDENTICAL if same else method


def assert_close(actual, expected, what: str, *, tol: float) -> str:
    """Assert max|actual - expected| < tol (AssertionError naming `what`); return the bound."""
    _check_tol(tol)
    _require_two_computations(actual, expected)
    err = max_abs_diff(actual, expected)
    if not err < tol:
        raise AssertionError(f"{what}: max|Δ| = {err:.3g} exceeds tolerance {_fmt(tol)}")
    return f"max|Δ| < {_fmt(tol)}"


# --------------------------------------------------------------------------- controls


def _symbolic_controls(claim: str, lhs, controls: Mapping[str, Any]) -> list[str]:
    """Each control is a wrong right-hand side: sympy must find lhs ≠ control."""
    out = []
    for label, wrong in _check_controls(controls).items():
        ok, _ = symbolic.equal(lhs, wrong)
        if ok:
            raise AssertionError(f"{claim}: control '{label}' was not rejected: sympy finds it "
                                 "equal too, so the check cannot tell it from the right line")
        out.append(f"{label} rejected{symbolic.counterexample(lhs, wrong)}")
    return out


def _numeric_controls(claim: str, expected, controls: Mapping[str, Any], tol: float) -> list[str]:
    """Each control is a wrong value: max|control - expected| must reach tol."""
    out = []
    for label, wrong in _check_controls(controls).items():
        gap = max_abs_diff(wrong, expected)
        if not gap >= tol:
            raise AssertionError(f"{claim}: control '{label}' was not rejected: max|Δ| = {gap:.3g}, "
                                 f"within the tolerance {_fmt(tol)}")
        out.append(f"{label} rejected, max|Δ| > {_fmt(max(_floor_pow10(gap), tol))}")
    return out


def _condition_controls(claim: str, controls: Mapping[str, Any]) -> list[str]:
    """Each control is the condition evaluated on a wrong variant: it must be False.

    A value may be a bool or (bool, "the gap in words, e.g. 'P > 0.3'").
    """
    out = []
    for label, value in _check_controls(controls).items():
        value, gap = value if isinstance(value, tuple) else (value, "")
        if as_bool(f"controls[{label!r}]", value):
            raise AssertionError(f"{claim}: control '{label}' was not rejected: the condition "
                                 "holds for it too")
        out.append(f"{label} rejected" + (f", {gap}" if gap else ""))
    return out


# --------------------------------------------------------------------------- symbolic


def check_equal(claim: str, lhs, rhs, what: str, *, controls: Mapping[str, Any] | None = None,
                verdict: str = "holds", basis: str | None = None) -> None:
    """Assert the sympy expressions lhs and rhs are equal; each control (a wrong rhs) is not.

    `basis` ("by definition", "by linearity") says when the line is true for a reason that
    needs no computation; the controls still show what a wrong line would look like.
    """
    same = _same_expression(lhs, rhs)
    ok, method = symbolic.equal(lhs, rhs)
    method = _IDENTICAL if same else method
    if not ok:
        raise AssertionError(f"{claim}: {what}: sympy finds lhs - rhs ≠ 0"
                             f"{symbolic.counterexample(lhs, rhs)}")
    done = _symbolic_controls(claim, lhs, controls or {})
    _report(claim, verdict, what, method, "lhs - rhs = 0", done, basis)


def check_corrected(claim: str, what: str, written: tuple, corrected: tuple, *, off_by,
                    controls: Mapping[str, Any] | None = None) -> sp.Expr:
    """The sheet's line `written = (lhs, rhs)` is false, `corrected = (lhs, rhs)` is true, and
    the written line misses by `off_by`: its lhs − rhs, as the notebook states it.

    The written line is the first control: the comparison that accepts the corrected line
    rejects it. sympy must find the written line's lhs − rhs equal to `off_by`. `controls` are
    further wrong right-hand sides for the corrected lhs. Prints a `corrected` verdict line and
    returns `off_by`.
    """
    w_lhs, w_rhs = written
    same = _same_expression(*corrected)
    ok, _ = symbolic.equal(w_lhs, w_rhs)
    if ok:
        raise AssertionError(f"{claim}: the written line {w_lhs} = {w_rhs} holds; "
                             "it is not a slip, so 'corrected' is the wrong verdict")
    ok, method = symbolic.equal(*corrected)
    method = _IDENTICAL if same else method
    if not ok:
        raise AssertionError(f"{claim}: the corrected line {corrected[0]} = {corrected[1]} "
                             f"does not hold either{symbolic.counterexample(*corrected)}")
    if not symbolic.equal(w_lhs - w_rhs, off_by)[0]:
        raise AssertionError(f"{claim}: the written line is off by {sp.sstr(w_lhs - w_rhs)}, "
                             f"not by {sp.sstr(off_by)}{symbolic.counterexample(w_lhs - w_rhs, off_by)}")
    done = [f"the written line rejected, off by {sp.sstr(off_by)}"
            f"{symbolic.counterexample(w_lhs, w_rhs)}"]
    done += _symbolic_controls(claim, corrected[0], controls or {})
    _report(claim, "corrected", what, method, "corrected line lhs - rhs = 0", done, None)
    return sp.sympify(off_by)


# --------------------------------------------------------------------------- numeric


def check_close(claim: str, actual, expected, what: str, *, tol: float,
                controls: Mapping[str, Any] | None = None, method: str = "torch float64",
                verdict: str = "holds", basis: str | None = None) -> None:
    """Assert max|actual - expected| < tol; each control (a wrong value) misses by >= tol."""
    _check_tol(tol)
    _require_two_computations(actual, expected)
    err = max_abs_diff(actual, expected)
    if not err < tol:
        raise AssertionError(f"{claim}: {what}: max|Δ| = {err:.3g} exceeds tolerance "
                             f"{_fmt(tol)} ({method})")
    done = _numeric_controls(claim, expected, controls or {}, tol)
    _report(claim, verdict, what, method, f"max|Δ| < {_fmt(tol)}", done, basis)


def check_corrected_close(claim: str, what: str, written, corrected, expected, *,
                          tol: float, method: str = "torch float64",
                          controls: Mapping[str, Any] | None = None) -> float:
    """The sheet's value `written` misses `expected`; the corrected value matches it.

    Asserts max|corrected - expected| < tol and max|written - expected| >= 1000·tol (a real
    miss, not round-off): the written line is the first control. Returns its error.
    """
    _check_tol(tol)
    _require_two_computations(corrected, expected)
    miss = max_abs_diff(written, expected)
    if not miss >= 1000 * tol:
        raise AssertionError(f"{claim}: the written line misses by only {miss:.3g} "
                             f"(< 1000 × tolerance {_fmt(tol)}): not shown to fail")
    err = max_abs_diff(corrected, expected)
    if not err < tol:
        raise AssertionError(f"{claim}: corrected line: max|Δ| = {err:.3g} exceeds tolerance "
                             f"{_fmt(tol)} ({method})")
    done = [f"the written line rejected, misses by > {_fmt(_floor_pow10(miss))}"]
    done += _numeric_controls(claim, expected, controls or {}, tol)
    _report(claim, "corrected", what, method, f"corrected max|Δ| < {_fmt(tol)}", done, None)
    return miss


# --------------------------------------------------------------------------- conditions


def check_condition(claim: str, condition, what: str, *, method: str, bound: str,
                    controls: Mapping[str, Any] | None = None, measured: str = "", verdict: str = "holds",
                    basis: str | None = None) -> None:
    """Assert a condition (a statistical bound, an inequality, a property) and print it.

    `condition` is a bool (see `as_bool`); each control is the same condition evaluated on a
    wrong variant, and must be False. `bound` is what the line prints as met; `measured` goes
    into the error message only.
    """
    if not as_bool("condition", condition):
        detail = f", measured {measured}" if measured else ""
        raise AssertionError(f"{claim}: {what}: bound {bound} not met{detail} ({method})")
    done = _condition_controls(claim, controls or {})
    _report(claim, verdict, what, method, bound, done, basis)


def check_refined(claim: str, what: str, *, holds_under, fails_without,
                  without: str = "without the condition", method: str, bound: str,
                  controls: Mapping[str, Any] | None = None) -> None:
    """A claim that is true only under a condition: assert it holds there and fails elsewhere.

    `without` names the case where the condition is dropped (the control: the claim is
    rejected there); `controls` may add further rejected variants as in `check_condition`.
    """
    if not as_bool("holds_under", holds_under):
        raise AssertionError(f"{claim}: {what}: does not hold even under the condition "
                             f"({method}: {bound})")
    if not as_bool("fails_without", fails_without):
        raise AssertionError(f"{claim}: {what}: no failure shown without the condition "
                             f"({without}), so 'refined' is not supported")
    done = [f"{without}: the claim rejected"] + _condition_controls(claim, controls or {})
    _report(claim, "refined", what, method, bound, done, None)


# --------------------------------------------------------------------------- summary


def summary(claims: list[str] | None = None) -> str:
    """A plain-text table of the verdicts recorded so far (optionally only `claims`)."""
    rows = [r for c, r in RECORD.items() if claims is None or c in claims]
    if claims is not None:
        missing = [c for c in claims if c not in RECORD]
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

"""sympy building blocks: the sigmoid, log-sigmoid, policy symbols, and an equality test."""

from __future__ import annotations

import random

import sympy as sp

# Points at which expressions are compared when algebra cannot decide; chosen away from 0.
_PROBE_POINTS = [sp.Rational(1, 3), sp.Rational(7, 10), sp.Rational(3, 2), sp.Rational(5, 2)]


def sigmoid(z: sp.Expr) -> sp.Expr:
    """σ(z) = 1 / (1 + e^(−z))."""
    return 1 / (1 + sp.exp(-z))


def log_sigmoid(z: sp.Expr) -> sp.Expr:
    """log σ(z) = −log(1 + e^(−z))."""
    return -sp.log(1 + sp.exp(-z))


def positive_symbols(names: str) -> tuple[sp.Symbol, ...]:
    """Real, positive symbols (probabilities, β, Z) from a space-separated string."""
    out = sp.symbols(names, positive=True)
    return out if isinstance(out, tuple) else (out,)


def real_symbols(names: str) -> tuple[sp.Symbol, ...]:
    """Real symbols (rewards, logits) from a space-separated string."""
    out = sp.symbols(names, real=True)
    return out if isinstance(out, tuple) else (out,)


def probability_vector(name: str, k: int) -> list[sp.Symbol]:
    """k positive symbols name_0..name_{k-1}; the caller adds the sum-to-one constraint."""
    if not (isinstance(k, int) and k >= 1):
        raise ValueError(f"k: expected an integer >= 1, got {k!r}")
    return list(sp.symbols(f"{name}_0:{k}", positive=True))


def _free(expr: sp.Expr) -> list[sp.Symbol]:
    return sorted(sp.sympify(expr).free_symbols, key=lambda s: s.name)


def _numerically_equal(lhs: sp.Expr, rhs: sp.Expr, trials: int = 20, tol: float = 1e-10) -> bool:
    """lhs = rhs at `trials` seeded random points (each symbol in [0.1, 3]), to `tol`."""
    diff = sp.sympify(lhs - rhs)
    symbols = _free(diff)
    rng = random.Random(0)
    for _ in range(trials):
        point = {s: sp.Float(rng.uniform(0.1, 3.0), 30) for s in symbols}
        value = complex(diff.evalf(30, subs=point))
        if abs(value) > tol:
            return False
    return True


def equal(lhs, rhs) -> tuple[bool, str]:
    """Decide lhs = rhs; return (verdict, method used).

    Tries, in order: ``simplify``, rewriting in exponentials then ``simplify``, expanding
    logarithms, and as a last resort evaluation at 20 seeded random points (said in the method).
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    diff = lhs - rhs
    if sp.simplify(diff) == 0:
        return True, "sympy simplify"
    if sp.simplify(diff.rewrite(sp.exp)) == 0:
        return True, "sympy rewrite(exp) + simplify"
    if sp.simplify(sp.expand_log(diff, force=True)) == 0:
        return True, "sympy expand_log + simplify"
    if not diff.free_symbols:
        return (abs(complex(diff.evalf(30))) < 1e-25), "sympy evalf (30 digits)"
    if _numerically_equal(lhs, rhs):
        return True, "sympy at 20 random points, |Δ| < 1e-10"
    return False, "sympy"


def counterexample(lhs, rhs) -> str:
    """', e.g. at z=1/3: lhs − rhs ≈ 0.1234' for the first simple point where they differ."""
    diff = sp.sympify(lhs - rhs)
    symbols = _free(diff)
    for value in _PROBE_POINTS:
        point = dict.fromkeys(symbols, value)
        try:
            number = complex(diff.evalf(30, subs=point))
        except (TypeError, ValueError):
            continue
        if abs(number) > 1e-6:
            where = ", ".join(f"{s}={value}" for s in symbols)
            shown = f"{number.real:.4g}" if abs(number.imag) < 1e-12 else f"{number:.4g}"
            return f", e.g. at {where}: lhs - rhs ≈ {shown}" if where else f" ≈ {shown}"
    return ""

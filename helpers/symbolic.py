"""sympy building blocks: the sigmoid, log-sigmoid, policy symbols, and an equality test."""

from __future__ import annotations

import random

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction


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


# Magnitudes at which an identity is probed: near 0, moderate and large, so that a rewrite
# that holds only on part of a symbol's domain (|x| = x, log(x²) = 2 log x) is caught.
_MAGNITUDES = (sp.Rational(1, 3), sp.Rational(7, 10), sp.Rational(3, 2), sp.Rational(5, 2),
               sp.Rational(1, 1000), sp.Integer(7), sp.Integer(40))
_N_RANDOM = 12


def domain_points(symbol: sp.Symbol, rng: random.Random) -> list[sp.Expr]:
    """Probe values covering `symbol`'s whole domain as its assumptions state it.

    positive → (0, ∞); nonnegative adds 0; negative / nonpositive mirror them; real → both
    signs and 0; integer → integers of those signs; no assumption → real and complex values.
    Fixed magnitudes near 0, moderate and large, then seeded random ones.
    """
    mags = list(_MAGNITUDES) + [sp.Rational(str(round(rng.uniform(0.01, 30.0), 3))) for _ in range(_N_RANDOM)]
    if symbol.is_integer:
        mags = sorted({sp.Integer(max(1, int(m))) for m in mags})
    if symbol.is_positive:
        return mags
    if symbol.is_nonnegative:
        return [sp.Integer(0)] + mags
    if symbol.is_negative:
        return [-m for m in mags]
    if symbol.is_nonpositive:
        return [sp.Integer(0)] + [-m for m in mags]
    signed = [v for m in mags for v in (m, -m)] + [sp.Integer(0)]
    if symbol.is_real:
        return signed
    return signed + [m * sp.I for m in mags[:4]] + [m * (1 + sp.I) for m in mags[:4]]


def _probes(symbols: list[sp.Symbol], seed: int = 0) -> list[dict[sp.Symbol, sp.Expr]]:
    """Points at which to compare two expressions: the first symbol runs through its domain
    points in order, the others through theirs in a seeded shuffled order."""
    rng = random.Random(seed)
    values = {s: domain_points(s, rng) for s in symbols}
    for v in list(values.values())[1:]:
        rng.shuffle(v)
    n = max((len(v) for v in values.values()), default=0)
    return [{s: v[i % len(v)] for s, v in values.items()} for i in range(n)]


def _value(expr: sp.Expr, point: dict) -> complex | None:
    """expr at point (50 digits) as a complex number, or None where it is undefined there.

    The exact point values are put in first (xreplace), then the number is evaluated: the same
    digits as evalf(subs=point), at about a third of the cost. Where expr is undefined, xreplace gives
    zoo or nan, which are turned down below.
    """
    try:
        number = complex(expr.xreplace(point).evalf(50))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if number != number or abs(number) == float("inf"):  # NaN or an infinity
        return None
    return number


def _compare(lhs: sp.Expr, rhs: sp.Expr, tol: float = 1e-10,
             max_points: int | None = None) -> tuple[int, tuple[dict, complex] | None]:
    """(how many probe points both sides are defined at, the first point where they differ or None).

    The points range over the symbols of lhs and of rhs together: a symbol that cancels in
    lhs − rhs is still given values, so both sides can be evaluated.
    """
    symbols = sorted(lhs.free_symbols | rhs.free_symbols, key=lambda s: s.name)
    compared = 0
    for point in _probes(symbols)[:max_points]:
        a, b = _value(lhs, point), _value(rhs, point)
        if a is None or b is None:
            continue
        compared += 1
        if abs(a - b) > tol * (1 + abs(a) + abs(b)):
            return compared, (point, a - b)
    return compared, None


def _cancels(diff: sp.Expr) -> bool:
    """True if diff's numerator, over one common denominator, expands to 0.

    The cheap canonical form that decides most identities of the course (rational functions of
    exponentials, logs and powers); every step is valid for all values the assumptions allow.
    The fractions are put over one denominator as written first (cheaper, and enough for most
    lines), then again after expanding diff, which splits e^(a+b) into e^a e^b in denominators too.
    """
    def numerator_expands_to_0(expr: sp.Expr) -> bool:
        return sp.expand(sp.numer(sp.together(expr))) == 0

    return numerator_expands_to_0(diff) or numerator_expands_to_0(sp.expand(diff))


def _negated_softplus(expr: sp.Expr) -> sp.Expr | None:
    """x if expr is log(1 + e^(−x)) with x real, else None."""
    if not (isinstance(expr, sp.log) and expr.args[0].is_Add and len(expr.args[0].args) == 2):
        return None
    one, e = sorted(expr.args[0].args, key=lambda a: not a.is_number)
    if one != 1 or not isinstance(e, sp.exp) or not e.args[0].could_extract_minus_sign():
        return None
    x = -e.args[0]
    return x if x.is_real else None


def _softplus_one_way(expr: sp.Expr) -> sp.Expr:
    """Every log(1 + e^(−x)) with x real written log(1 + e^x) − x (the same number: 1 + e^(−x) =
    e^(−x)(1 + e^x) with both factors positive), so that σ(x) and σ(−x) meet in one form."""
    return expr.replace(lambda e: _negated_softplus(e) is not None,
                        lambda e: sp.log(1 + sp.exp(_negated_softplus(e))) - _negated_softplus(e))


# The forms of lhs − rhs that _cancels tries, in order, each with the method it reports.
_CANCELLING_FORMS = [
    ("sympy together + expand", lambda diff: diff),
    ("sympy log(1 + e^-x) = log(1 + e^x) - x, together + expand",
     lambda diff: _softplus_one_way(sp.expand_log(diff))),
    ("sympy rewrite(exp), together + expand", lambda diff: diff.rewrite(sp.exp)),
]


def equal(lhs, rhs) -> tuple[bool, str]:
    """Decide lhs = rhs for every value the symbols' assumptions allow; return (verdict, method).

    A quick look first: if the two sides differ at one of the first probe points, they are not
    equal (a wrong line usually shows at once, before any slow rewriting). Then algebra, with
    rewrites the assumptions allow and no more: the numerator over a common denominator,
    expanded (cheap, and enough for most lines; again after writing each log(1 + e^(−x)) as
    log(1 + e^x) − x, and after rewriting tanh, cosh, ... in exponentials, which comes first
    when such functions appear), then ``simplify``, also after rewriting in exponentials or
    expanding logarithms (never ``force=True``). If none reaches 0, the two sides are compared
    at points covering each symbol's whole domain (both signs, near 0 and large for a real
    symbol): a difference there decides "not equal"; agreement at every point decides "equal",
    and the method says so.
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    diff = lhs - rhs
    if not diff.free_symbols:
        value = _value(diff, {})
        return (value is not None and abs(value) < 1e-25), "sympy evalf (50 digits)"
    if _compare(lhs, rhs, max_points=3)[1] is not None:  # a wrong line usually shows at once
        return False, "sympy counterexample on the symbols' domain"
    forms = list(_CANCELLING_FORMS)
    if diff.has(HyperbolicFunction, TrigonometricFunction):  # tanh, cos, ...: in exponentials first
        forms.insert(0, forms.pop())
    for method, form in forms:
        if _cancels(form(diff)):
            return True, method
    if sp.simplify(diff) == 0:
        return True, "sympy simplify"
    if sp.simplify(diff.rewrite(sp.exp)) == 0:
        return True, "sympy rewrite(exp) + simplify"
    if sp.simplify(sp.expand_log(diff)) == 0:
        return True, "sympy expand_log + simplify"
    compared, found = _compare(lhs, rhs)
    if found is not None:
        return False, "sympy counterexample on the symbols' domain"
    if compared < 10:
        return False, f"undecided: algebra fails and only {compared} probe points could be evaluated"
    return True, f"sympy at {compared} points over the symbols' domain, |Δ| < 1e-10 (algebra undecided)"


def counterexample(lhs, rhs) -> str:
    """', e.g. at z=-7: lhs − rhs ≈ 14' for the first probe point where they differ, else ''."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if not (lhs - rhs).free_symbols:
        value = _value(lhs - rhs, {})
        return "" if value is None or abs(value) < 1e-25 else f" ≈ {_show(value)}"
    _, found = _compare(lhs, rhs)
    if found is None:
        return ""
    point, value = found
    where = ", ".join(f"{s}={v}" for s, v in point.items())
    return f", e.g. at {where}: lhs - rhs ≈ {_show(value)}"


def _show(number: complex) -> str:
    return f"{number.real:.4g}" if abs(number.imag) < 1e-12 else f"{number:.4g}"

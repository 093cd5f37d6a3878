import pytest
import sympy as sp

from helpers import symbolic

z = sp.Symbol("z", real=True)
x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)
n = sp.Symbol("n", integer=True)


def test_sigmoid_and_log_sigmoid_against_numbers():
    for value in (-3.0, 0.0, 0.5, 4.0):
        s = float(symbolic.sigmoid(z).subs(z, value))
        assert s == pytest.approx(1 / (1 + 2.718281828459045 ** -value))
        assert float(symbolic.log_sigmoid(z).subs(z, value)) == pytest.approx(sp.log(s))


def test_equal_true_and_false():
    assert symbolic.equal(sp.sin(z) ** 2 + sp.cos(z) ** 2, 1)[0]
    assert not symbolic.equal(z, z + 1)[0]
    s = symbolic.sigmoid(z)
    assert symbolic.equal(sp.diff(symbolic.log_sigmoid(z), z), 1 - s)[0]
    assert symbolic.equal(1 - s, symbolic.sigmoid(-z))[0]


@pytest.mark.parametrize(("lhs", "rhs"), [
    (sp.Abs(x), x),
    (sp.Max(x, 0), x),
    (sp.sqrt(x**2), x),
    (sp.log(x**2), 2 * sp.log(x)),
    (sp.log(x * z), sp.log(x) + sp.log(z)),
    (sp.sqrt(x * z), sp.sqrt(x) * sp.sqrt(z)),
    ((x**2) ** sp.Rational(1, 2) * sp.sign(x), sp.Abs(x)),
    (sp.atan(sp.tan(x)), x),
    (sp.Min(x, 1), 1),
    (sp.Heaviside(x) * x, x),
    ((-1) ** n, 1),
    (sp.Abs(sp.Symbol("c")), sp.Symbol("c")),  # no assumption: complex values are probed too
])
def test_identities_that_hold_only_on_part_of_the_domain_do_not_hold(lhs, rhs):
    ok, method = symbolic.equal(lhs, rhs)
    assert not ok, method
    assert "e.g. at" in symbolic.counterexample(lhs, rhs)


def test_the_same_identities_hold_where_the_assumptions_allow_them():
    assert symbolic.equal(sp.Abs(p), p)[0]
    assert symbolic.equal(sp.log(p**2), 2 * sp.log(p))[0]
    assert symbolic.equal(sp.Max(p, 0), p)[0]


def test_equal_says_which_method_decided():
    assert symbolic.equal(sp.log(p**2), 2 * sp.log(p))[1].startswith("sympy")
    assert symbolic.equal(sp.Abs(x), x)[1] == "sympy counterexample on the symbols' domain"


def test_a_common_denominator_decides_rational_identities_in_exponentials():
    sig = symbolic.sigmoid(z)
    assert symbolic.equal(sp.diff(sig, z), sig * (1 - sig)) == (True, "sympy together + expand")
    assert symbolic.equal(sp.exp(z) / (1 + sp.exp(z)), sig) == (True, "sympy together + expand")
    assert not symbolic.equal(sp.diff(sig, z), 1 - sig)[0]
    # tanh, sin, cos, ... written in exponentials, then a common denominator
    rewrite = "sympy rewrite(exp), together + expand"
    assert symbolic.equal(sp.sin(z) ** 2 + sp.cos(z) ** 2, 1) == (True, rewrite)
    assert symbolic.equal(sp.tanh(z / 2), sig - symbolic.sigmoid(-z)) == (True, rewrite)
    assert not symbolic.equal(sp.tanh(z / 2), sig - symbolic.sigmoid(z / 2))[0]
    # an identity that needs more than that still reaches simplify
    assert symbolic.equal(sp.gamma(z + 1), z * sp.gamma(z)) == (True, "sympy simplify")


def test_softplus_is_written_one_way_only_for_real_exponents():
    u = sp.Symbol("u")  # no assumption: complex values allowed, the rewrite is not applied
    rule = "sympy log(1 + e^-x) = log(1 + e^x) - x, together + expand"
    assert symbolic.equal(sp.log(1 + sp.exp(-z)), sp.log(1 + sp.exp(z)) - z) == (True, rule)
    assert not symbolic.equal(sp.log(1 + sp.exp(-z)), sp.log(1 + sp.exp(z)) + z)[0]
    assert symbolic.equal(sp.log(1 + sp.exp(-u)), sp.log(1 + sp.exp(u)) - u)[1] != rule
    # −H(σ(z), σ(−z)) = −log(1 + e^−z) − z σ(−z): log σ(z) and log σ(−z) meet in one form
    sig, sig_neg = symbolic.sigmoid(z), symbolic.sigmoid(-z)
    assert symbolic.equal(sig * sp.log(sig) + sig_neg * sp.log(sig_neg),
                          -sp.log(1 + sp.exp(-z)) - z * sig_neg) == (True, rule)


def test_domain_points_follow_the_assumptions():
    import random
    rng = random.Random(0)
    assert all(v > 0 for v in symbolic.domain_points(p, rng))
    real = symbolic.domain_points(x, rng)
    assert min(real) < -10 and max(real) > 10 and 0 in real
    assert any(abs(v) < 0.01 and v != 0 for v in real)
    assert all(v.is_integer for v in symbolic.domain_points(n, rng))
    assert any(not v.is_real for v in symbolic.domain_points(sp.Symbol("c"), rng))


def test_counterexample_reports_a_point():
    text = symbolic.counterexample(z, z**2)
    assert "z=1/3" in text and "0.2222" in text
    assert symbolic.counterexample(z, z + 1) == " ≈ -1"  # z cancels: no symbol left
    assert symbolic.counterexample(z, z) == ""


def test_symbol_factories():
    a, b = symbolic.positive_symbols("a b")
    assert a.is_positive and b.is_positive
    (r,) = symbolic.real_symbols("r")
    assert r.is_real
    q = symbolic.probability_vector("q", 3)
    assert [s.name for s in q] == ["q_0", "q_1", "q_2"]
    with pytest.raises(ValueError, match="k"):
        symbolic.probability_vector("q", 0)


def test_a_symbol_that_cancels_in_the_difference_still_gets_values():
    u, v = sp.symbols("u v", real=True)
    base = u * sp.exp(sp.sin(v))
    lhs = base + sp.exp(sp.cos(x)) * sp.sin(x) ** 3
    rhs = base + sp.exp(sp.cos(x)) * sp.sin(x) ** 3 * (1 + sp.sin(x) ** 2 / 1000)
    assert not symbolic.equal(lhs, rhs)[0]


def test_equal_refuses_when_no_point_can_be_evaluated():
    ok, method = symbolic.equal(sp.Function("f")(x) * x, sp.Function("f")(x) * sp.Abs(x) + 0 * x)
    assert not ok and "undecided" in method


def test_value_is_none_where_an_expression_is_undefined():
    # the exact point goes in before the number is evaluated: a pole (zoo) or log 0 is undefined there
    zero = sp.Integer(0)
    assert symbolic._value(1 / x, {x: zero}) is None
    assert symbolic._value(sp.log(x), {x: zero}) is None
    assert symbolic._value(sp.sqrt(x), {x: sp.Integer(-4)}) == 2j
    assert abs(symbolic._value(sp.log(1 + sp.exp(-x)), {x: sp.Integer(-40)}) - 40) < 1e-15

import pytest
import sympy as sp

from helpers import symbolic

z = sp.Symbol("z", real=True)


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


def test_counterexample_reports_a_point():
    text = symbolic.counterexample(z, z**2)
    assert "z=1/3" in text and "0.2222" in text
    assert symbolic.counterexample(z, z + 1) == " ≈ -1"
    assert symbolic.counterexample(z, z) == ""


def test_symbol_factories():
    a, b = symbolic.positive_symbols("a b")
    assert a.is_positive and b.is_positive
    (r,) = symbolic.real_symbols("r")
    assert r.is_real
    p = symbolic.probability_vector("p", 3)
    assert [s.name for s in p] == ["p_0", "p_1", "p_2"]
    with pytest.raises(ValueError, match="k"):
        symbolic.probability_vector("p", 0)

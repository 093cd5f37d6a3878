import pytest
import sympy as sp
import torch

from helpers import verify
from helpers.symbolic import sigmoid

z = sp.Symbol("z", real=True)


def test_check_equal_prints_one_verdict_line(capsys):
    s = sigmoid(z)
    verify.check_equal("C9.1", sp.diff(s, z), s * (1 - s), "σ' = σ(1 − σ)")
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert verify.parse_verdicts(out[0])[0][:2] == ("C9.1", "holds")


def test_check_equal_raises_on_false_equality():
    s = sigmoid(z)
    with pytest.raises(AssertionError, match="C9.1"):
        verify.check_equal("C9.1", sp.diff(s, z), 1 - s, "the sheet's line")


def test_check_corrected_shows_the_difference(capsys):
    s = sigmoid(z)
    diff = verify.check_corrected("C9.2", "σ'", (sp.diff(s, z), 1 - s), (sp.diff(s, z), s * (1 - s)))
    assert sp.simplify(diff - (sp.diff(s, z) - (1 - s))) == 0
    line = capsys.readouterr().out
    assert line.startswith("C9.2    corrected  ") and "written line is off by" in line


def test_check_corrected_refuses_a_true_written_line():
    with pytest.raises(AssertionError, match="not a slip"):
        verify.check_corrected("C9.2", "x", (z + z, 2 * z), (z, z))


def test_check_corrected_refuses_a_false_correction():
    with pytest.raises(AssertionError, match="does not hold either"):
        verify.check_corrected("C9.2", "x", (z, z + 1), (z, z + 2))


def test_check_close_prints_the_bound_not_the_error(capsys):
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)
    verify.check_close("C9.3", a + 1e-15, a, "numbers", tol=1e-12)
    out = capsys.readouterr().out
    assert "max|Δ| < 1e-12" in out and "e-15" not in out


def test_check_close_raises_naming_claim_tolerance_and_error():
    with pytest.raises(AssertionError, match=r"C9\.3.*0\.001.*1e-12"):
        verify.check_close("C9.3", torch.tensor([1.001]), torch.tensor([1.0]), "x", tol=1e-12)


def test_check_close_fails_on_nan():
    with pytest.raises(AssertionError):
        verify.check_close("C9.3", torch.tensor([float("nan")]), torch.tensor([1.0]), "x", tol=1.0)


def test_check_corrected_close():
    exact = torch.tensor([0.5, 0.25])
    miss = verify.check_corrected_close("C9.4", "x", exact + 0.1, exact, exact, tol=1e-9)
    assert miss == pytest.approx(0.1)
    with pytest.raises(AssertionError, match="not shown to fail"):
        verify.check_corrected_close("C9.4", "x", exact + 1e-12, exact, exact, tol=1e-9)
    with pytest.raises(AssertionError, match="corrected line"):
        verify.check_corrected_close("C9.4", "x", exact + 0.1, exact + 1e-3, exact, tol=1e-9)


def test_check_condition_and_refined(capsys):
    verify.check_condition("C9.5", True, "a bound", method="Monte Carlo", bound="|z| < 3")
    verify.check_refined("C9.6", "x", holds_under=True, fails_without=True, method="m", bound="b")
    assert [v[1] for v in verify.parse_verdicts(capsys.readouterr().out)] == ["holds", "refined"]
    with pytest.raises(AssertionError, match="measured 4"):
        verify.check_condition("C9.5", False, "a bound", method="m", bound="|z| < 3", measured="4")
    with pytest.raises(AssertionError, match="no failure shown"):
        verify.check_refined("C9.6", "x", holds_under=True, fails_without=False, method="m",
                             bound="b")
    with pytest.raises(AssertionError, match="does not hold"):
        verify.check_refined("C9.6", "x", holds_under=False, fails_without=True, method="m",
                             bound="b")


def test_silent_asserts_print_nothing(capsys):
    assert verify.assert_equal(sp.exp(sp.log(z**2 + 1)), z**2 + 1, "x").startswith("sympy")
    assert verify.assert_close(torch.ones(2), torch.ones(2), "x", tol=1e-9) == "max|Δ| < 1e-9"
    assert capsys.readouterr().out == ""
    with pytest.raises(AssertionError, match="step one"):
        verify.assert_equal(z, z + 1, "step one")
    with pytest.raises(AssertionError, match="step two"):
        verify.assert_close(torch.ones(2), torch.zeros(2), "step two", tol=1e-9)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"claim": "C1"}, "claim"), ({"claim": "X1.2"}, "claim"), ({"verdict": "ok"}, "verdict")])
def test_verdict_line_rejects_bad_arguments(kwargs, name):
    args = {"claim": "C1.2", "verdict": "holds", "what": "w", "method": "m", "bound": "b"} | kwargs
    with pytest.raises(ValueError, match=name):
        verify.verdict_line(**args)


@pytest.mark.parametrize("tol", [0, -1.0, float("nan"), float("inf")])
def test_bad_tolerance_is_a_value_error(tol):
    with pytest.raises(ValueError, match="tol"):
        verify.check_close("C9.3", torch.ones(1), torch.ones(1), "x", tol=tol)


def test_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="shapes must match"):
        verify.max_abs_diff(torch.ones(2), torch.ones(3))


def test_summary_lists_recorded_claims_and_asserts_missing_ones():
    verify.check_condition("C9.7", True, "summary row", method="m", bound="b")
    assert "C9.7" in verify.summary(["C9.7"])
    with pytest.raises(AssertionError, match="C9.99"):
        verify.summary(["C9.99"])


def test_parse_verdicts_ignores_other_lines():
    text = "hello\nC1.2    holds      x  (m: b)\nC1.2 holds\n"
    assert verify.parse_verdicts(text) == [("C1.2", "holds", "x  (m: b)")]


def test_summary_rows_are_not_verdict_lines():
    verify.check_condition("C9.8", True, "row", method="m", bound="b")
    assert verify.parse_verdicts(verify.summary(["C9.8"])) == []

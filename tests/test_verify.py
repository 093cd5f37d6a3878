import numpy as np
import pytest
import sympy as sp
import torch

from helpers import verify
from helpers.symbolic import sigmoid

z = sp.Symbol("z", real=True)
ONE_CONTROL = {"the sign flipped": torch.tensor([-1.0, -2.0], dtype=torch.float64)}


def test_check_equal_prints_one_verdict_line_with_its_control(capsys):
    s = sigmoid(z)
    verify.check_equal("C9.1", sp.diff(s, z), s * (1 - s), "σ' = σ(1 − σ)",
                       controls={"σ' = 1 − σ": 1 - s})
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    claim, verdict, rest = verify.parse_verdicts(out[0])[0]
    assert (claim, verdict) == ("C9.1", "holds")
    assert "control: σ' = 1 − σ rejected" in rest


def test_check_equal_raises_on_false_equality():
    s = sigmoid(z)
    with pytest.raises(AssertionError, match="C9.1"):
        verify.check_equal("C9.1", sp.diff(s, z), 1 - s, "the sheet's line", controls={"x": s})


def test_a_control_that_is_not_rejected_raises_naming_claim_and_control():
    s = sigmoid(z)
    with pytest.raises(AssertionError, match=r"C9\.1.*control 'rewritten' was not rejected"):
        verify.check_equal("C9.1", sp.diff(s, z), s * (1 - s), "σ'",
                           controls={"rewritten": s - s**2})
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)
    with pytest.raises(AssertionError, match=r"C9\.3.*control 'tiny' was not rejected"):
        verify.check_close("C9.3", a + 1e-15, a, "numbers", tol=1e-12, controls={"tiny": a + 1e-13})
    with pytest.raises(AssertionError, match=r"C9\.5.*control 'wrong' was not rejected"):
        verify.check_condition("C9.5", True, "b", method="m", bound="b", controls={"wrong": True})


def test_a_check_without_control_is_refused():
    with pytest.raises(ValueError, match="controls"):
        verify.check_condition("C9.5", True, "b", method="m", bound="b")
    with pytest.raises(ValueError, match="controls"):
        verify.check_close("C9.3", torch.ones(1), torch.ones(1) + 0, "x", tol=1e-9)


def test_two_sides_from_one_object_are_refused():
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)
    with pytest.raises(ValueError, match="same object"):
        verify.check_close("C9.3", a, a, "x", tol=1e-9, controls=ONE_CONTROL)
    with pytest.raises(ValueError, match="same object"):
        verify.check_close("C9.3", a.view(2), a, "x", tol=1e-9, controls=ONE_CONTROL)


def test_two_computations_that_sympy_builds_alike_are_flagged(capsys):
    verify.check_equal("C9.1", sp.diff(z**2, z), 2 * z, "d/dz z²", controls={"z": z})
    expr = sp.diff(sigmoid(z), z)
    verify.check_equal("C9.2", expr, expr, "one object", controls={"z": z})
    out = capsys.readouterr().out
    assert out.count("(sympy: both computations built the same expression:") == 2


def test_conditions_must_be_booleans():
    for bad in (torch.tensor(float("nan")), torch.tensor(1.0), 1, "yes", None):
        with pytest.raises(ValueError, match="condition"):
            verify.check_condition("C9.5", bad, "b", method="m", bound="b", controls={"w": False})
    verify.check_condition("C9.5", torch.tensor(True), "b", method="m", bound="b",
                           controls={"w": np.bool_(False)})
    with pytest.raises(ValueError, match="holds_under"):
        verify.check_refined("C9.6", "x", holds_under=torch.tensor(float("nan")), fails_without=True,
                             without="w", method="m", bound="b")


def test_check_corrected_shows_the_written_line_as_its_control(capsys):
    s = sigmoid(z)
    off = verify.check_corrected("C9.2", "σ'", (sp.diff(s, z), 1 - s), (sp.diff(s, z), s * (1 - s)),
                                 off_by=-(1 - s) ** 2)
    assert off == -(1 - s) ** 2
    line = capsys.readouterr().out
    assert line.startswith("C9.2    corrected  ")
    assert f"control: the written line rejected, off by {sp.sstr(-(1 - s) ** 2)}" in line


def test_check_corrected_refuses_a_wrong_statement_of_the_miss():
    s = sigmoid(z)
    with pytest.raises(AssertionError, match="off by .*, not by"):
        verify.check_corrected("C9.2", "σ'", (sp.diff(s, z), 1 - s), (sp.diff(s, z), s * (1 - s)),
                               off_by=(1 - s) ** 2)


def test_check_corrected_decides_a_miss_stated_with_tanh():
    a = sp.Symbol("a", real=True)
    off = sp.tanh(a / 2)
    assert verify.check_corrected("C9.2", "x", (sigmoid(a), sigmoid(-a)), (sigmoid(a), 1 - sigmoid(-a)),
                                  off_by=off) == off


def test_check_corrected_refuses_a_true_written_line():
    with pytest.raises(AssertionError, match="not a slip"):
        verify.check_corrected("C9.2", "x", (z + z, 2 * z), (sp.sin(z) ** 2 + sp.cos(z) ** 2, 1), off_by=0)


def test_check_corrected_refuses_a_false_correction():
    with pytest.raises(AssertionError, match="does not hold either"):
        verify.check_corrected("C9.2", "x", (z, z + 1), (z, z + 2), off_by=-1)


def test_check_close_prints_the_bound_and_the_control_gap_not_the_error(capsys):
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)
    verify.check_close("C9.3", a + 1e-15, a, "numbers", tol=1e-12, controls=ONE_CONTROL)
    out = capsys.readouterr().out
    assert "max|Δ| < 1e-12" in out and "e-15" not in out
    assert "control: the sign flipped rejected, max|Δ| > 1" in out


def test_check_close_raises_naming_claim_tolerance_and_error():
    with pytest.raises(AssertionError, match=r"C9\.3.*0\.001.*1e-12"):
        verify.check_close("C9.3", torch.tensor([1.001]), torch.tensor([1.0]), "x", tol=1e-12,
                           controls={"w": torch.tensor([2.0])})


def test_check_close_fails_on_nan_and_a_nan_control_is_not_a_rejection():
    with pytest.raises(AssertionError):
        verify.check_close("C9.3", torch.tensor([float("nan")]), torch.tensor([1.0]), "x", tol=1.0,
                           controls={"w": torch.tensor([5.0])})
    with pytest.raises(AssertionError, match="not rejected"):
        verify.check_close("C9.3", torch.tensor([1.0]), torch.tensor([1.0]) * 1, "x", tol=1.0,
                           controls={"w": torch.tensor([float("nan")])})


def test_check_corrected_close():
    exact = torch.tensor([0.5, 0.25])
    miss = verify.check_corrected_close("C9.4", "x", exact + 0.1, exact * 1, exact, tol=1e-9)
    assert miss == pytest.approx(0.1)
    with pytest.raises(AssertionError, match="not shown to fail"):
        verify.check_corrected_close("C9.4", "x", exact + 1e-12, exact * 1, exact, tol=1e-9)
    with pytest.raises(AssertionError, match="corrected line"):
        verify.check_corrected_close("C9.4", "x", exact + 0.1, exact + 1e-3, exact, tol=1e-9)


def test_check_condition_and_refined(capsys):
    verify.check_condition("C9.5", True, "a bound", method="Monte Carlo", bound="|z| < 3",
                           controls={"mean forgotten": (False, "|z| > 10")})
    verify.check_refined("C9.6", "x", holds_under=True, fails_without=True, without="at β = 0",
                         method="m", bound="b")
    out = capsys.readouterr().out
    assert [v[1] for v in verify.parse_verdicts(out)] == ["holds", "refined"]
    assert "control: mean forgotten rejected, |z| > 10" in out
    assert "control: at β = 0: the claim rejected" in out
    with pytest.raises(AssertionError, match="measured 4"):
        verify.check_condition("C9.5", False, "a bound", method="m", bound="|z| < 3", measured="4",
                               controls={"w": False})
    with pytest.raises(AssertionError, match="no failure shown"):
        verify.check_refined("C9.6", "x", holds_under=True, fails_without=False, without="w",
                             method="m", bound="b")
    with pytest.raises(AssertionError, match="does not hold"):
        verify.check_refined("C9.6", "x", holds_under=False, fails_without=True, without="w",
                             method="m", bound="b")


def test_basis_is_said_in_the_line(capsys):
    verify.check_equal("C9.9", z * (z + 1), z**2 + z, "a product", basis="by definition",
                       controls={"z² − z": z**2 - z})
    assert "(by definition; sympy" in capsys.readouterr().out


def test_silent_asserts_print_nothing(capsys):
    assert verify.assert_equal(sp.sin(z) ** 2 + sp.cos(z) ** 2, 1, "x").startswith("sympy")
    assert verify.assert_close(torch.ones(2), torch.ones(2) * 1, "x", tol=1e-9) == "max|Δ| < 1e-9"
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


@pytest.mark.parametrize("tol", [0, -1.0, float("nan"), float("inf"), True])
def test_bad_tolerance_is_a_value_error(tol):
    with pytest.raises(ValueError, match="tol"):
        verify.check_close("C9.3", torch.ones(1), torch.ones(1) * 1, "x", tol=tol, controls=ONE_CONTROL)


def test_shape_mismatch_is_a_value_error():
    with pytest.raises(ValueError, match="shapes must match"):
        verify.max_abs_diff(torch.ones(2), torch.ones(3))


def test_summary_lists_recorded_claims_once_and_asserts_missing_ones():
    for _ in range(2):  # a re-run cell replaces its row
        verify.check_condition("C9.7", True, "summary row", method="m", bound="b", controls={"w": False})
    assert verify.summary(["C9.7"]).count("C9.7") == 1
    with pytest.raises(AssertionError, match="C9.99"):
        verify.summary(["C9.99"])


def test_parse_verdicts_ignores_other_lines():
    text = "hello\nC1.2    holds      x  (m: b)\nC1.2 holds\n"
    assert verify.parse_verdicts(text) == [("C1.2", "holds", "x  (m: b)")]


def test_summary_rows_are_not_verdict_lines():
    verify.check_condition("C9.8", True, "row", method="m", bound="b", controls={"w": False})
    assert verify.parse_verdicts(verify.summary(["C9.8"])) == []


@pytest.mark.parametrize(("answer", "said"), [
    (torch.zeros(3, dtype=torch.float32), "got a float32 tensor of shape (3,)"),
    ([0.0, 0.0, 0.0], "got a list"),
    (None, "got None"),
    (torch.zeros(2, dtype=torch.float64), "got a float64 tensor of shape (2,)"),
    (torch.tensor([0.0, float("nan"), 0.0], dtype=torch.float64), "finite"),
])
def test_expect_tensor_says_what_was_expected_and_what_came(answer, said):
    with pytest.raises(AssertionError) as raised:
        verify.expect_tensor(answer, (3,), "weights")
    assert str(raised.value).startswith("weights: expected ") and said in str(raised.value)
    good = torch.zeros(3, dtype=torch.float64)
    assert verify.expect_tensor(good, (3,)) is good


def test_expect_number_accepts_real_numbers_and_says_what_came_otherwise():
    assert verify.expect_number(np.float32(0.5)) == 0.5
    assert verify.expect_number(torch.tensor([2.0], dtype=torch.float64)) == 2.0
    for bad, said in ((None, "got None"), ([1.0], "got a list"), (True, "got a bool"),
                      (float("nan"), "finite"), ("1", "got a str")):
        with pytest.raises(AssertionError, match=said):
            verify.expect_number(bad, "h*")

"""Unit tests of helpers.checks, and of the rule it serves: a public helper checks its arguments
in its first line, with one call into checks, and raises ValueError nowhere else."""

import ast
import inspect
import math

import numpy as np
import pytest
import torch

from helpers import (
    bradley_terry,
    checks,
    data,
    dpo,
    dpo_theory,
    kl,
    models,
    numeric,
    optimum,
    plots,
    policy_gradient,
    ppo,
    tabular_dpo,
    toyworld,
)

D = torch.float64
MATH = [bradley_terry, data, dpo, dpo_theory, kl, models, numeric, optimum, plots,
        policy_gradient, ppo, tabular_dpo, toyworld]
NO_CHECK = {"plots.label", "plots.decades", "plots.use_style", "numeric.freeze_gc"}  # nothing to check
READS_FIRST = {"numeric.device"}  # checks the RLHF_DEVICE setting once it has read it
NOT_TAUGHT = {"numeric", "plots", "models.trainable"}  # utilities, not formulas of the course


def _public_functions():
    for module in MATH:
        tree = ast.parse(inspect.getsource(module))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                yield f"{module.__name__.split('.')[-1]}.{node.name}", node
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name in ("__init__", "forward"):
                        yield f"{module.__name__.split('.')[-1]}.{node.name}.{item.name}", item


def _is_check(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute)
            and isinstance(stmt.value.func.value, ast.Name) and stmt.value.func.value.id == "checks")


def _body(node: ast.FunctionDef) -> list[ast.stmt]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _ids(x) -> str:
    return x if isinstance(x, str) else ""


@pytest.mark.parametrize("name, node", list(_public_functions()), ids=_ids)
def test_public_helpers_check_in_one_first_line(name, node):
    calls = [n for n in ast.walk(node) if isinstance(n, ast.Attribute)
             and isinstance(n.value, ast.Name) and n.value.id == "checks"]
    if name in NO_CHECK:
        assert not calls, f"{name}: listed as checking nothing, but calls checks"
        return
    first = _body(node)[1 if name in READS_FIRST else 0]
    assert _is_check(first), f"{name}: the first line after the docstring is not a check"
    assert len(calls) == 1, f"{name}: expected one call into checks, got {len(calls)}"


@pytest.mark.parametrize("name, node", [(n, f) for n, f in _public_functions()
                                        if not {n.split(".")[0], n} & NOT_TAUGHT and n.count(".") == 1
                                        and n not in NO_CHECK],
                         ids=_ids)
def test_formulas_say_where_they_are_taught(name, node):
    assert "Taught in: " in (ast.get_docstring(node) or ""), f"{name}: no 'Taught in:' line"


@pytest.mark.parametrize("module", MATH, ids=lambda m: m.__name__)
def test_value_errors_are_raised_only_in_checks(module):
    raises = [n.lineno for n in ast.walk(ast.parse(inspect.getsource(module)))
              if isinstance(n, ast.Raise) and n.exc is not None
              and "ValueError" in ast.unparse(n.exc)]
    assert not raises, f"{module.__name__} raises ValueError itself at lines {raises}"


# --------------------------------------------------------------------------- building blocks


def test_require_finite_positive_nonnegative_in_range():
    checks.require_finite("x", torch.ones(2))
    with pytest.raises(ValueError, match="x: expected finite"):
        checks.require_finite("x", torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="beta: expected a finite number > 0"):
        checks.require_positive("beta", 0.0)
    checks.require_nonnegative("beta", 0.0)
    for bad in (-1.0, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match="beta: expected a finite number >= 0"):
            checks.require_nonnegative("beta", bad)
    checks.require_in_range("eps", 0.0, 0.0, 0.5)
    with pytest.raises(ValueError, match=r"eps: expected a number in \[0, 0.5\), got 0.5"):
        checks.require_in_range("eps", 0.5, 0.0, 0.5)


def test_require_ints_names_the_argument_and_its_minimum():
    checks.require_ints(n=(1, 1), seed=(0, 0))
    for bad in (0, 2.0, True, "3"):
        with pytest.raises(ValueError, match="n: expected an integer >= 1, got"):
            checks.require_ints(seed=(0, 0), n=(bad, 1))


def test_require_shapes():
    with pytest.raises(ValueError, match="a, b: expected the same shape"):
        checks.require_same_shape("a, b", torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match=r"v: expected shape \(n,\) with n >= 2"):
        checks.require_vector("v", torch.ones(1), min_len=2)
    with pytest.raises(ValueError, match="t: expected a"):
        checks.require_table("t", torch.ones(3, 1))
    with pytest.raises(ValueError, match="t: expected finite"):
        checks.require_table("t", torch.tensor([[0.0, float("inf")]]))


def test_require_logprob_table():
    good = torch.log(torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=D))
    checks.require_logprob_table("ref", good)
    with pytest.raises(ValueError, match="ref: expected each row to sum to 1"):
        checks.require_logprob_table("ref", good - 0.1)
    with pytest.raises(ValueError, match="<= 0"):
        checks.require_logprob_table("ref", good + 0.5)
    with pytest.raises(ValueError, match="table"):
        checks.require_logprob_table("ref", good[0])
    with pytest.raises(ValueError, match="p, q: expected the same shape"):
        checks.require_logprob_tables(p=good, q=good[:, :1])


def test_require_logprobs_any_shape():
    checks.require_logprobs("lp", torch.tensor([[-1.0, float("-inf")], [0.0, -2.0]]))
    for bad in (torch.tensor([0.5]), torch.tensor([float("nan")]), torch.tensor([float("inf")])):
        with pytest.raises(ValueError, match="lp: expected log-probabilities"):
            checks.require_logprobs("lp", bad)


def test_require_pair_logps():
    good = torch.tensor([-1.0, -2.0], dtype=D)
    checks.require_pair_logps(a=good, b=good)
    with pytest.raises(ValueError, match="a, b: expected the same shape"):
        checks.require_pair_logps(a=good, b=good[:1])
    with pytest.raises(ValueError, match=r"a: expected shape \(batch,\)"):
        checks.require_pair_logps(a=good[None], b=good[None])
    with pytest.raises(ValueError, match="b: expected finite"):
        checks.require_pair_logps(a=good, b=torch.tensor([-1.0, float("-inf")], dtype=D))


# --------------------------------------------------------------------------- one rule for every helper


def test_numbers_of_any_real_kind_are_numbers_and_bools_are_not():
    for value in (0.5, 1, np.float32(0.5), np.float64(0.5), np.int64(1), torch.tensor(0.5),
                  torch.tensor(1), torch.tensor(0.5, dtype=torch.float64)):
        checks.require_positive("beta", value)
        checks.require_nonnegative("beta", value)
        checks.require_in_range("beta", value, 0.0, 2.0)
    for bad in (True, False, np.bool_(True), torch.tensor(True), torch.tensor([0.5]), 1 + 0j,
                "0.5", None, [0.5], np.array([0.5]), float("nan"), np.float32("inf"),
                torch.tensor(float("nan")), 10**400):
        with pytest.raises(ValueError, match="beta: expected a finite number > 0"):
            checks.require_positive("beta", bad)


def test_integers_of_any_kind_are_integers_and_floats_or_bools_are_not():
    for value in (3, np.int64(3), np.int32(3), np.uint8(3), torch.tensor(3),
                  torch.tensor(3, dtype=torch.int32)):
        checks.require_ints(n=(value, 1))
        checks.require_seed(value)
    for bad in (3.0, np.float64(3.0), torch.tensor(3.0), True, np.bool_(True), "3", None,
                torch.tensor([3])):
        with pytest.raises(ValueError, match="n: expected an integer >= 1"):
            checks.require_ints(n=(bad, 1))
    for bad in (-1, 2**32, True):
        with pytest.raises(ValueError, match=r"seed: expected an integer in \[0, 2\*\*32\)"):
            checks.require_seed(bad)


def test_tensor_arguments_are_non_empty_tensors_of_their_dtype():
    checks.require_floats(x=torch.ones(2), y=torch.ones(2, dtype=D))
    checks.require_ids(i=torch.tensor([0, 1]))
    for bad, got in (([1.0], r"got list \[1.0\] \(convert it with torch.tensor\(x, "
                             r"dtype=torch.float64\)\)"),
                     (np.ones(2), "got ndarray"), (1.0, "got float 1.0"), (None, "got NoneType"),
                     (torch.ones(2, dtype=torch.int64), "got an int64 tensor of shape"),
                     (torch.ones(2, dtype=torch.float16), "got a float16 tensor"),
                     (torch.ones(2, dtype=torch.complex64), "got a complex64 tensor")):
        with pytest.raises(ValueError, match=f"x: expected a float32 or float64 torch.Tensor, {got}"):
            checks.require_floats(x=bad)
    with pytest.raises(ValueError, match=r"x: expected a non-empty tensor, got shape \(2, 0\)"):
        checks.require_floats(x=torch.ones(2, 0))
    with pytest.raises(ValueError, match=r"i: expected an int64 torch.Tensor, got a float32 tensor"):
        checks.require_ids(i=torch.ones(2))
    with pytest.raises(ValueError, match=r"i: expected an int64 torch.Tensor, got list \[0\] "
                                         r"\(convert it with torch.tensor\(x, dtype=torch.int64\)\)"):
        checks.require_ids(i=[0])
    with pytest.raises(ValueError, match="i: expected an int64 torch.Tensor, got an int32 tensor"):
        checks.require_ids(i=torch.tensor([0], dtype=torch.int32))


def test_flags_generators_and_modules():
    checks.require_flags(ipo=True, average=np.bool_(False))
    for bad in ("yes", 1, None, torch.tensor(True)):
        with pytest.raises(ValueError, match="ipo: expected True or False"):
            checks.require_flags(ipo=bad)
    checks.require_generator(torch.Generator())
    for bad in (None, 0, np.random.default_rng(0)):
        with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
            checks.require_generator(bad)
    checks.require_module("model", torch.nn.Linear(1, 1))
    with pytest.raises(ValueError, match="model: expected a torch.nn.Module, got function"):
        checks.require_module("model", lambda t: t)


def test_log_prob_tables_tolerate_float32_rounding():
    table = torch.log_softmax(torch.randn(4, 200, generator=torch.Generator().manual_seed(0)), -1)
    checks.require_logprob_table("ref", table)  # float32 sums of 200 terms round by ~1e-6
    with pytest.raises(ValueError, match="ref: expected each row to sum to 1"):
        checks.require_logprob_table("ref", table - 1e-3)


@pytest.mark.parametrize("entry, message", [
    (float("nan"), "NaN or \\+inf"), (float("inf"), "NaN or \\+inf"), (0.3, "<= 0, got max 0.3"),
    (-30.0, "each row to sum to 1"), (-math.inf, "each row to sum to 1")])
def test_the_one_pass_table_check_falls_back_to_the_message_that_names_the_fault(entry, message):
    good = torch.log_softmax(torch.tensor([[0.1, 0.5, -0.2], [1.0, 0.0, 0.0]], dtype=torch.float64), -1)
    bad = good.clone()
    bad[1, 0] = entry
    with pytest.raises(ValueError, match=f"ref: expected .*{message}"):
        checks.require_logprob_table("ref", bad)
    with pytest.raises(ValueError, match=f"q: expected .*{message}"):
        checks.require_logprob_tables(p=good, q=bad)
    zero_mass = torch.tensor([[0.0, -math.inf, -math.inf]], dtype=torch.float64)  # π = (1, 0, 0)
    checks.require_logprob_table("ref", zero_mass)


@pytest.mark.parametrize("which, entry, message", [
    ("policy", float("nan"), "policy_logps: expected log-probabilities, got NaN"),
    ("ref", float("inf"), "ref_logps: expected log-probabilities, got NaN"),
    ("ref", 0.5, "ref_logps: expected log-probabilities <= 0"),
    ("policy", -math.inf, "policy_logps: expected finite values")])
def test_the_one_pass_sample_check_falls_back_to_the_message_that_names_the_fault(which, entry, message):
    policy, ref = torch.full((4,), -1.0, dtype=torch.float64), torch.full((4,), -2.0, dtype=torch.float64)
    (policy if which == "policy" else ref)[2] = entry
    with pytest.raises(ValueError, match=message):
        checks.require_sampled_logps(policy, ref)
    ref_zero = torch.tensor([-1.0, -math.inf, -2.0, -3.0], dtype=torch.float64)  # π_ref(y) = 0 is allowed
    checks.require_sampled_logps(torch.full((4,), -1.0, dtype=torch.float64), ref_zero)

"""Unit tests of helpers.kl against independent references (exact sums, loops, closed forms)."""

import math

import numpy as np
import pytest
import torch

from helpers.kl import categorical_kl, entropy, exact_mean_var, k1, k3, mean_ci
from helpers.numeric import DTYPE, generator

# --------------------------------------------------------------------------- KL and entropy


def test_categorical_kl_matches_a_loop_and_is_zero_on_the_diagonal(logprob_table):
    p, q = logprob_table(9, rows=4), logprob_table(10, rows=4)
    want = torch.tensor([sum(math.exp(float(p[i, k])) * (float(p[i, k]) - float(q[i, k]))
                             for k in range(5)) for i in range(4)], dtype=DTYPE)
    got = categorical_kl(p, q)
    assert torch.allclose(got, want, atol=1e-14, rtol=0)
    assert (got > 0).all()
    assert torch.allclose(categorical_kl(p, p), torch.zeros(4, dtype=DTYPE), atol=1e-15)


def test_categorical_kl_zero_mass_conventions():
    p = torch.log(torch.tensor([[0.5, 0.5, 0.0]], dtype=DTYPE))
    q = torch.log(torch.tensor([[0.25, 0.25, 0.5]], dtype=DTYPE))
    assert torch.allclose(categorical_kl(p, q), torch.tensor([math.log(2)], dtype=DTYPE))
    # mass where q has none: KL(p‖q) = +inf; 0 · log 0 terms count as 0
    q_zero = torch.tensor([[math.log(0.5), float("-inf"), math.log(0.5)]], dtype=DTYPE)
    assert categorical_kl(p, q_zero)[0] == float("inf")


def test_categorical_kl_gradient_is_finite_with_zero_mass():
    p = torch.tensor([[0.0, float("-inf")]], dtype=DTYPE, requires_grad=True)
    categorical_kl(p, p.detach()).sum().backward()
    assert torch.isfinite(p.grad).all(), f"gradient {p.grad.tolist()}"


def test_categorical_kl_rejects_bad_tables(logprob_table):
    p = logprob_table(12, rows=2, k=3)
    with pytest.raises(ValueError, match="p_logprobs, q_logprobs"):
        categorical_kl(p, p[:, :2])
    with pytest.raises(ValueError, match="q_logprobs: expected each row to sum to 1"):
        categorical_kl(p, p - 0.1)


def test_entropy_matches_a_loop_and_its_extremes(logprob_table):
    lp = logprob_table(11, k=6)
    want = torch.tensor([-sum(math.exp(float(v)) * float(v) for v in row) for row in lp],
                        dtype=DTYPE)
    assert torch.allclose(entropy(lp), want, atol=1e-14, rtol=0)
    uniform = torch.full((2, 6), -math.log(6), dtype=DTYPE)
    assert torch.allclose(entropy(uniform), torch.full((2,), math.log(6), dtype=DTYPE))
    one_hot = torch.log(torch.tensor([[0.0, 1.0, 0.0]], dtype=DTYPE))
    assert entropy(one_hot)[0] == 0


def test_entropy_gradient_is_finite_with_zero_mass_and_bad_tables_raise():
    lp = torch.tensor([[0.0, float("-inf")]], dtype=DTYPE, requires_grad=True)
    entropy(lp).sum().backward()
    assert torch.isfinite(lp.grad).all()
    with pytest.raises(ValueError, match="logprobs"):
        entropy(torch.tensor([[0.1, -3.0]], dtype=DTYPE))


# --------------------------------------------------------------------------- k1, k3


def test_k1_is_the_log_ratio_and_its_mean_under_pi_is_kl(logprob_table):
    p, q = logprob_table(0), logprob_table(1)
    assert torch.allclose(k1(p, q), torch.log(p.exp() / q.exp()), atol=1e-12)
    assert torch.allclose((p.exp() * k1(p, q)).sum(-1), categorical_kl(p, q), atol=1e-12)


def test_k3_matches_its_formula_is_nonnegative_and_unbiased(logprob_table):
    p, q = logprob_table(2), logprob_table(3)
    rho = q.exp() / p.exp()
    assert torch.allclose(k3(p, q), (rho - 1) - torch.log(rho), atol=1e-12)
    assert (k3(p, q) >= 0).all()
    assert torch.allclose((p.exp() * k3(p, q)).sum(-1), categorical_kl(p, q), atol=1e-12)


def test_k3_is_exactly_zero_when_the_distributions_agree(logprob_table):
    p = logprob_table(4)
    assert torch.equal(k3(p, p), torch.zeros_like(p))


def test_k1_k3_reject_bad_arguments():
    good = torch.log(torch.tensor([0.5, 0.5], dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logps, ref_logps"):
        k1(good, good[:1])
    with pytest.raises(ValueError, match="policy_logps"):
        k3(torch.tensor([0.1, -1.0], dtype=DTYPE), good)
    with pytest.raises(ValueError, match="ref_logps"):
        k1(good, torch.tensor([float("nan"), -1.0], dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logps"):
        k1(torch.tensor([-float("inf"), 0.0], dtype=DTYPE), good)


# --------------------------------------------------------------------------- mean_ci, exact_mean_var


def test_mean_ci_against_a_loop():
    x = torch.randn(50, generator=generator(5), dtype=DTYPE)
    mean, half = mean_ci(x, z=2.0)
    m = sum(float(v) for v in x) / 50
    s = math.sqrt(sum((float(v) - m) ** 2 for v in x) / 49)
    assert abs(mean - m) < 1e-12 and abs(half - 2.0 * s / math.sqrt(50)) < 1e-12


def test_mean_ci_rejects_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        mean_ci(torch.ones(1, dtype=DTYPE))
    with pytest.raises(ValueError, match="samples"):
        mean_ci(torch.ones(2, 2, dtype=DTYPE))
    with pytest.raises(ValueError, match="z"):
        mean_ci(torch.ones(3, dtype=DTYPE), z=0.0)


def test_exact_mean_var_against_a_loop(logprob_table):
    p, values = logprob_table(7, rows=2, k=4), torch.randn(2, 4, generator=generator(8), dtype=DTYPE)
    mean, var = exact_mean_var(p, values)
    for i in range(2):
        w = [float(v) for v in p[i].exp()]
        f = [float(v) for v in values[i]]
        m = sum(a * b for a, b in zip(w, f, strict=True))
        v = sum(a * (b - m) ** 2 for a, b in zip(w, f, strict=True))
        assert abs(float(mean[i]) - m) < 1e-12 and abs(float(var[i]) - v) < 1e-12


def test_exact_mean_var_rejects_bad_arguments(logprob_table):
    with pytest.raises(ValueError, match="policy_logprobs, values"):
        exact_mean_var(logprob_table(0), torch.zeros(3, 4, dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logprobs"):
        exact_mean_var(torch.zeros(3, 5, dtype=DTYPE), torch.zeros(3, 5, dtype=DTYPE))


# --------------------------------------------------------------------------- bad input (issue 13)


def test_k1_k3_reject_an_empty_batch_and_non_tensors():
    empty = torch.zeros(0, dtype=DTYPE)
    for fn in (k1, k3):
        with pytest.raises(ValueError, match="policy_logps: expected a non-empty tensor"):
            fn(empty, empty)  # was a NaN mean downstream
        with pytest.raises(ValueError, match="policy_logps: expected a float32 or float64"):
            fn([-1.0], torch.tensor([-1.0], dtype=DTYPE))


def test_k3_refuses_a_ratio_its_dtype_cannot_hold():
    ref = torch.tensor([-1.0], dtype=DTYPE)
    assert torch.isfinite(k3(torch.tensor([-700.0], dtype=DTYPE), ref)).all()
    with pytest.raises(ValueError, match="ref_logps, policy_logps: exp.*overflows float64"):
        k3(torch.tensor([-800.0], dtype=DTYPE), ref)  # ρ = e^799 is inf: k3 would be inf
    with pytest.raises(ValueError, match="overflows float32"):
        k3(torch.tensor([-100.0]), torch.tensor([-1.0]))
    assert torch.isfinite(k1(torch.tensor([-800.0], dtype=DTYPE), ref)).all()  # k1 needs no exp


def test_mean_ci_wants_float_samples_and_returns_plain_floats():
    with pytest.raises(ValueError, match="samples: expected a float32 or float64 torch.Tensor, "
                                         "got an int64 tensor"):
        mean_ci(torch.tensor([1, 2, 3]))  # was a RuntimeError from torch
    with pytest.raises(ValueError, match="samples: expected finite"):
        mean_ci(torch.tensor([1.0, float("inf")], dtype=DTYPE))
    x = torch.tensor([1.0, 2.0, 4.0], dtype=DTYPE, requires_grad=True)
    for z in (np.float32(2.0), torch.tensor(2.0), np.int64(2)):
        mean, half = mean_ci(x, z)
        assert type(mean) is float and type(half) is float
        assert (mean, half) == pytest.approx(mean_ci(x.detach(), 2.0), abs=1e-15)


def test_exact_mean_var_wants_finite_values_where_pi_has_mass():
    p = torch.log(torch.tensor([[0.5, 0.5, 0.0]], dtype=DTYPE))
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="values: expected finite"):
            exact_mean_var(p, torch.tensor([[bad, 1.0, 0.0]], dtype=DTYPE))  # was NaN or inf
    mean, var = exact_mean_var(p, torch.tensor([[0.0, 2.0, float("inf")]], dtype=DTYPE))
    assert float(mean) == 1.0 and float(var) == 1.0  # where π = 0 the value does not count
    with pytest.raises(ValueError, match="values: expected a float32 or float64"):
        exact_mean_var(p, [[0.0, 2.0, 1.0]])

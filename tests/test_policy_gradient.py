"""Unit tests of helpers.policy_gradient against loops, autograd and closed forms."""

import math

import numpy as np
import pytest
import torch

from helpers.data import sample_from_logits
from helpers.policy_gradient import (
    estimator_variance,
    exact_gradient,
    expected_return,
    optimal_baseline,
    score_function_estimate,
    score_function_terms,
    softmax_score,
)

D = torch.float64


def _policy(k=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(k, generator=gen, dtype=D), torch.randn(k, generator=gen, dtype=D) + 2.0


def test_expected_return_is_the_weighted_sum():
    logits, returns = _policy()
    probs = [float(torch.exp(logits[i]) / torch.exp(logits).sum()) for i in range(4)]
    loop = sum(p * float(g) for p, g in zip(probs, returns, strict=True))
    assert abs(float(expected_return(logits, returns)) - loop) < 1e-12


def test_exact_gradient_matches_closed_form_and_finite_differences():
    logits, returns = _policy()
    probs = torch.softmax(logits, -1)
    closed = probs * (returns - (probs * returns).sum())  # ∂/∂θ_k Σ π G = π_k (G_k − E G)
    got = exact_gradient(logits, returns)
    assert torch.allclose(got, closed, atol=1e-12)
    eps = 1e-6
    for k in range(4):
        e = torch.zeros(4, dtype=D)
        e[k] = eps
        fd = (expected_return(logits + e, returns) - expected_return(logits - e, returns))
        assert abs(float(fd) / (2 * eps) - float(got[k])) < 1e-8


def test_softmax_score_matches_autograd_per_sample():
    logits, _ = _policy()
    samples = torch.tensor([0, 3, 3, 1])
    scores = softmax_score(logits, samples)
    assert scores.shape == (4, 4)
    for n, y in enumerate(samples.tolist()):
        theta = logits.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(torch.log_softmax(theta, -1)[y], theta)
        assert torch.allclose(scores[n], g, atol=1e-12)


def test_estimate_is_the_mean_of_a_loop_over_samples():
    logits, returns = _policy()
    samples = torch.tensor([[0, 1, 2, 3, 3], [2, 2, 0, 1, 1]])
    est = score_function_estimate(logits, samples, returns, baseline=0.5)
    assert est.shape == (2, 4)
    probs = torch.softmax(logits, -1)
    for r in range(2):
        loop = torch.zeros(4, dtype=D)
        for y in samples[r].tolist():
            loop += (returns[y] - 0.5) * (torch.eye(4, dtype=D)[y] - probs)
        assert torch.allclose(est[r], loop / 5, atol=1e-12)


def test_estimate_is_unbiased_when_averaged_exactly():
    logits, returns = _policy()
    probs = torch.softmax(logits, -1)
    terms = score_function_terms(logits, torch.arange(4), returns, baseline=3.0)
    exact_mean = (probs.unsqueeze(-1) * terms).sum(0)
    assert torch.allclose(exact_mean, exact_gradient(logits, returns), atol=1e-12)


def test_optimal_baseline_minimises_the_exact_variance():
    logits, returns = _policy()
    b_star = float(optimal_baseline(logits, returns))
    grid = torch.linspace(b_star - 3, b_star + 3, 61, dtype=D)
    variances = torch.stack([estimator_variance(logits, returns, float(b)) for b in grid])
    assert int(variances.argmin()) == 30  # the grid's middle point is b*
    # the variance is the parabola V(0) − 2b E[G‖s‖²] + b² E[‖s‖²]; fit and compare the vertex
    a, b, _ = torch.linalg.lstsq(torch.stack([grid**2, grid, torch.ones_like(grid)], 1),
                                 variances.unsqueeze(1)).solution.flatten()
    assert abs(float(-b / (2 * a)) - b_star) < 1e-8


def test_estimator_variance_matches_a_loop():
    logits, returns = _policy()
    probs = torch.softmax(logits, -1)
    grad = exact_gradient(logits, returns)
    loop = 0.0
    for y in range(4):
        term = (returns[y] - 1.0) * (torch.eye(4, dtype=D)[y] - probs)
        loop += float(probs[y]) * float(((term - grad) ** 2).sum())
    assert abs(float(estimator_variance(logits, returns, 1.0)) - loop) < 1e-12


def test_bad_arguments_raise_value_error_naming_them():
    logits, returns = _policy()
    with pytest.raises(ValueError, match="logits"):
        expected_return(logits.reshape(2, 2), returns)
    with pytest.raises(ValueError, match="returns"):
        exact_gradient(logits, returns[:3])
    with pytest.raises(ValueError, match="returns"):
        optimal_baseline(logits, torch.tensor([1.0, float("nan"), 0.0, 0.0], dtype=D))
    with pytest.raises(ValueError, match="samples"):
        softmax_score(logits, torch.tensor([0, 4]))
    with pytest.raises(ValueError, match="samples"):
        score_function_estimate(logits, torch.tensor([0.0, 1.0]), returns)
    with pytest.raises(ValueError, match="samples"):
        score_function_terms(logits, torch.tensor([[5]]), returns)


def test_estimate_equals_the_mean_of_the_per_sample_terms():
    logits, returns = _policy(k=6, seed=3)
    samples = sample_from_logits(logits, (4, 3, 50), torch.Generator().manual_seed(2))
    terms = score_function_terms(logits, samples, returns, baseline=1.5)
    est = score_function_estimate(logits, samples, returns, baseline=1.5)
    assert est.shape == (4, 3, 6)
    assert torch.allclose(est, terms.mean(-2), atol=1e-12)


def test_terms_with_a_constant_baseline_match_autograd_sample_by_sample():
    logits, returns = _policy(k=5, seed=4)
    samples = sample_from_logits(logits, (3, 7), torch.Generator().manual_seed(5))
    for b in (0.0, 1.5, torch.tensor(-2.0, dtype=D)):
        terms = score_function_terms(logits, samples, returns, baseline=b)
        assert terms.shape == (3, 7, 5)
        for r in range(3):
            for n in range(7):
                y = int(samples[r, n])
                theta = logits.clone().requires_grad_(True)
                (g,) = torch.autograd.grad(torch.log_softmax(theta, -1)[y], theta)
                assert torch.allclose(terms[r, n], (float(returns[y]) - float(b)) * g, atol=1e-12)


# --------------------------------------------------------------------------- bad input (issue 13)


def _b_star_loop(logits, returns):
    """b* = Σ π G ‖s‖² / Σ π ‖s‖², ‖s(y)‖² = (1 − π_y)² + Σ_{j≠y} π_j², with math.exp."""
    exps = [math.exp(float(v)) for v in logits]
    probs = [e / sum(exps) for e in exps]
    sq = [(1 - p) ** 2 + sum(q * q for j, q in enumerate(probs) if j != y)
          for y, p in enumerate(probs)]
    num = sum(p * float(g) * s for p, g, s in zip(probs, returns, sq, strict=True))
    return num / sum(p * s for p, s in zip(probs, sq, strict=True))


def test_optimal_baseline_matches_a_loop_in_log_space():
    for seed in range(5):
        logits, returns = _policy(k=5, seed=seed)
        logits = logits * 3
        assert abs(float(optimal_baseline(logits, returns)) - _b_star_loop(logits, returns)) < 1e-12


@pytest.mark.parametrize("dtype, top", [(D, 1e4), (D, 1e8), (torch.float32, 1e3)])
def test_optimal_baseline_of_a_sharp_policy_is_the_mean_return_of_the_other_answers(dtype, top):
    # π puts all its mass (in floating point) on answer 0: E[G‖s‖²] and E[‖s‖²] underflow to 0,
    # the plain ratio is 0/0 = NaN; the limit is Σ_{y≠0} π(y) G(y) / Σ_{y≠0} π(y)
    logits = torch.tensor([top, 0.0, 1.0], dtype=dtype)
    returns = torch.tensor([7.0, 2.0, 3.0], dtype=dtype)
    want = (2 + 3 * math.e) / (1 + math.e)
    tol = 1e-12 if dtype == D else 1e-6
    assert abs(float(optimal_baseline(logits, returns)) - want) < tol
    tie = torch.tensor([top, top, 0.0], dtype=dtype)  # two modes: each ‖s‖² = ½, b* = their mean
    assert abs(float(optimal_baseline(tie, returns)) - 4.5) < tol
    plain = torch.softmax(logits, -1)
    assert plain[1] == 0 or dtype == torch.float32 and plain[1] < 1e-30  # where 0/0 came from


def test_softmax_score_and_the_estimates_reject_nan_logits_and_baselines():
    logits, returns = _policy()
    samples = torch.tensor([0, 1, 3])
    nan_logits = logits.clone()
    nan_logits[1] = float("nan")
    with pytest.raises(ValueError, match="logits: expected finite"):
        softmax_score(nan_logits, samples)
    for fn in (score_function_terms, score_function_estimate):
        for bad in (float("nan"), float("inf"), np.float64("nan"), torch.tensor(float("inf"))):
            with pytest.raises(ValueError, match="baseline: expected a finite number"):
                fn(logits, samples, returns, baseline=bad)
        with pytest.raises(ValueError, match="baseline: expected finite"):
            fn(logits, samples, returns, baseline=torch.tensor([0.0, float("nan"), 1.0], dtype=D))
        with pytest.raises(ValueError, match="baseline: expected a shape that broadcasts"):
            fn(logits, samples, returns, baseline=torch.zeros(4, dtype=D))
        for bad in (True, "0", None, [0.0]):
            with pytest.raises(ValueError, match="baseline: expected"):
                fn(logits, samples, returns, baseline=bad)
    for bad in (float("nan"), True, torch.zeros(4, dtype=D)):  # a constant b
        with pytest.raises(ValueError, match="baseline: expected"):
            estimator_variance(logits, returns, bad)


def test_a_baseline_per_sample_and_numbers_of_any_kind():
    logits, returns = _policy()
    samples = torch.tensor([[0, 1, 3], [2, 2, 0]])
    per_sample = torch.tensor([[0.5, 1.0, -1.0], [0.0, 2.0, 3.0]], dtype=D)
    terms = score_function_terms(logits, samples, returns, baseline=per_sample)
    probs = torch.softmax(logits, -1)
    for r in range(2):
        for n in range(3):
            y = int(samples[r, n])
            want = (returns[y] - per_sample[r, n]) * (torch.eye(4, dtype=D)[y] - probs)
            assert torch.allclose(terms[r, n], want, atol=1e-12)
    assert torch.allclose(score_function_estimate(logits, samples, returns, per_sample),
                          terms.mean(-2), atol=1e-12)
    plain = estimator_variance(logits, returns, 1.5)
    for b in (np.float64(1.5), np.float32(1.5), torch.tensor(1.5, dtype=D), np.int64(1) + 0.5):
        assert float(estimator_variance(logits, returns, b)) == pytest.approx(float(plain), abs=1e-12)


def test_ids_must_be_int64_tensors_and_values_float_tensors():
    logits, returns = _policy()
    for bad in (torch.tensor([0, 1], dtype=torch.int32), torch.tensor([True, False]), [0, 1],
                np.array([0, 1]), torch.zeros(0, dtype=torch.long)):
        with pytest.raises(ValueError, match="samples: expected"):
            softmax_score(logits, bad)
    for bad in (logits.tolist(), logits.numpy(), logits.long(), logits.half()):
        with pytest.raises(ValueError, match="logits: expected a float32 or float64 torch.Tensor"):
            expected_return(bad, returns)

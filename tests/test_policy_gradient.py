"""Unit tests of helpers.policy_gradient against loops, autograd and closed forms."""

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

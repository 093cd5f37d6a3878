"""Tests of helpers.optimum: optimal_policy, log_partition (log Z) and kl_objective (J(π)).

Each against an independent reference: a per-row loop of the formula as written, closed forms,
and a numerical maximisation of J (L-BFGS on softmax logits in float64, then Newton steps).
"""

import math

import numpy as np
import pytest
import torch

from helpers.kl import categorical_kl
from helpers.numeric import DTYPE
from helpers.optimum import kl_objective, log_partition, optimal_policy

BETA = 0.5

# --------------------------------------------------------------------------- optimal_policy


def test_optimal_policy_matches_the_formula_row_by_row(problem):
    pb = problem()
    got = optimal_policy(pb.ref, pb.rewards, BETA)
    for x in range(pb.ref.shape[0]):
        weights = [math.exp(float(pb.ref[x, y])) * math.exp(float(pb.rewards[x, y]) / BETA)
                   for y in range(pb.ref.shape[1])]
        want = torch.tensor([w / sum(weights) for w in weights], dtype=DTYPE)
        assert torch.allclose(got[x], want, atol=1e-14, rtol=0)


def test_optimal_policy_extreme_rewards_and_small_beta():
    ref = torch.log(torch.tensor([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], dtype=DTYPE))
    rewards = torch.tensor([[1e4, 1e4, -1e4], [-1e4, 5e3, 1e4]], dtype=DTYPE)
    got = optimal_policy(ref, rewards, 1e-3)
    assert torch.isfinite(got).all()
    assert torch.allclose(got.sum(-1), torch.ones(2, dtype=DTYPE), atol=1e-15, rtol=0)
    # a tie at the top shares the mass in proportion to π_ref; otherwise all mass on the argmax
    want = torch.tensor([[0.4, 0.6, 0.0], [0.0, 0.0, 1.0]], dtype=DTYPE)
    assert torch.allclose(got, want, atol=1e-14, rtol=0), f"got {got.tolist()}"


def test_optimal_policy_keeps_zero_reference_mass_at_zero():
    ref = torch.log(torch.tensor([[0.5, 0.0, 0.5]], dtype=DTYPE))
    got = optimal_policy(ref, torch.tensor([[0.0, 1e4, 1.0]], dtype=DTYPE), 1e-3)
    assert got[0, 1] == 0 and torch.isfinite(got).all()
    assert torch.allclose(got.sum(-1), torch.ones(1, dtype=DTYPE))


def test_optimal_policy_limits_in_beta(problem):
    pb = problem(1)
    assert torch.allclose(optimal_policy(pb.ref, pb.rewards, 1e9), pb.ref.exp(), atol=1e-7, rtol=0)
    one_hot = torch.nn.functional.one_hot(pb.rewards.argmax(-1), pb.ref.shape[1]).to(DTYPE)
    assert torch.allclose(optimal_policy(pb.ref, pb.rewards, 1e-6), one_hot, atol=1e-12, rtol=0)


# --------------------------------------------------------------------------- log_partition


def test_log_partition_is_log_z(problem):
    pb = problem(2)
    rows = [[math.exp(float(pb.ref[x, y]) + float(pb.rewards[x, y]) / BETA)
             for y in range(pb.ref.shape[1])] for x in range(pb.ref.shape[0])]
    want = torch.tensor([math.log(sum(row)) for row in rows], dtype=DTYPE)
    assert torch.allclose(log_partition(pb.ref, pb.rewards, BETA), want, atol=1e-13, rtol=0)


def test_log_partition_normalises_the_optimum(problem):
    """π* = π_ref e^{r/β} / Z: log π* = log π_ref + r/β − log Z, the same numbers."""
    pb = problem(5)
    log_star = pb.ref + pb.rewards / BETA - log_partition(pb.ref, pb.rewards, BETA)[:, None]
    assert torch.allclose(log_star.exp(), optimal_policy(pb.ref, pb.rewards, BETA),
                          atol=1e-14, rtol=0)


def test_log_partition_extreme_values_are_finite_and_exact():
    ref = torch.log(torch.tensor([[0.25, 0.75], [0.5, 0.5]], dtype=DTYPE))
    rewards = torch.tensor([[1e4, -1e4], [1e4, 1e4]], dtype=DTYPE)
    got = log_partition(ref, rewards, 1e-3)
    # log Z = r_max/β + log(π_ref mass on the top answers) + (terms below e^(-2e7))
    want = torch.tensor([1e7 + math.log(0.25), 1e7], dtype=DTYPE)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, want, atol=1e-8, rtol=0)


def test_beta_log_partition_is_the_optimal_value(problem):
    pb = problem(3)
    star = torch.log_softmax(pb.ref + pb.rewards / BETA, -1)
    value = kl_objective(star, pb.ref, pb.rewards, BETA, pb.prompt_probs)
    best = BETA * (pb.prompt_probs * log_partition(pb.ref, pb.rewards, BETA)).sum()
    assert torch.allclose(value, best, atol=1e-13)


# --------------------------------------------------------------------------- kl_objective


def test_kl_objective_matches_a_loop(problem):
    pb = problem(4)
    want = sum(float(pb.prompt_probs[x]) * sum(
        math.exp(float(pb.policy[x, y])) * (float(pb.rewards[x, y])
                                            - BETA * (float(pb.policy[x, y]) - float(pb.ref[x, y])))
        for y in range(pb.ref.shape[1])) for x in range(pb.ref.shape[0]))
    got = kl_objective(pb.policy, pb.ref, pb.rewards, BETA, pb.prompt_probs)
    assert abs(float(got) - want) < 1e-13


def test_kl_objective_default_prompt_probs_are_uniform(problem):
    pb = problem(6)
    uniform = torch.full((pb.ref.shape[0],), 1 / pb.ref.shape[0], dtype=DTYPE)
    assert torch.allclose(kl_objective(pb.policy, pb.ref, pb.rewards, BETA),
                          kl_objective(pb.policy, pb.ref, pb.rewards, BETA, uniform), atol=1e-15)


def test_kl_objective_is_finite_and_has_finite_gradients_with_zero_mass():
    ref = torch.log(torch.tensor([[0.5, 0.5]], dtype=DTYPE))
    policy = torch.tensor([[0.0, float("-inf")]], dtype=DTYPE, requires_grad=True)
    value = kl_objective(policy, ref, torch.tensor([[1.0, 2.0]], dtype=DTYPE), BETA)
    value.backward()
    assert abs(float(value.detach()) - (1.0 - BETA * math.log(2))) < 1e-15
    assert torch.isfinite(policy.grad).all(), f"gradient {policy.grad.tolist()}"


def test_kl_objective_second_route_and_upper_bound(problem):
    """J(π) = E_x[β log Z(x) − β KL(π‖π*)] ≤ β E_x log Z(x) for random policies."""
    pb = problem(8)
    star = torch.log_softmax(pb.ref + pb.rewards / BETA, -1)
    beta_log_z = BETA * log_partition(pb.ref, pb.rewards, BETA)
    best = (pb.prompt_probs * beta_log_z).sum()
    for seed in range(5):
        policy = problem(100 + seed).policy
        value = kl_objective(policy, pb.ref, pb.rewards, BETA, pb.prompt_probs)
        route2 = (pb.prompt_probs * (beta_log_z - BETA * categorical_kl(policy, star))).sum()
        assert torch.allclose(value, route2, atol=1e-13)
        assert value < best


def test_kl_objective_extreme_values_are_finite():
    ref = torch.log(torch.tensor([[0.2, 0.3, 0.5]], dtype=DTYPE))
    rewards = torch.tensor([[1e4, -1e4, 5e3]], dtype=DTYPE)
    star = torch.log_softmax(ref + rewards / 1e-3, -1)
    value = kl_objective(star, ref, rewards, 1e-3)
    assert torch.isfinite(value)
    assert torch.allclose(value, 1e-3 * log_partition(ref, rewards, 1e-3).sum(), atol=1e-9, rtol=0)


def _maximise_numerically(ref, rewards, prompt_p, beta, iters=100, newton_steps=2):
    """Maximise J over softmax logits: L-BFGS (strong Wolfe), then Newton steps on ∇J."""
    shape = ref.shape

    def objective(flat):
        logp = torch.log_softmax(flat.view(shape), -1)
        return (prompt_p[:, None] * logp.exp() * (rewards - beta * (logp - ref))).sum()

    logits = torch.zeros(shape.numel(), dtype=DTYPE, requires_grad=True)
    opt = torch.optim.LBFGS([logits], lr=1, max_iter=iters, tolerance_grad=1e-12,
                            tolerance_change=1e-15, history_size=50,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = -objective(logits)
        loss.backward()
        return loss

    opt.step(closure)
    flat = logits.detach()
    # a line search on J stalls near √ε; Newton on the gradient reaches full precision
    for _ in range(newton_steps):
        grad = torch.autograd.functional.jacobian(objective, flat)
        hess = torch.autograd.functional.hessian(objective, flat)
        flat = flat - torch.linalg.pinv(hess, hermitian=True) @ grad
    return torch.softmax(flat.view(shape), -1), objective(flat)


@pytest.mark.parametrize("seed, beta", [(0, 0.5), (1, 2.0)])
def test_numerical_maximiser_lands_on_optimal_policy(problem, seed, beta):
    pb = problem(seed, prompts=2, answers=4)
    policy, value = _maximise_numerically(pb.ref, pb.rewards, pb.prompt_probs, beta)
    assert torch.allclose(policy, optimal_policy(pb.ref, pb.rewards, beta), atol=1e-8, rtol=0)
    best = beta * (pb.prompt_probs * log_partition(pb.ref, pb.rewards, beta)).sum()
    assert torch.allclose(value, best, atol=1e-10, rtol=0)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan"), float("inf")])
def test_beta_must_be_positive_and_finite(problem, fn, beta):
    pb = problem()
    with pytest.raises(ValueError, match="beta"):
        fn(pb.ref, pb.rewards, beta)


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_mismatched_shapes(problem, fn):
    pb = problem()
    with pytest.raises(ValueError, match="rewards"):
        fn(pb.ref, pb.rewards[:, :-1], BETA)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_non_finite_rewards(problem, fn, bad):
    pb = problem()
    rewards = pb.rewards.clone()
    rewards[0, 0] = bad
    with pytest.raises(ValueError, match="rewards"):
        fn(pb.ref, rewards, BETA)


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_reference_must_be_log_probabilities(problem, fn):
    ref, rewards = problem().ref, problem().rewards
    with pytest.raises(ValueError, match="ref_logprobs"):  # NaN
        fn(torch.full_like(ref, float("nan")), rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # log-probs above 0
        fn(ref.exp(), rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # rows not summing to one
        fn(ref + 0.1, rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # not a (prompts, answers) table
        fn(ref[0], rewards[0], BETA)


def test_kl_objective_rejects_bad_arguments(problem):
    pb = problem()
    with pytest.raises(ValueError, match="beta"):
        kl_objective(pb.ref, pb.ref, pb.rewards, 0.0)
    with pytest.raises(ValueError, match="policy_logprobs"):
        kl_objective(pb.ref[:, :-1], pb.ref, pb.rewards, BETA)
    with pytest.raises(ValueError, match="policy_logprobs: expected each row to sum to 1"):
        kl_objective(pb.ref + 0.1, pb.ref, pb.rewards, BETA)
    with pytest.raises(ValueError, match="prompt_probs"):
        kl_objective(pb.ref, pb.ref, pb.rewards, BETA, pb.prompt_probs[:-1])
    with pytest.raises(ValueError, match="rewards"):
        kl_objective(pb.ref, pb.ref, pb.rewards[:-1], BETA)
    for bad in (torch.tensor([0.7, 0.7, 0.7], dtype=DTYPE), torch.tensor([1.5, -0.5, 0.0], dtype=DTYPE)):
        with pytest.raises(ValueError, match="prompt_probs"):
            kl_objective(pb.ref, pb.ref, pb.rewards, 1.0, prompt_probs=bad)


# --------------------------------------------------------------------------- bad input (issue 13)


def test_kl_objective_refuses_zero_prompts_with_a_value_error():
    empty = torch.zeros(0, 3, dtype=DTYPE)
    with pytest.raises(ValueError, match="ref_logprobs: expected a non-empty tensor"):
        kl_objective(empty, empty, empty, BETA)  # was a ZeroDivisionError


def test_beta_of_any_real_kind_gives_the_same_optimum(problem):
    pb = problem(2)
    want = optimal_policy(pb.ref, pb.rewards, 0.5)
    for beta in (np.float64(0.5), np.float32(0.5), torch.tensor(0.5), torch.tensor(0.5, dtype=DTYPE)):
        assert torch.equal(optimal_policy(pb.ref, pb.rewards, beta), want)
        assert torch.allclose(log_partition(pb.ref, pb.rewards, beta),
                              log_partition(pb.ref, pb.rewards, 0.5), atol=1e-15, rtol=0)
        assert float(kl_objective(pb.policy, pb.ref, pb.rewards, beta)) == \
            pytest.approx(float(kl_objective(pb.policy, pb.ref, pb.rewards, 0.5)), abs=1e-15)
    for bad in (True, np.bool_(True), torch.tensor(True), torch.tensor([0.5]), "0.5", 1 + 0j):
        with pytest.raises(ValueError, match="beta: expected a finite number > 0"):
            optimal_policy(pb.ref, pb.rewards, bad)


def test_tables_must_be_float_tensors(problem):
    pb = problem(2)
    with pytest.raises(ValueError, match="rewards: expected a float32 or float64 torch.Tensor, "
                                         "got list"):
        optimal_policy(pb.ref, pb.rewards.tolist(), BETA)
    with pytest.raises(ValueError, match="ref_logprobs: expected a float32 or float64 torch.Tensor"):
        log_partition(pb.ref.numpy(), pb.rewards, BETA)
    with pytest.raises(ValueError, match="prompt_probs: expected a float32 or float64"):
        kl_objective(pb.policy, pb.ref, pb.rewards, BETA, prompt_probs=[1 / 3] * 3)

"""Tests of the KL-regularised optimum in helpers.rlhf.

optimal_policy, log_partition, kl_objective (J(π)), categorical_kl and entropy, each against an
independent reference: a per-row loop of the formula as written, closed forms, and a numerical
maximisation of J (L-BFGS on softmax logits in float64, then Newton steps on the gradient).
"""

import math

import pytest
import torch

from helpers.numeric import DTYPE
from helpers.rlhf import categorical_kl, entropy, kl_objective, log_partition, optimal_policy

BETA = 0.5


def _table(seed: int = 0, prompts: int = 3, answers: int = 5):
    gen = torch.Generator().manual_seed(seed)
    ref = torch.log_softmax(torch.randn(prompts, answers, generator=gen, dtype=DTYPE), -1)
    rewards = torch.randn(prompts, answers, generator=gen, dtype=DTYPE)
    prompt_p = torch.softmax(torch.randn(prompts, generator=gen, dtype=DTYPE), -1)
    return ref, rewards, prompt_p


def _random_policy(seed: int, shape) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.log_softmax(torch.randn(*shape, generator=gen, dtype=DTYPE), -1)


# --------------------------------------------------------------------------- optimal_policy


def test_optimal_policy_matches_the_formula_row_by_row():
    ref, rewards, _ = _table()
    got = optimal_policy(ref, rewards, BETA)
    for x in range(ref.shape[0]):
        weights = [math.exp(float(ref[x, y])) * math.exp(float(rewards[x, y]) / BETA)
                   for y in range(ref.shape[1])]
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
    # log π_ref is added to r/β = 1e7, whose float64 spacing is ~2e-9: the tie is split to ~1e-9
    assert torch.allclose(got, want, atol=1e-8, rtol=0)


def test_optimal_policy_keeps_zero_reference_mass_at_zero():
    ref = torch.log(torch.tensor([[0.5, 0.0, 0.5]], dtype=DTYPE))
    got = optimal_policy(ref, torch.tensor([[0.0, 1e4, 1.0]], dtype=DTYPE), 1e-3)
    assert got[0, 1] == 0 and torch.isfinite(got).all()
    assert torch.allclose(got.sum(-1), torch.ones(1, dtype=DTYPE))


def test_optimal_policy_limits_in_beta():
    ref, rewards, _ = _table(1)
    assert torch.allclose(optimal_policy(ref, rewards, 1e9), ref.exp(), atol=1e-7, rtol=0)
    one_hot = torch.nn.functional.one_hot(rewards.argmax(-1), ref.shape[1]).to(DTYPE)
    assert torch.allclose(optimal_policy(ref, rewards, 1e-6), one_hot, atol=1e-12, rtol=0)


# --------------------------------------------------------------------------- log_partition


def test_log_partition_matches_the_sum():
    ref, rewards, _ = _table(2)
    rows = [[math.exp(float(ref[x, y]) + float(rewards[x, y]) / BETA) for y in range(ref.shape[1])]
            for x in range(ref.shape[0])]
    want = torch.tensor([BETA * math.log(sum(row)) for row in rows], dtype=DTYPE)
    assert torch.allclose(log_partition(ref, rewards, BETA), want, atol=1e-13, rtol=0)


def test_log_partition_extreme_values_are_finite_and_exact():
    ref = torch.log(torch.tensor([[0.25, 0.75], [0.5, 0.5]], dtype=DTYPE))
    rewards = torch.tensor([[1e4, -1e4], [1e4, 1e4]], dtype=DTYPE)
    got = log_partition(ref, rewards, 1e-3)
    # β log Z = r_max + β log(π_ref mass on the top answers) + (terms below e^(-2e7))
    want = torch.tensor([1e4 + 1e-3 * math.log(0.25), 1e4], dtype=DTYPE)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, want, atol=1e-9, rtol=0)


def test_log_partition_is_the_optimal_value():
    ref, rewards, prompt_p = _table(3)
    star = torch.log_softmax(ref + rewards / BETA, -1)
    value = kl_objective(star, ref, rewards, BETA, prompt_p)
    assert torch.allclose(value, (prompt_p * log_partition(ref, rewards, BETA)).sum(), atol=1e-13)


# --------------------------------------------------------------------------- kl_objective


def test_kl_objective_matches_a_loop():
    ref, rewards, prompt_p = _table(4)
    policy = _random_policy(5, ref.shape)
    want = sum(float(prompt_p[x]) * sum(
        math.exp(float(policy[x, y])) * (float(rewards[x, y])
                                          - BETA * (float(policy[x, y]) - float(ref[x, y])))
        for y in range(ref.shape[1])) for x in range(ref.shape[0]))
    got = kl_objective(policy, ref, rewards, BETA, prompt_p)
    assert abs(float(got) - want) < 1e-13


def test_kl_objective_default_prompt_probs_are_uniform():
    ref, rewards, _ = _table(6)
    policy = _random_policy(7, ref.shape)
    uniform = torch.full((ref.shape[0],), 1 / ref.shape[0], dtype=DTYPE)
    assert torch.allclose(kl_objective(policy, ref, rewards, BETA),
                          kl_objective(policy, ref, rewards, BETA, uniform), atol=1e-15)


def test_kl_objective_second_route_and_upper_bound():
    """J(π) = E_x[β log Z(x) − β KL(π‖π*)] ≤ β E_x log Z(x) for random policies."""
    ref, rewards, prompt_p = _table(8)
    star = torch.log_softmax(ref + rewards / BETA, -1)
    best = (prompt_p * log_partition(ref, rewards, BETA)).sum()
    for seed in range(5):
        policy = _random_policy(100 + seed, ref.shape)
        value = kl_objective(policy, ref, rewards, BETA, prompt_p)
        route2 = (prompt_p * (log_partition(ref, rewards, BETA)
                              - BETA * categorical_kl(policy, star))).sum()
        assert torch.allclose(value, route2, atol=1e-13)
        assert value < best


def test_kl_objective_extreme_values_are_finite():
    ref = torch.log(torch.tensor([[0.2, 0.3, 0.5]], dtype=DTYPE))
    rewards = torch.tensor([[1e4, -1e4, 5e3]], dtype=DTYPE)
    star = torch.log_softmax(ref + rewards / 1e-3, -1)
    value = kl_objective(star, ref, rewards, 1e-3)
    assert torch.isfinite(value)
    assert torch.allclose(value, log_partition(ref, rewards, 1e-3).sum(), atol=1e-9, rtol=0)


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
def test_numerical_maximiser_lands_on_optimal_policy(seed, beta):
    ref, rewards, prompt_p = _table(seed, prompts=2, answers=4)
    policy, value = _maximise_numerically(ref, rewards, prompt_p, beta)
    assert torch.allclose(policy, optimal_policy(ref, rewards, beta), atol=1e-8, rtol=0)
    assert torch.allclose(value, (prompt_p * log_partition(ref, rewards, beta)).sum(),
                          atol=1e-10, rtol=0)


# --------------------------------------------------------------------------- KL and entropy


def test_categorical_kl_matches_a_loop_and_is_zero_on_the_diagonal():
    p, q = _random_policy(9, (4, 5)), _random_policy(10, (4, 5))
    want = torch.tensor([sum(math.exp(float(p[i, k])) * (float(p[i, k]) - float(q[i, k]))
                             for k in range(5)) for i in range(4)], dtype=DTYPE)
    got = categorical_kl(p, q)
    assert torch.allclose(got, want, atol=1e-14, rtol=0)
    assert (got > 0).all()
    assert torch.allclose(categorical_kl(p, p), torch.zeros(4, dtype=DTYPE), atol=1e-15)


def test_categorical_kl_zero_mass_conventions():
    zero = float("-inf")
    p = torch.log(torch.tensor([[0.5, 0.5, 0.0]], dtype=DTYPE))
    q = torch.log(torch.tensor([[0.25, 0.25, 0.5]], dtype=DTYPE))
    assert torch.allclose(categorical_kl(p, q), torch.tensor([math.log(2)], dtype=DTYPE))
    # mass where q has none: KL(p‖q) = +inf; 0 · log 0 terms count as 0
    q_zero = torch.tensor([[math.log(0.5), zero, math.log(0.5)]], dtype=DTYPE)
    assert categorical_kl(p, q_zero)[0] == float("inf")


def test_entropy_matches_a_loop_and_its_extremes():
    lp = _random_policy(11, (3, 6))
    want = torch.tensor([-sum(math.exp(float(v)) * float(v) for v in row) for row in lp],
                        dtype=DTYPE)
    assert torch.allclose(entropy(lp), want, atol=1e-14, rtol=0)
    uniform = torch.full((2, 6), -math.log(6), dtype=DTYPE)
    assert torch.allclose(entropy(uniform), torch.full((2,), math.log(6), dtype=DTYPE))
    one_hot = torch.log(torch.tensor([[0.0, 1.0, 0.0]], dtype=DTYPE))
    assert entropy(one_hot)[0] == 0


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
@pytest.mark.parametrize("beta", [0.0, -1.0, float("nan"), float("inf")])
def test_beta_must_be_positive_and_finite(fn, beta):
    ref, rewards, _ = _table()
    with pytest.raises(ValueError, match="beta"):
        fn(ref, rewards, beta)


def test_kl_objective_rejects_bad_beta():
    ref, rewards, _ = _table()
    with pytest.raises(ValueError, match="beta"):
        kl_objective(ref, ref, rewards, 0.0)


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_mismatched_shapes(fn):
    ref, rewards, _ = _table()
    with pytest.raises(ValueError, match="rewards"):
        fn(ref, rewards[:, :-1], BETA)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_non_finite_rewards(fn, bad):
    ref, rewards, _ = _table()
    rewards[0, 0] = bad
    with pytest.raises(ValueError, match="rewards"):
        fn(ref, rewards, BETA)


@pytest.mark.parametrize("fn", [optimal_policy, log_partition])
def test_reference_must_be_log_probabilities(fn):
    ref, rewards, _ = _table()
    with pytest.raises(ValueError, match="ref_logprobs"):  # NaN
        fn(torch.full_like(ref, float("nan")), rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # log-probs above 0
        fn(ref.exp(), rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # rows not summing to one
        fn(ref + 0.1, rewards, BETA)
    with pytest.raises(ValueError, match="ref_logprobs"):  # not a (prompts, answers) table
        fn(ref[0], rewards[0], BETA)


def test_kl_objective_rejects_bad_shapes():
    ref, rewards, prompt_p = _table()
    with pytest.raises(ValueError, match="policy_logprobs"):
        kl_objective(ref[:, :-1], ref, rewards, BETA)
    with pytest.raises(ValueError, match="prompt_probs"):
        kl_objective(ref, ref, rewards, BETA, prompt_p[:-1])
    with pytest.raises(ValueError, match="rewards"):
        kl_objective(ref, ref, rewards[:-1], BETA)


def test_categorical_kl_rejects_mismatched_shapes():
    p = _random_policy(12, (2, 3))
    with pytest.raises(ValueError, match="p_logprobs"):
        categorical_kl(p, p[:, :2])


# Edge cases: kl_objective validates the policy table, a zero-probability entry (log-prob −inf)
# keeps gradients finite, and ties split in exact π_ref proportion at extreme r/β.


def test_kl_objective_rejects_policy_rows_not_summing_to_one():
    ref, rewards, _ = _table()
    try:
        kl_objective(ref + 0.1, ref, rewards, BETA)
    except ValueError as err:
        assert "policy_logprobs" in str(err)
    else:
        raise AssertionError("no ValueError for policy rows summing to e^0.1")


def test_categorical_kl_gradient_is_finite_with_zero_mass():
    p = torch.tensor([[0.0, float("-inf")]], dtype=DTYPE, requires_grad=True)
    categorical_kl(p, p.detach()).sum().backward()
    assert torch.isfinite(p.grad).all(), f"gradient {p.grad.tolist()}"


def test_optimal_policy_tie_split_to_full_precision_at_extremes():
    ref = torch.log(torch.tensor([[0.2, 0.3, 0.5]], dtype=DTYPE))
    got = optimal_policy(ref, torch.tensor([[1e4, 1e4, -1e4]], dtype=DTYPE), 1e-3)
    want = torch.tensor([[0.4, 0.6, 0.0]], dtype=DTYPE)
    assert torch.allclose(got, want, atol=1e-14, rtol=0), f"got {got.tolist()}"

"""Tests of helpers.tabular_dpo against loops over pairs and the closed-form optimum."""

import math

import numpy as np
import pytest
import torch

from helpers.dpo import implicit_reward
from helpers.numeric import DTYPE, generator
from helpers.optimum import log_partition, optimal_policy
from helpers.tabular_dpo import (
    all_pairs,
    expected_bt_loss,
    expected_dpo_loss,
    fit_tabular_dpo,
    pairwise_preference_probs,
    preference_entropy,
)


@pytest.fixture
def tables(problem):
    """make(seed) → (ref_logprobs, rewards, policy_logprobs), (3 prompts, 4 answers) each."""
    def make(seed: int = 0):
        pb = problem(seed, prompts=3, answers=4)
        return pb.ref, pb.rewards, pb.policy
    return make


def _sig(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _loop_expected(policy, ref, rewards, beta, per_pair):
    """Mean over prompts and unordered pairs {i, j}, both outcomes weighted by Bradley–Terry."""
    total, count = 0.0, 0
    for x in range(rewards.shape[0]):
        for i in range(rewards.shape[1]):
            for j in range(i + 1, rewards.shape[1]):
                p = _sig(float(rewards[x, i] - rewards[x, j]))
                total += p * per_pair(x, i, j) + (1 - p) * per_pair(x, j, i)
                count += 1
    return total / count


def test_all_pairs_lists_each_ordered_pair_once():
    first, second = all_pairs(4)
    assert first.shape == second.shape == (12,)
    pairs = set(zip(first.tolist(), second.tolist(), strict=True))
    assert pairs == {(i, j) for i in range(4) for j in range(4) if i != j}
    with pytest.raises(ValueError, match="n_answers"):
        all_pairs(1)


def test_pairwise_preference_probs_match_loop_and_are_complementary(tables):
    _, rewards, _ = tables()
    probs = pairwise_preference_probs(rewards)
    assert probs.shape == (3, 4, 4)
    for x, i, j in [(0, 1, 2), (2, 3, 0), (1, 0, 0)]:
        assert abs(float(probs[x, i, j]) - _sig(float(rewards[x, i] - rewards[x, j]))) < 1e-15
    assert torch.allclose(probs + probs.transpose(1, 2), torch.ones_like(probs), atol=1e-15)
    with pytest.raises(ValueError, match="rewards"):
        pairwise_preference_probs(rewards[0])


@pytest.mark.parametrize("beta", [0.2, 1.5])
def test_expected_dpo_loss_matches_loop(tables, beta):
    ref, rewards, policy = tables()

    def per_pair(x, w, l):
        h = float(policy[x, w] - ref[x, w] - policy[x, l] + ref[x, l])
        return math.log1p(math.exp(-beta * h))

    want = _loop_expected(policy, ref, rewards, beta, per_pair)
    got = float(expected_dpo_loss(policy, ref, rewards, beta))
    assert abs(got - want) < 1e-12


def test_expected_dpo_loss_at_reference_is_log2(tables):
    ref, rewards, _ = tables()
    assert abs(float(expected_dpo_loss(ref, ref, rewards, 0.3)) - math.log(2)) < 1e-15
    with pytest.raises(ValueError, match="rewards"):
        expected_dpo_loss(ref, ref, rewards[:, :3], 0.3)
    with pytest.raises(ValueError, match="policy_logprobs: expected each row to sum to 1"):
        expected_dpo_loss(ref - 0.1, ref, rewards, 0.3)
    with pytest.raises(ValueError, match="beta"):  # checked by dpo_loss
        expected_dpo_loss(ref, ref, rewards, -0.3)


def test_expected_bt_loss_matches_loop_and_ignores_prompt_constants(tables):
    ref, rewards, policy = tables()
    model = torch.randn(3, 4, generator=generator(9), dtype=DTYPE)

    def per_pair(x, w, l):
        return -math.log(_sig(float(model[x, w] - model[x, l])))

    want = _loop_expected(policy, ref, rewards, 1.0, per_pair)
    assert abs(float(expected_bt_loss(model, rewards)) - want) < 1e-12
    shifted = model + torch.tensor([[5.0], [-2.0], [0.3]], dtype=DTYPE)
    assert abs(float(expected_bt_loss(shifted, rewards) - expected_bt_loss(model, rewards))) < 1e-14
    with pytest.raises(ValueError, match="model_rewards"):
        expected_bt_loss(model[:, :2], rewards)


def test_dpo_loss_is_bt_loss_of_implicit_reward(tables):
    ref, rewards, policy = tables()
    dpo = expected_dpo_loss(policy, ref, rewards, 0.7)
    bt = expected_bt_loss(implicit_reward(policy, ref, 0.7), rewards)
    assert abs(float(dpo - bt)) < 1e-14


def test_preference_entropy_is_the_least_expected_loss(tables):
    _, rewards, _ = tables()
    floor = preference_entropy(rewards)
    assert abs(float(floor - expected_bt_loss(rewards, rewards))) < 1e-14
    for seed in range(3):
        other = torch.randn(3, 4, generator=generator(seed + 20), dtype=DTYPE)
        assert expected_bt_loss(other, rewards) > floor
    with pytest.raises(ValueError, match="rewards"):
        preference_entropy(torch.tensor([[0.0, float("nan")]], dtype=DTYPE))


@pytest.mark.parametrize("beta", [0.25, 2.0])
def test_fit_reaches_the_rlhf_optimum(tables, beta):
    ref, rewards, _ = tables()
    policy, history = fit_tabular_dpo(ref, rewards, beta, steps=12)
    assert len(history) == 12 and history[0] == pytest.approx(math.log(2), abs=1e-15)
    star = optimal_policy(ref, rewards, beta)
    assert torch.allclose(policy.probs().detach(), star, atol=1e-10, rtol=0)
    offset = implicit_reward(policy.log_probs().detach(), ref, beta) - rewards
    assert torch.allclose(offset, -beta * log_partition(ref, rewards, beta)[:, None], atol=1e-10,
                          rtol=0)
    assert history[-1] - float(preference_entropy(rewards)) < 1e-12  # the least loss possible


def test_fit_rejects_bad_arguments(tables):
    ref, rewards, _ = tables()
    with pytest.raises(ValueError, match="steps"):
        fit_tabular_dpo(ref, rewards, 0.5, steps=0)
    with pytest.raises(ValueError, match="beta"):
        fit_tabular_dpo(ref, rewards, -1.0)
    with pytest.raises(ValueError, match="ref_logprobs"):
        fit_tabular_dpo(ref.exp(), rewards, 0.5)


# --------------------------------------------------------------------------- bad input (issue 13)


@pytest.mark.parametrize("beta", [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 500.0, 1000.0])
def test_fit_works_across_the_beta_range_of_the_course(problem, beta):
    # the ridge scales with the Hessian (∝ β²): a fixed 1e-12 made the solve singular for β ≳ 500
    pb = problem(3, prompts=2, answers=3)
    policy, history = fit_tabular_dpo(pb.ref, pb.rewards, beta, steps=15)
    assert all(math.isfinite(h) for h in history)
    assert all(b <= a + 1e-15 for a, b in zip(history, history[1:]))  # Armijo: never up
    assert torch.isfinite(policy.logits).all()
    if beta >= 0.1:  # small β needs logits of size r/β: more than 15 Newton steps
        star = optimal_policy(pb.ref, pb.rewards, beta)
        assert torch.allclose(policy.probs().detach(), star, atol=1e-9, rtol=0)


@pytest.mark.parametrize("beta", [0.1, 1.0, 1000.0])
def test_fit_works_in_float32(problem, beta):
    pb = problem(5, prompts=2, answers=3)
    ref, rewards = pb.ref.float(), pb.rewards.float()
    policy, history = fit_tabular_dpo(ref, rewards, beta, steps=10)
    assert policy.logits.dtype == torch.float32 and all(math.isfinite(h) for h in history)
    star = optimal_policy(pb.ref, pb.rewards, beta)
    assert torch.allclose(policy.probs().detach().double(), star, atol=1e-4, rtol=0)


def test_fit_ipo_and_label_smoothing_at_large_beta(problem):
    pb = problem(4, prompts=2, answers=3)
    for kwargs in ({"ipo": True}, {"label_smoothing": 0.2}):
        _, history = fit_tabular_dpo(pb.ref, pb.rewards, 1000.0, steps=4, **kwargs)
        assert all(math.isfinite(h) for h in history) and history[-1] <= history[0]


def test_fit_and_the_expected_losses_reject_non_finite_or_empty_tables(tables):
    ref, rewards, policy = tables()
    zero_mass = ref.clone()
    zero_mass[0] = torch.log(torch.tensor([0.0, 0.5, 0.25, 0.25], dtype=DTYPE))
    with pytest.raises(ValueError, match="ref_logprobs: expected finite"):
        fit_tabular_dpo(zero_mass, rewards, 0.5)  # the loss needs finite log-probs
    with pytest.raises(ValueError, match="ref_logprobs: expected finite"):
        expected_dpo_loss(policy, zero_mass, rewards, 0.5)
    with pytest.raises(ValueError, match="rewards: expected"):
        expected_dpo_loss(policy, ref, rewards[:0], 0.5)
    with pytest.raises(ValueError, match="ref_logprobs: expected a float32 or float64 torch.Tensor"):
        fit_tabular_dpo(ref.tolist(), rewards, 0.5)
    for bad in (True, "0.5", float("nan"), None):
        with pytest.raises(ValueError, match="beta"):
            fit_tabular_dpo(ref, rewards, bad, steps=1)
    with pytest.raises(ValueError, match="ipo: expected True or False"):
        expected_dpo_loss(policy, ref, rewards, 0.5, ipo="yes")


def test_all_pairs_checks_its_device():
    first, _ = all_pairs(3, "cpu")
    assert first.device.type == "cpu"
    for bad in ("gpu", 3.5, [0]):
        with pytest.raises(ValueError, match="device: expected"):
            all_pairs(3, bad)
    first, second = all_pairs(np.int64(3))
    assert torch.equal(first, all_pairs(3)[0]) and torch.equal(second, all_pairs(3)[1])

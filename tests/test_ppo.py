"""Unit tests of helpers.ppo against independent references (plain-Python loops, sympy, autograd)."""

import math
import statistics

import numpy as np
import pytest
import sympy as sp
import torch

from helpers import ppo
from helpers.optimum import kl_objective

D = torch.float64


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


# --------------------------------------------------------------------------- ppo_clip_loss


def _clip_loss_loop(logp, old, adv, eps):
    rho = math.exp(logp - old)
    clipped = min(max(rho, 1 - eps), 1 + eps)
    return -min(rho * adv, clipped * adv)


def test_ppo_clip_loss_matches_a_loop_and_keeps_the_shape():
    g = _gen()
    old = -torch.rand(3, 5, generator=g, dtype=D) * 3
    logps = (old + torch.randn(3, 5, generator=g, dtype=D) * 0.4).clamp(max=0)
    adv = torch.randn(3, 5, generator=g, dtype=D)
    for eps in (0.1, 0.2, 0.5):
        got = ppo.ppo_clip_loss(logps, old, adv, eps)
        assert got.shape == (3, 5)
        for i in range(3):
            for j in range(5):
                want = _clip_loss_loop(float(logps[i, j]), float(old[i, j]), float(adv[i, j]), eps)
                assert abs(float(got[i, j]) - want) < 1e-12


def test_ppo_clip_loss_gradient_matches_sympy_on_every_region():
    rho, a, eps = sp.symbols("rho A epsilon", real=True)
    surrogate = sp.Min(rho * a, sp.Min(sp.Max(rho, 1 - eps), 1 + eps) * a)
    d_loss = sp.diff(-surrogate, rho)
    old = torch.tensor(-1.0, dtype=D)
    for r_val in (0.5, 0.7, 0.95, 1.05, 1.3, 2.0):
        for a_val in (1.5, -0.7):
            logp = (old + math.log(r_val)).clone().requires_grad_(True)
            loss = ppo.ppo_clip_loss(logp, old, torch.tensor(a_val, dtype=D), 0.2)
            (g,) = torch.autograd.grad(loss, logp)  # ∂loss/∂log π = ρ ∂loss/∂ρ
            want = float(d_loss.subs({rho: r_val, a: a_val, eps: sp.Rational(1, 5)})) * r_val
            assert abs(float(g) - want) < 1e-12, (r_val, a_val)


def test_ppo_clip_loss_treats_old_logps_and_advantages_as_constants():
    old = torch.tensor([-1.0, -2.0], dtype=D, requires_grad=True)
    adv = torch.tensor([1.0, -1.0], dtype=D, requires_grad=True)
    logps = torch.tensor([-1.1, -1.9], dtype=D, requires_grad=True)
    ppo.ppo_clip_loss(logps, old, adv).sum().backward()
    assert old.grad is None and adv.grad is None and logps.grad is not None


@pytest.mark.parametrize("kwargs, name", [
    ({"clip_eps": 0.0}, "clip_eps"),
    ({"clip_eps": -0.1}, "clip_eps"),
    ({"clip_eps": float("nan")}, "clip_eps"),
    ({"advantages": torch.ones(2, dtype=D)}, "advantages"),
    ({"advantages": torch.tensor([1.0, float("nan"), 0.0], dtype=D)}, "advantages"),
    ({"logps": torch.tensor([-1.0, float("inf"), -1.0], dtype=D)}, "logps"),
    ({"logps": torch.tensor([-1.0, 0.5, -1.0], dtype=D)}, "logps"),
    ({"old_logps": torch.tensor([-1.0, -float("inf"), -1.0], dtype=D)}, "old_logps"),
])
def test_ppo_clip_loss_rejects_bad_input(kwargs, name):
    args = {"logps": torch.full((3,), -1.0, dtype=D), "old_logps": torch.full((3,), -1.2, dtype=D),
            "advantages": torch.ones(3, dtype=D), "clip_eps": 0.2} | kwargs
    with pytest.raises(ValueError, match=name):
        ppo.ppo_clip_loss(**args)


def test_ppo_clip_loss_rejects_empty_input():
    empty = torch.zeros(0, dtype=D)
    with pytest.raises(ValueError, match="logps"):
        ppo.ppo_clip_loss(empty, empty, empty)


# --------------------------------------------------------------------------- grpo_advantages


def test_grpo_advantages_match_statistics_per_group():
    g = _gen(1)
    rewards = torch.randn(12, generator=g, dtype=D)
    for group_size in (2, 3, 4, 6):
        scaled = ppo.grpo_advantages(rewards, group_size)
        centred = ppo.grpo_advantages(rewards, group_size, scale=False)
        for start in range(0, 12, group_size):
            group = [float(r) for r in rewards[start:start + group_size]]
            mean, std = statistics.mean(group), statistics.stdev(group)  # stdev: n − 1
            for i, r in enumerate(group):
                assert abs(float(centred[start + i]) - (r - mean)) < 1e-12
                assert abs(float(scaled[start + i]) - (r - mean) / (std + 1e-4)) < 1e-10


def test_grpo_advantages_of_an_all_equal_group_are_zero_and_eps_is_used():
    rewards = torch.tensor([2.0, 2.0, 2.0, 0.0, 1.0, 2.0], dtype=D)
    got = ppo.grpo_advantages(rewards, 3, eps=0.5)
    assert torch.equal(got[:3], torch.zeros(3, dtype=D))
    assert torch.allclose(got[3:], torch.tensor([-1.0, 0.0, 1.0], dtype=D) / 1.5, atol=1e-14)


def test_grpo_advantages_sum_to_zero_in_each_group():
    rewards = torch.randn(20, generator=_gen(2), dtype=D)
    sums = ppo.grpo_advantages(rewards, 5).reshape(4, 5).sum(-1)
    assert torch.allclose(sums, torch.zeros(4, dtype=D), atol=1e-12)


@pytest.mark.parametrize("rewards, kwargs, name", [
    (torch.ones(6, dtype=D), {"group_size": 4}, "group_size"),
    (torch.ones(6, dtype=D), {"group_size": 0}, "group_size"),
    (torch.ones(6, dtype=D), {"group_size": 1}, "group_size"),
    (torch.ones(6, dtype=D), {"group_size": 2.0}, "group_size"),
    (torch.ones(6, dtype=D), {"group_size": 3, "eps": 0.0}, "eps"),
    (torch.ones(6, dtype=D), {"group_size": 3, "eps": -1e-4}, "eps"),
    (torch.ones(2, 3, dtype=D), {"group_size": 3}, "rewards"),
    (torch.zeros(0, dtype=D), {"group_size": 1, "scale": False}, "rewards"),
    (torch.tensor([1.0, float("nan")], dtype=D), {"group_size": 2}, "rewards"),
    (torch.tensor([1.0, float("inf")], dtype=D), {"group_size": 2}, "rewards"),
])
def test_grpo_advantages_reject_bad_input(rewards, kwargs, name):
    with pytest.raises(ValueError, match=name):
        ppo.grpo_advantages(rewards, **kwargs)


def test_grpo_advantages_group_of_one_without_scaling_is_zero():
    assert torch.equal(ppo.grpo_advantages(torch.tensor([3.0, -1.0], dtype=D), 1, scale=False),
                       torch.zeros(2, dtype=D))


# --------------------------------------------------------------------------- per_token_rewards


def _token_batch(seed=3):
    g = _gen(seed)
    mask = torch.tensor([[False, True, True, True, False],
                         [False, False, True, False, False],
                         [True, True, True, True, True]])
    logps = -torch.rand(3, 5, generator=g, dtype=D) * 3
    ref = -torch.rand(3, 5, generator=g, dtype=D) * 3
    scores = torch.randn(3, generator=g, dtype=D)
    return scores, logps, ref, mask


def test_per_token_rewards_match_a_loop():
    scores, logps, ref, mask = _token_batch()
    beta = 0.3
    got = ppo.per_token_rewards(scores, logps, ref, mask, beta)
    for i in range(3):
        scored = [t for t in range(5) if mask[i, t]]
        for t in range(5):
            want = 0.0
            if mask[i, t]:
                want = -beta * (float(logps[i, t]) - float(ref[i, t]))
                if t == scored[-1]:
                    want += float(scores[i])
            assert abs(float(got[i, t]) - want) < 1e-12, (i, t)


def test_per_token_rewards_sum_to_the_kl_shaped_return():
    scores, logps, ref, mask = _token_batch(4)
    got = ppo.per_token_rewards(scores, logps, ref, mask, 0.7).sum(-1)
    seq = [sum(float(logps[i, t]) - float(ref[i, t]) for t in range(5) if mask[i, t]) for i in range(3)]
    want = torch.tensor([float(scores[i]) - 0.7 * seq[i] for i in range(3)], dtype=D)
    assert torch.allclose(got, want, atol=1e-12)


def test_per_token_rewards_ignore_values_off_the_mask_and_are_detached():
    scores, logps, ref, mask = _token_batch(5)
    noisy = torch.where(mask, logps, torch.full_like(logps, -50.0)).requires_grad_(True)
    got = ppo.per_token_rewards(scores, noisy, ref, mask, 0.2)
    assert torch.equal(got, ppo.per_token_rewards(scores, logps, ref, mask, 0.2))
    assert not got.requires_grad


@pytest.mark.parametrize("change, name", [
    ({"scores": torch.zeros(2, dtype=D)}, "scores"),
    ({"scores": torch.tensor([0.0, float("nan"), 1.0], dtype=D)}, "scores"),
    ({"ref_logps": torch.zeros(3, 4, dtype=D)}, "ref_logps"),
    ({"mask": torch.ones(3, 5)}, "mask"),
    ({"mask": torch.tensor([[True] * 5, [False] * 5, [True] * 5])}, "mask"),
    ({"logps": torch.full((3, 5), 0.5, dtype=D)}, "logps"),
    ({"logps": torch.full((3, 5), float("nan"), dtype=D)}, "logps"),
    ({"ref_logps": torch.full((3, 5), -float("inf"), dtype=D)}, "ref_logps"),
    ({"logps": torch.zeros(3, dtype=D)}, "logps"),
    ({"beta": -0.1}, "beta"),
    ({"beta": float("inf")}, "beta"),
])
def test_per_token_rewards_reject_bad_input(change, name):
    scores, logps, ref, mask = _token_batch()
    args = {"scores": scores, "logps": logps, "ref_logps": ref, "mask": mask, "beta": 0.1} | change
    with pytest.raises(ValueError, match=name):
        ppo.per_token_rewards(**args)


def test_per_token_rewards_reject_an_empty_batch():
    empty = torch.zeros(0, 5, dtype=D)
    with pytest.raises(ValueError, match="logps"):
        ppo.per_token_rewards(torch.zeros(0, dtype=D), empty, empty, torch.zeros(0, 5, dtype=torch.bool), 0.1)


# --------------------------------------------------------------------------- reward_to_go


def test_reward_to_go_matches_the_backward_recursion():
    rewards = torch.randn(4, 6, generator=_gen(6), dtype=D)
    for discount in (1.0, 0.9, 0.3):
        got = ppo.reward_to_go(rewards, discount)
        for i in range(4):
            running = 0.0
            for t in reversed(range(6)):
                running = float(rewards[i, t]) + discount * running  # G_t = r_t + γ G_{t+1}
                assert abs(float(got[i, t]) - running) < 1e-12


@pytest.mark.parametrize("rewards, discount, name", [
    (torch.ones(2, 3, dtype=D), 0.0, "discount"),
    (torch.ones(2, 3, dtype=D), 1.5, "discount"),
    (torch.ones(3, dtype=D), 0.9, "rewards"),
    (torch.zeros(2, 0, dtype=D), 0.9, "rewards"),
    (torch.tensor([[1.0, float("nan")]], dtype=D), 0.9, "rewards"),
])
def test_reward_to_go_rejects_bad_input(rewards, discount, name):
    with pytest.raises(ValueError, match=name):
        ppo.reward_to_go(rewards, discount)


# --------------------------------------------------------------------------- kl_objective_gradient


def _table(seed=7):
    g = _gen(seed)
    logits = torch.randn(3, 4, generator=g, dtype=D)
    ref = torch.log_softmax(torch.randn(3, 4, generator=g, dtype=D), -1)
    rewards = torch.randn(3, 4, generator=g, dtype=D)
    return logits, ref, rewards


def test_kl_objective_gradient_matches_the_closed_form_and_finite_differences():
    logits, ref, rewards = _table()
    beta = 0.4
    got = ppo.kl_objective_gradient(logits, ref, rewards, beta)
    pi = torch.softmax(logits, -1)
    shaped = rewards - beta * (torch.log_softmax(logits, -1) - ref)  # R = r − β log(π/π_ref)
    closed = pi * (shaped - (pi * shaped).sum(-1, keepdim=True)) / 3  # p(x) = 1/3
    assert torch.allclose(got, closed, atol=1e-12)
    h = 1e-6
    for x in range(3):
        for y in range(4):
            e = torch.zeros_like(logits)
            e[x, y] = h
            up = kl_objective(torch.log_softmax(logits + e, -1), ref, rewards, beta)
            down = kl_objective(torch.log_softmax(logits - e, -1), ref, rewards, beta)
            assert abs(float(up - down) / (2 * h) - float(got[x, y])) < 1e-8


@pytest.mark.parametrize("change, name", [
    ({"logits": torch.zeros(4, dtype=D)}, "logits"),
    ({"rewards": torch.zeros(3, 5, dtype=D)}, "rewards"),
    ({"rewards": torch.full((3, 4), float("nan"), dtype=D)}, "rewards"),
    ({"beta": 0.0}, "beta"),
])
def test_kl_objective_gradient_rejects_bad_input(change, name):
    logits, ref, rewards = _table()
    args = {"logits": logits, "ref_logprobs": ref, "rewards": rewards, "beta": 0.5} | change
    with pytest.raises(ValueError, match=name):
        ppo.kl_objective_gradient(**args)


# --------------------------------------------------------------------------- bad input (issue 13)


def test_ppo_clip_loss_refuses_a_ratio_times_advantage_that_overflows():
    old = torch.tensor([-800.0, -1.0], dtype=D)
    logps = torch.tensor([-1.0, -1.0], dtype=D)
    for adv in (0.0, -1.0):  # ρ = e^799 = inf: inf·0 was NaN, inf·(−1) an infinite loss
        with pytest.raises(ValueError, match="logps, old_logps: exp.*overflows float64"):
            ppo.ppo_clip_loss(logps, old, torch.tensor([adv, 1.0], dtype=D))
    f32 = ppo.ppo_clip_loss(torch.tensor([-1.0]), torch.tensor([-60.0]), torch.tensor([-1.0]))
    assert torch.isfinite(f32).all()  # ρ = e^59 fits float32
    with pytest.raises(ValueError, match="overflows float32"):
        ppo.ppo_clip_loss(torch.tensor([-1.0]), torch.tensor([-60.0]), torch.tensor([-1e20]))


def test_ppo_helpers_want_tensors_bools_and_numbers():
    with pytest.raises(ValueError, match="logps: expected a float32 or float64 torch.Tensor, got list"):
        ppo.ppo_clip_loss([-1.0], torch.tensor([-1.0], dtype=D), torch.tensor([1.0], dtype=D))
    with pytest.raises(ValueError, match="scale: expected True or False"):
        ppo.grpo_advantages(torch.ones(4, dtype=D), 2, scale="yes")
    with pytest.raises(ValueError, match="mask: expected a bool torch.Tensor"):
        ppo.per_token_rewards(torch.ones(1, dtype=D), -torch.ones(1, 2, dtype=D),
                              -torch.ones(1, 2, dtype=D), torch.ones(1, 2), 0.1)
    rewards = torch.tensor([[1.0, 2.0, 3.0]], dtype=D)
    want = ppo.reward_to_go(rewards, 0.5)
    for discount in (np.float64(0.5), np.float32(0.5), torch.tensor(0.5, dtype=D)):
        assert torch.allclose(ppo.reward_to_go(rewards, discount), want, atol=1e-15, rtol=0)
    for bad in (True, float("nan"), "0.5"):
        with pytest.raises(ValueError, match="discount"):
            ppo.reward_to_go(rewards, bad)
    adv = ppo.grpo_advantages(torch.arange(4, dtype=D), np.int64(2))
    assert torch.equal(adv, ppo.grpo_advantages(torch.arange(4, dtype=D), 2))

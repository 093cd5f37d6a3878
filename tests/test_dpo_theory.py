"""Tests of helpers.dpo_theory: the first-order change of each answer's log-prob after one step.

References: a plain-Python loop over pairs; an SGD step through dpo_loss with autograd on a
model whose log-probs are affine in θ (first order is then exact); and the O(η²) error of a
real step on the tiny LM.
"""

import copy
import math

import numpy as np
import pytest
import torch

from helpers.dpo import dpo_loss, pair_logprobs
from helpers.dpo_theory import first_order_logp_change
from helpers.models import per_sequence_grads, trainable
from helpers.numeric import DTYPE, generator


def _grads(n: int, p: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = generator(seed)
    return (torch.randn(n, p, generator=gen, dtype=DTYPE), torch.randn(n, p, generator=gen, dtype=DTYPE),
            torch.rand(n, generator=gen, dtype=DTYPE))


@pytest.mark.parametrize("n, beta, lr", [(1, 0.1, 0.01), (3, 0.5, 0.2), (5, 2.0, 1.0)])
def test_matches_a_loop_over_pairs(n, beta, lr):
    g_w, g_l, w = _grads(n, 6, seed=n)
    got_w, got_l = first_order_logp_change(g_w, g_l, w, beta, lr)

    def dot(u, v):
        return sum(a * b for a, b in zip(u.tolist(), v.tolist(), strict=True))

    for j in range(n):
        want_w = lr * beta / n * sum(w[i].item() * (dot(g_w[j], g_w[i]) - dot(g_w[j], g_l[i]))
                                     for i in range(n))
        want_l = lr * beta / n * sum(w[i].item() * (dot(g_l[j], g_w[i]) - dot(g_l[j], g_l[i]))
                                     for i in range(n))
        assert math.isclose(got_w[j].item(), want_w, rel_tol=1e-12, abs_tol=1e-14)
        assert math.isclose(got_l[j].item(), want_l, rel_tol=1e-12, abs_tol=1e-14)


def test_one_pair_is_eta_beta_w_times_norm_minus_dot():
    g_w, g_l, w = _grads(1, 4, seed=7)
    got_w, _ = first_order_logp_change(g_w, g_l, w, 0.3, 0.05)
    want = 0.05 * 0.3 * w[0] * (g_w[0] @ g_w[0] - g_w[0] @ g_l[0])
    assert torch.allclose(got_w, want.reshape(1), atol=1e-15, rtol=0)


@pytest.mark.parametrize("beta, lr", [(0.1, 0.5), (1.0, 0.05)])
def test_exact_for_affine_log_probs(beta, lr):
    """log π = c + G θ: one SGD step through dpo_loss (autograd) changes it by exactly G Δθ."""
    n, p = 4, 5
    g_w, g_l, _ = _grads(n, p, seed=11)
    gen = generator(12)
    c_w, c_l, ref_w, ref_l = (-(torch.rand(n, generator=gen, dtype=DTYPE) * 5 + 20) for _ in range(4))
    theta = torch.zeros(p, dtype=DTYPE, requires_grad=True)
    losses, _, _ = dpo_loss(c_w + g_w @ theta, c_l + g_l @ theta, ref_w, ref_l, beta)
    (grad,) = torch.autograd.grad(losses.mean(), theta)
    step = -lr * grad
    weights = torch.sigmoid(-beta * ((c_w - ref_w) - (c_l - ref_l)))
    got_w, got_l = first_order_logp_change(g_w, g_l, weights, beta, lr)
    assert torch.allclose(got_w, g_w @ step, atol=1e-13, rtol=0)
    assert torch.allclose(got_l, g_l @ step, atol=1e-13, rtol=0)


def test_error_of_a_real_step_on_the_tiny_lm_is_second_order(tiny_lms, pair_batch):
    policy, reference = tiny_lms(vocab=7, hidden=4, seed=3)
    (tokens, labels), _ = pair_batch(n_pairs=3, vocab=7, seed=3)
    beta = 0.5
    with torch.no_grad():
        ref_w, ref_l = pair_logprobs(reference, tokens, labels)
        pol_w, pol_l = pair_logprobs(policy, tokens, labels)
    grads = per_sequence_grads(policy, tokens, labels)
    weights = torch.sigmoid(-beta * ((pol_w - ref_w) - (pol_l - ref_l)))
    errors = []
    for lr in (1e-2, 5e-3):
        moved = copy.deepcopy(policy)
        p_w, p_l = pair_logprobs(moved, tokens, labels)
        loss = dpo_loss(p_w, p_l, ref_w, ref_l, beta)[0].mean()
        with torch.no_grad():
            for param, g in zip(trainable(moved), torch.autograd.grad(loss, trainable(moved)), strict=True):
                param -= lr * g
            new_w, new_l = pair_logprobs(moved, tokens, labels)
        pred_w, pred_l = first_order_logp_change(grads[:3], grads[3:], weights, beta, lr)
        errors.append(max(float((new_w - pol_w - pred_w).abs().max()),
                          float((new_l - pol_l - pred_l).abs().max())))
    assert 3.0 < errors[0] / errors[1] < 5.0, f"halving η should divide the error by ~4, got {errors}"


@pytest.mark.parametrize("change, match", [
    (dict(beta=-0.1), "beta"),
    (dict(lr=0.0), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(weights=torch.ones(2, dtype=DTYPE)), "weights"),
    (dict(weights=torch.ones(0, dtype=DTYPE)), "weights"),
    (dict(rejected_grads=torch.zeros(3, 5, dtype=DTYPE)), "chosen_grads, rejected_grads"),
    (dict(chosen_grads=torch.full((3, 4), float("nan"), dtype=DTYPE)), "chosen_grads"),
])
def test_bad_arguments_raise_naming_them(change, match):
    g_w, g_l, w = _grads(3, 4, seed=0)
    args = dict(chosen_grads=g_w, rejected_grads=g_l, weights=w, beta=0.1, lr=0.1) | change
    with pytest.raises(ValueError, match=match):
        first_order_logp_change(**args)


def test_one_dtype_and_numbers_of_any_kind():
    g_w, g_l, w = _grads(3, 4, seed=1)
    with pytest.raises(ValueError, match="chosen_grads, rejected_grads, weights: expected one dtype"):
        first_order_logp_change(g_w, g_l.float(), w, 0.1, 0.1)  # was a RuntimeError from @
    want = first_order_logp_change(g_w, g_l, w, 0.5, 0.25)
    got = first_order_logp_change(g_w, g_l, w, np.float32(0.5), torch.tensor(0.25))
    assert all(torch.allclose(a, b, atol=1e-15, rtol=0) for a, b in zip(got, want, strict=True))
    with pytest.raises(ValueError, match="lr"):
        first_order_logp_change(g_w, g_l, w, 0.5, True)

"""Tests of helpers.dpo.dpo_loss against an independent elementwise formula and autograd."""

import math

import pytest
import torch

from helpers.dpo import dpo_loss
from helpers.numeric import DTYPE, generator


def _logps(n: int, seed: int) -> list[torch.Tensor]:
    """Four (n,) tensors of log-probabilities (< 0), drawn on a seeded CPU generator."""
    gen = generator(seed)
    return [-torch.rand(n, generator=gen, dtype=DTYPE) * 5 - 0.01 for _ in range(4)]


def _reference(pc, pr, rc, rr, beta, eps=0.0, ipo=False):
    """The per-pair loss written out with Python floats, one pair at a time."""
    out = []
    for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), strict=True):
        h = (a - c) - (b - d)  # log π(y_w)/π_ref(y_w) − log π(y_l)/π_ref(y_l)
        if ipo:
            out.append((h - 1 / (2 * beta)) ** 2)
        else:
            out.append((1 - eps) * math.log1p(math.exp(-beta * h))
                       + eps * math.log1p(math.exp(beta * h)))
    return torch.tensor(out, dtype=DTYPE)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_dpo_loss_matches_elementwise_formula(beta):
    pc, pr, rc, rr = _logps(16, seed=1)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta)
    assert losses.shape == (16,)
    assert torch.allclose(losses, _reference(pc, pr, rc, rr, beta), atol=1e-12, rtol=0)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 0.49])
def test_label_smoothing_mixes_both_directions(eps):
    pc, pr, rc, rr = _logps(12, seed=2)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, 0.7, label_smoothing=eps)
    assert torch.allclose(losses, _reference(pc, pr, rc, rr, 0.7, eps=eps), atol=1e-12, rtol=0)
    plain, _, _ = dpo_loss(pc, pr, rc, rr, 0.7)
    swapped, _, _ = dpo_loss(pr, pc, rr, rc, 0.7)  # chosen and rejected exchanged
    assert torch.allclose(losses, (1 - eps) * plain + eps * swapped, atol=1e-12, rtol=0)


@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_ipo_is_squared_distance_to_target(beta):
    pc, pr, rc, rr = _logps(10, seed=3)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta, ipo=True)
    assert torch.allclose(losses, _reference(pc, pr, rc, rr, beta, ipo=True), atol=1e-12, rtol=0)


def test_policy_equal_to_reference_gives_log2_and_zero_rewards():
    pc, pr, _, _ = _logps(8, seed=4)
    for eps in (0.0, 0.2):
        losses, cr, rr = dpo_loss(pc, pr, pc.clone(), pr.clone(), 0.3, label_smoothing=eps)
        assert torch.allclose(losses, torch.full_like(losses, math.log(2)), atol=1e-15, rtol=0)
        assert (cr == 0).all() and (rr == 0).all()
    ipo, _, _ = dpo_loss(pc, pr, pc.clone(), pr.clone(), 0.3, ipo=True)
    assert torch.allclose(ipo, torch.full_like(ipo, 1 / (4 * 0.3 ** 2)), atol=1e-12, rtol=0)


def test_beta_zero_gives_log2_for_any_policy():
    losses, cr, rr = dpo_loss(*_logps(8, seed=5), 0.0)
    assert torch.allclose(losses, torch.full_like(losses, math.log(2)), atol=1e-15, rtol=0)
    assert (cr == 0).all() and (rr == 0).all()


def test_rewards_are_detached_implicit_rewards():
    pc, pr, rc, rr = _logps(6, seed=6)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, 0.5)
    assert losses.requires_grad
    assert not chosen.requires_grad and not rejected.requires_grad
    assert torch.allclose(chosen, 0.5 * (pc - rc).detach(), atol=1e-15, rtol=0)
    assert torch.allclose(rejected, 0.5 * (pr - rr).detach(), atol=1e-15, rtol=0)


def test_gradient_matches_closed_form():
    pc, pr, rc, rr = _logps(9, seed=7)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    beta = 0.8
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta)
    losses.sum().backward()
    h = (pc - rc - pr + rr).detach()
    want = -beta * torch.sigmoid(-beta * h)  # d/dh −log σ(βh) = −β σ(−βh)
    assert torch.allclose(pc.grad, want, atol=1e-12, rtol=0)
    assert torch.allclose(pr.grad, -want, atol=1e-12, rtol=0)


def test_finite_at_extreme_margins():
    zero = torch.zeros(2, dtype=DTYPE)
    far = torch.tensor([-2000.0, -1e-3], dtype=DTYPE)
    for beta in (1.0, 50.0):
        losses, _, _ = dpo_loss(far, far.flip(0), zero - 1, zero - 1, beta)
        assert torch.isfinite(losses).all()
        assert losses[1] < 1e-12  # winner far ahead: loss ≈ 0
        assert losses[0] > 1000  # loser far ahead: loss ≈ β·|margin|, still finite


def test_bad_arguments_raise_value_error_naming_them():
    pc, pr, rc, rr = _logps(4, seed=8)
    with pytest.raises(ValueError, match="policy_chosen_logps"):
        dpo_loss(pc[:3], pr, rc, rr, 0.1)
    with pytest.raises(ValueError, match="policy_chosen_logps: expected shape"):
        dpo_loss(pc[None], pr[None], rc[None], rr[None], 0.1)
    with pytest.raises(ValueError, match="policy_rejected_logps"):
        dpo_loss(pc, pr + 1, rc, rr, 0.1)
    with pytest.raises(ValueError, match="reference_chosen_logps"):
        dpo_loss(pc, pr, rc.abs(), rr, 0.1)
    with pytest.raises(ValueError, match="reference_rejected_logps"):
        dpo_loss(pc, pr, rc, torch.full_like(rr, float("nan")), 0.1)
    for beta in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="beta"):
            dpo_loss(pc, pr, rc, rr, beta)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(pc, pr, rc, rr, 0.0, ipo=True)
    for eps in (-0.1, 0.5):
        with pytest.raises(ValueError, match="label_smoothing"):
            dpo_loss(pc, pr, rc, rr, 0.1, label_smoothing=eps)

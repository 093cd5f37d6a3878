"""Tests of the DPO variants: helpers.dpo.simpo_loss, and dpo_loss's reference_free, ipo and
label_smoothing flags, against independent references.

References: a plain-Python loop with math.log/exp for the losses; autograd against closed-form
gradients; sympy for the optima of cDPO and IPO; a uniform-reference tiny LM for reference_free.
"""

import math

import pytest
import sympy as sp
import torch

from helpers.data import batch_sequences
from helpers.dpo import dpo_loss, pair_logprobs, simpo_loss
from helpers.models import TinyCausalLM, per_sequence_grads
from helpers.numeric import DTYPE, generator
from helpers.symbolic import log_sigmoid


def _softplus(z: float) -> float:
    """log(1 + e^z), computed without overflow."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _simpo_loop(chosen, rejected, beta, gamma, eps=0.0):
    """−(1−ε) log σ(βh − γ) − ε log σ(−(βh − γ)), h = chosen − rejected, one pair at a time."""
    out = []
    for a, b in zip(chosen.tolist(), rejected.tolist(), strict=True):
        z = beta * (a - b) - gamma
        out.append((1 - eps) * _softplus(-z) + eps * _softplus(z))
    return torch.tensor(out, dtype=DTYPE)


def _dpo_loop(pc, pr, rc, rr, beta, eps=0.0, ipo=False, reference_free=False):
    """The official preference_loss written out with Python floats, one pair at a time."""
    out = []
    for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), strict=True):
        h = (a - b) - (0.0 if reference_free else (c - d))
        if ipo:
            out.append((h - 1 / (2 * beta)) ** 2)
        else:
            out.append((1 - eps) * _softplus(-beta * h) + eps * _softplus(beta * h))
    return torch.tensor(out, dtype=DTYPE)


def _avg_logps(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two (n,) vectors of length-averaged log-probs in [−4, −0.01]."""
    gen = generator(seed)
    return tuple(-(torch.rand(n, generator=gen, dtype=DTYPE) * 4 + 0.01) for _ in range(2))


# --------------------------------------------------------------------------- simpo_loss


@pytest.mark.parametrize("beta, gamma, eps", [(2.0, 0.5, 0.0), (2.5, 1.5, 0.0), (10.0, 3.0, 0.2),
                                              (0.0, 0.0, 0.0), (1.0, 0.0, 0.4)])
def test_simpo_matches_a_loop(beta, gamma, eps):
    w, l = _avg_logps(9, seed=1)
    got = simpo_loss(w, l, beta, gamma, label_smoothing=eps)
    assert got.shape == (9,)
    assert torch.allclose(got, _simpo_loop(w, l, beta, gamma, eps), atol=1e-12, rtol=0)


def test_simpo_is_finite_at_extreme_margins():
    w = torch.tensor([-1e-3, -400.0], dtype=DTYPE)
    l = torch.tensor([-400.0, -1e-3], dtype=DTYPE)
    got = simpo_loss(w, l, 10.0, 1.0, label_smoothing=0.1)
    assert torch.isfinite(got).all()
    assert torch.allclose(got, _simpo_loop(w, l, 10.0, 1.0, 0.1), rtol=1e-12, atol=0)


def test_simpo_without_margin_is_reference_free_dpo_on_the_same_logps():
    w, l = _avg_logps(6, seed=2)
    ref = torch.full_like(w, -1.0)
    assert torch.allclose(simpo_loss(w, l, 2.0, 0.0),
                          dpo_loss(w, l, ref, ref, 2.0, reference_free=True)[0], atol=1e-14, rtol=0)


@pytest.mark.parametrize("eps", [0.0, 0.25])
def test_simpo_gradient_closed_form_matches_autograd(eps):
    beta, gamma = 2.0, 0.8
    w, l = (x.requires_grad_() for x in _avg_logps(7, seed=3))
    (d_w, d_l) = torch.autograd.grad(simpo_loss(w, l, beta, gamma, eps).sum(), (w, l))
    z = (beta * (w - l) - gamma).detach()
    weight = (1 - eps) * torch.sigmoid(-z) - eps * torch.sigmoid(z)
    assert torch.allclose(d_w, -beta * weight, atol=1e-14, rtol=0)
    assert torch.allclose(d_l, beta * weight, atol=1e-14, rtol=0)


def test_simpo_gradient_on_the_tiny_lm_matches_the_chain_rule():
    """−β σ(−(βh − γ)) (∇avg_w − ∇avg_l), batch-mean, on every parameter of a tiny LM."""
    beta, gamma = 2.0, 0.5
    model = TinyCausalLM(7, 4, seed=5)
    prompts = [[1, 2], [3], [4, 5, 6]]
    chosen, rejected = [[2, 3, 4], [5], [6, 1]], [[1], [2, 2, 2, 2], [3, 4, 5]]
    tokens, labels = batch_sequences(prompts * 2, chosen + rejected)
    avg_w, avg_l = pair_logprobs(model, tokens, labels, average=True)
    loss = simpo_loss(avg_w, avg_l, beta, gamma).mean()
    auto = torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])
    grads = per_sequence_grads(model, tokens, labels, average=True)
    z = (beta * (avg_w - avg_l) - gamma).detach()
    closed = -beta * (torch.sigmoid(-z)[:, None] * (grads[:3] - grads[3:])).mean(0)
    assert torch.allclose(auto, closed, atol=1e-12, rtol=0)


@pytest.mark.parametrize("change, match", [
    (dict(beta=-1.0), "beta"),
    (dict(gamma=-0.5), "gamma"),
    (dict(gamma=float("inf")), "gamma"),
    (dict(label_smoothing=0.5), "label_smoothing"),
    (dict(policy_rejected_logps=torch.full((4,), -1.0, dtype=DTYPE)), "policy_chosen_logps"),
    (dict(policy_chosen_logps=torch.full((3,), 0.5, dtype=DTYPE)), "policy_chosen_logps"),
    (dict(policy_chosen_logps=torch.full((3, 1), -0.5, dtype=DTYPE),
          policy_rejected_logps=torch.full((3, 1), -0.5, dtype=DTYPE)), "policy_chosen_logps"),
])
def test_simpo_bad_arguments_raise_naming_them(change, match):
    w, l = _avg_logps(3, seed=0)
    args = dict(policy_chosen_logps=w, policy_rejected_logps=l, beta=2.0, gamma=0.5) | change
    with pytest.raises(ValueError, match=match):
        simpo_loss(**args)


# --------------------------------------------------------------------------- dpo_loss flags


@pytest.mark.parametrize("beta, eps, ipo", [(0.1, 0.0, False), (0.5, 0.2, False), (0.3, 0.0, True)])
def test_reference_free_matches_a_loop_with_zero_reference_ratio(pair_logps, beta, eps, ipo):
    pc, pr, rc, rr = pair_logps(8, seed=4)
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta, label_smoothing=eps, ipo=ipo,
                                        reference_free=True)
    assert torch.allclose(losses, _dpo_loop(pc, pr, rc, rr, beta, eps, ipo, reference_free=True),
                          atol=1e-12, rtol=0)
    # the rewards still use the reference, as the official code's do
    assert torch.allclose(chosen, beta * (pc - rc), atol=1e-15, rtol=0)
    assert torch.allclose(rejected, beta * (pr - rr), atol=1e-15, rtol=0)


def test_reference_free_ignores_the_reference_values(pair_logps):
    pc, pr, rc, rr = pair_logps(6, seed=5)
    _, _, rc2, rr2 = pair_logps(6, seed=6)
    a = dpo_loss(pc, pr, rc, rr, 0.2, reference_free=True)[0]
    b = dpo_loss(pc, pr, rc2, rr2, 0.2, reference_free=True)[0]
    assert torch.equal(a, b)
    assert not torch.allclose(dpo_loss(pc, pr, rc, rr, 0.2)[0], dpo_loss(pc, pr, rc2, rr2, 0.2)[0])


def test_reference_free_is_dpo_with_a_uniform_reference_exactly_for_equal_lengths():
    """A tiny LM with a zero head is the uniform token distribution: log π_ref(y) = −|y| log V."""
    vocab, beta = 7, 0.3
    policy = TinyCausalLM(vocab, 4, seed=8)
    uniform = TinyCausalLM(vocab, 4, seed=9)
    with torch.no_grad():
        uniform.head.weight.zero_()
        uniform.head.bias.zero_()
    prompts = [[1, 2], [3, 4, 5]]
    for chosen, rejected, equal in [([[2, 3], [6, 6, 1]], [[4, 5], [1, 2, 3]], True),
                                    ([[2, 3, 4], [6]], [[4], [1, 2, 3]], False)]:
        tokens, labels = batch_sequences(prompts * 2, chosen + rejected)
        pol_w, pol_l = pair_logprobs(policy, tokens, labels)
        with torch.no_grad():
            uni_w, uni_l = pair_logprobs(uniform, tokens, labels)
        lengths = torch.tensor([[len(y) for y in chosen], [len(y) for y in rejected]], dtype=DTYPE)
        assert torch.allclose(torch.stack([uni_w, uni_l]), -lengths * math.log(vocab), atol=1e-12, rtol=0)
        free = dpo_loss(pol_w, pol_l, uni_w, uni_l, beta, reference_free=True)[0]
        with_uniform = dpo_loss(pol_w, pol_l, uni_w, uni_l, beta)[0]
        assert torch.allclose(free, with_uniform, atol=1e-13, rtol=0) == equal
        # in general: h_uniform = h_free + (|y_w| − |y_l|) log V
        shift = (lengths[0] - lengths[1]) * math.log(vocab)
        assert torch.allclose(with_uniform, _dpo_loop(pol_w + shift, pol_l, uni_w, uni_l, beta,
                                                      reference_free=True), atol=1e-12, rtol=0)


def test_label_smoothing_optimum_is_log_odds_over_beta():
    """sympy: d/dh of the cDPO loss vanishes at h* = log((1−ε)/ε)/β; torch: the loss there is
    lower than on either side, and its autograd derivative is zero."""
    h, beta, eps = sp.symbols("h beta epsilon", positive=True)
    loss = -(1 - eps) * log_sigmoid(beta * h) - eps * log_sigmoid(-beta * h)
    star = sp.log((1 - eps) / eps) / beta
    assert sp.simplify(sp.diff(loss, h).subs(h, star)) == 0
    for b, e in [(0.1, 0.1), (0.5, 0.3), (2.0, 0.05)]:
        h_star = float(star.subs({beta: b, eps: e}))
        logp = torch.tensor([-1.0], dtype=DTYPE)
        x = torch.tensor([-1.0 - h_star], dtype=DTYPE, requires_grad=True)  # h = h* via y_l
        value = dpo_loss(logp, x, logp, logp, b, label_smoothing=e)[0]
        (d,) = torch.autograd.grad(value.sum(), x)
        assert abs(d.item()) < 1e-12
        for dx in (-1e-3, 1e-3):
            moved = dpo_loss(logp, x.detach() + dx, logp, logp, b, label_smoothing=e)[0]
            assert moved.item() > value.item()


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_ipo_gradient_vanishes_at_the_target_margin(beta):
    logp = torch.tensor([-2.0], dtype=DTYPE)
    x = torch.tensor([-2.0 - 1 / (2 * beta)], dtype=DTYPE, requires_grad=True)
    (d,) = torch.autograd.grad(dpo_loss(logp, x, logp, logp, beta, ipo=True)[0].sum(), x)
    assert abs(d.item()) < 1e-12
    y = torch.tensor([-2.0 - 1 / beta], dtype=DTYPE, requires_grad=True)  # h = 1/β, the ½ dropped
    (d,) = torch.autograd.grad(dpo_loss(logp, y, logp, logp, beta, ipo=True)[0].sum(), y)
    assert abs(d.item() - (-2 / (2 * beta))) < 1e-12  # ∂/∂log π(y_l) = −2(h − 1/(2β))


def test_loss_depends_on_beta_times_margin_only(pair_logps):
    """DPO and cDPO: (β, h) and (β/2, 2h) give the same loss; IPO does not."""
    pc, pr, rc, rr = pair_logps(6, seed=7)
    for eps in (0.0, 0.2):
        a = dpo_loss(pc, pr, rc, rr, 0.4, label_smoothing=eps)[0]
        b = dpo_loss(2 * pc, 2 * pr, 2 * rc, 2 * rr, 0.2, label_smoothing=eps)[0]
        assert torch.allclose(a, b, atol=1e-13, rtol=0)
    a = dpo_loss(pc, pr, rc, rr, 0.4, ipo=True)[0]
    b = dpo_loss(2 * pc, 2 * pr, 2 * rc, 2 * rr, 0.2, ipo=True)[0]
    assert torch.allclose(b, 4 * a, atol=1e-12, rtol=0)

"""Unit tests of helpers.dpo against independent references: plain-Python loops with math.log and
math.exp for the losses, closed-form derivatives against autograd, loops for the closed form."""

import copy
import math

import numpy as np
import pytest
import torch

from helpers.dpo import (
    batch_dpo_loss,
    dpo_closed_form_grad,
    dpo_grad_weight,
    dpo_logp_grads,
    dpo_loss,
    implicit_reward,
    pair_logprobs,
    simpo_loss,
)
from helpers.models import flat_grad, per_sequence_grads, sequence_logprobs
from helpers.numeric import DTYPE, device, generator


def _log_sigmoid(x: float) -> float:
    """log σ(x) with Python floats, without overflow at either end."""
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def _sigmoid(x: float) -> float:
    return math.exp(_log_sigmoid(x))


def _dpo_loop(pc, pr, rc, rr, beta, eps=0.0, ipo=False, reference_free=False):
    """The per-pair loss written out with Python floats, one pair at a time."""
    out = []
    for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), strict=True):
        h = (a - b) if reference_free else (a - c) - (b - d)  # log π(y_w)/π_ref(y_w) − ...
        if ipo:
            out.append((h - 1 / (2 * beta)) ** 2)
        else:
            out.append(-(1 - eps) * _log_sigmoid(beta * h) - eps * _log_sigmoid(-beta * h))
    return torch.tensor(out, dtype=DTYPE)


def _simpo_loop(pc, pr, beta, gamma, eps=0.0):
    out = []
    for a, b in zip(pc.tolist(), pr.tolist(), strict=True):
        m = beta * (a - b) - gamma
        out.append(-(1 - eps) * _log_sigmoid(m) - eps * _log_sigmoid(-m))
    return torch.tensor(out, dtype=DTYPE)


def _cpu(x: torch.Tensor) -> torch.Tensor:
    return x.detach().cpu()


# --------------------------------------------------------------------------- dpo_loss


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_dpo_loss_matches_a_loop(pair_logps, beta):
    pc, pr, rc, rr = pair_logps(16, seed=1)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta)
    assert losses.shape == (16,)
    assert torch.allclose(_cpu(losses), _dpo_loop(pc, pr, rc, rr, beta), atol=1e-12, rtol=0)


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 0.49])
def test_label_smoothing_mixes_both_directions(pair_logps, eps):
    pc, pr, rc, rr = pair_logps(12, seed=2)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, 0.7, label_smoothing=eps)
    assert torch.allclose(_cpu(losses), _dpo_loop(pc, pr, rc, rr, 0.7, eps=eps), atol=1e-12, rtol=0)
    plain, _, _ = dpo_loss(pc, pr, rc, rr, 0.7)
    swapped, _, _ = dpo_loss(pr, pc, rr, rc, 0.7)  # chosen and rejected exchanged
    assert torch.allclose(losses, (1 - eps) * plain + eps * swapped, atol=1e-12, rtol=0)


@pytest.mark.parametrize("beta", [0.1, 1.0, 3.0])
def test_ipo_is_squared_distance_to_target(pair_logps, beta):
    pc, pr, rc, rr = pair_logps(10, seed=3)
    losses, _, _ = dpo_loss(pc, pr, rc, rr, beta, ipo=True)
    assert torch.allclose(_cpu(losses), _dpo_loop(pc, pr, rc, rr, beta, ipo=True), atol=1e-12, rtol=0)


@pytest.mark.parametrize("eps, ipo", [(0.0, False), (0.2, False), (0.0, True)])
def test_reference_free_matches_a_loop_and_a_uniform_reference(pair_logps, eps, ipo):
    pc, pr, rc, rr = pair_logps(9, seed=10)
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, 0.4, label_smoothing=eps, ipo=ipo,
                                        reference_free=True)
    want = _dpo_loop(pc, pr, rc, rr, 0.4, eps=eps, ipo=ipo, reference_free=True)
    assert torch.allclose(_cpu(losses), want, atol=1e-12, rtol=0)
    uniform = torch.full_like(rc, -math.log(7.0))  # π_ref uniform: the same log-prob for any y
    assert torch.allclose(losses, dpo_loss(pc, pr, uniform, uniform, 0.4, label_smoothing=eps,
                                           ipo=ipo)[0], atol=1e-14, rtol=0)
    # the rewards keep the reference, as in the official code
    assert torch.allclose(chosen, 0.4 * (pc - rc), atol=1e-15, rtol=0)
    assert torch.allclose(rejected, 0.4 * (pr - rr), atol=1e-15, rtol=0)


@pytest.mark.parametrize("reference_free", [False, True])
@pytest.mark.parametrize("beta, eps", [(0.8, 0.0), (0.3, 0.25)])
def test_dpo_loss_gradient_matches_the_derivative_written_out(pair_logps, beta, eps, reference_free):
    pc, pr, rc, rr = (x.clone() for x in pair_logps(9, seed=7))
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    dpo_loss(pc, pr, rc, rr, beta, label_smoothing=eps, reference_free=reference_free)[0].sum().backward()
    # d/dh [−(1−ε) log σ(βh) − ε log σ(−βh)] = −β[(1−ε) σ(−βh) − ε σ(βh)]; ∂h/∂pc = 1, ∂h/∂pr = −1
    want = []
    for a, b, c, d in zip(pc.tolist(), pr.tolist(), rc.tolist(), rr.tolist(), strict=True):
        h = (a - b) if reference_free else (a - c) - (b - d)
        want.append(-beta * ((1 - eps) * _sigmoid(-beta * h) - eps * _sigmoid(beta * h)))
    want = torch.tensor(want, dtype=DTYPE)
    assert torch.allclose(_cpu(pc.grad), want, atol=1e-12, rtol=0)
    assert torch.allclose(_cpu(pr.grad), -want, atol=1e-12, rtol=0)


def test_policy_equal_to_reference_gives_log2_and_zero_rewards(pair_logps):
    pc, pr, _, _ = pair_logps(8, seed=4)
    for eps in (0.0, 0.2):
        losses, cr, rr = dpo_loss(pc, pr, pc.clone(), pr.clone(), 0.3, label_smoothing=eps)
        assert torch.allclose(losses, torch.full_like(losses, math.log(2)), atol=1e-15, rtol=0)
        assert (cr == 0).all() and (rr == 0).all()
    ipo, _, _ = dpo_loss(pc, pr, pc.clone(), pr.clone(), 0.3, ipo=True)
    assert torch.allclose(ipo, torch.full_like(ipo, 1 / (4 * 0.3 ** 2)), atol=1e-12, rtol=0)


def test_beta_zero_gives_log2_for_any_policy(pair_logps):
    losses, cr, rr = dpo_loss(*pair_logps(8, seed=5), 0.0)
    assert torch.allclose(losses, torch.full_like(losses, math.log(2)), atol=1e-15, rtol=0)
    assert (cr == 0).all() and (rr == 0).all()


def test_rewards_are_detached_implicit_rewards(pair_logps):
    pc, pr, rc, rr = pair_logps(6, seed=6)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, 0.5)
    assert losses.requires_grad
    assert not chosen.requires_grad and not rejected.requires_grad
    assert torch.allclose(chosen, 0.5 * (pc - rc).detach(), atol=1e-15, rtol=0)
    assert torch.allclose(rejected, 0.5 * (pr - rr).detach(), atol=1e-15, rtol=0)


def test_finite_at_extreme_margins():
    zero = torch.zeros(2, dtype=DTYPE)
    far = torch.tensor([-2000.0, -1e-3], dtype=DTYPE)
    for beta in (1.0, 50.0):
        losses, _, _ = dpo_loss(far, far.flip(0), zero - 1, zero - 1, beta)
        assert torch.isfinite(losses).all()
        assert losses[1] < 1e-12  # winner far ahead: loss ≈ 0
        assert losses[0] > 1000  # loser far ahead: loss ≈ β·|margin|, still finite


def test_dpo_loss_rejects_bad_arguments(pair_logps):
    pc, pr, rc, rr = pair_logps(4, seed=8)
    with pytest.raises(ValueError, match="policy_chosen_logps"):
        dpo_loss(pc[:3], pr, rc, rr, 0.1)
    with pytest.raises(ValueError, match="policy_chosen_logps: expected shape"):
        dpo_loss(pc[None], pr[None], rc[None], rr[None], 0.1)
    with pytest.raises(ValueError, match="policy_rejected_logps"):
        dpo_loss(pc, pr + 10, rc, rr, 0.1)
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


# --------------------------------------------------------------------------- simpo_loss


@pytest.mark.parametrize("beta, gamma, eps", [(2.0, 0.5, 0.0), (2.5, 1.4, 0.0), (0.7, 0.3, 0.2)])
def test_simpo_loss_matches_a_loop(pair_logps, beta, gamma, eps):
    pc, pr, _, _ = pair_logps(11, seed=12)
    got = simpo_loss(pc, pr, beta, gamma, label_smoothing=eps)
    assert got.shape == (11,)
    assert torch.allclose(_cpu(got), _simpo_loop(pc, pr, beta, gamma, eps), atol=1e-12, rtol=0)


@pytest.mark.parametrize("beta, gamma, eps", [(2.0, 0.5, 0.0), (0.7, 0.3, 0.2)])
def test_simpo_loss_gradient_matches_the_derivative_written_out(pair_logps, beta, gamma, eps):
    pc, pr = (x.clone().requires_grad_(True) for x in pair_logps(7, seed=13)[:2])
    simpo_loss(pc, pr, beta, gamma, label_smoothing=eps).sum().backward()
    # m = βh − γ; d/dm [−(1−ε) log σ(m) − ε log σ(−m)] = −(1−ε) σ(−m) + ε σ(m); ∂m/∂pc = β
    want = torch.tensor([beta * (-(1 - eps) * _sigmoid(-(beta * (a - b) - gamma))
                                 + eps * _sigmoid(beta * (a - b) - gamma))
                         for a, b in zip(pc.tolist(), pr.tolist(), strict=True)], dtype=DTYPE)
    assert torch.allclose(_cpu(pc.grad), want, atol=1e-12, rtol=0)
    assert torch.allclose(_cpu(pr.grad), -want, atol=1e-12, rtol=0)


def test_simpo_without_margin_is_reference_free_dpo(pair_logps):
    pc, pr, rc, rr = pair_logps(6, seed=14)
    assert torch.allclose(simpo_loss(pc, pr, 1.5, 0.0, label_smoothing=0.1),
                          dpo_loss(pc, pr, rc, rr, 1.5, label_smoothing=0.1, reference_free=True)[0],
                          atol=1e-15, rtol=0)


def test_simpo_loss_rejects_bad_arguments(pair_logps):
    pc, pr, _, _ = pair_logps(4, seed=15)
    with pytest.raises(ValueError, match="policy_chosen_logps, policy_rejected_logps"):
        simpo_loss(pc[:2], pr, 2.0, 0.5)
    with pytest.raises(ValueError, match="policy_rejected_logps"):
        simpo_loss(pc, pr + 10, 2.0, 0.5)
    with pytest.raises(ValueError, match="beta"):
        simpo_loss(pc, pr, -1.0, 0.5)
    with pytest.raises(ValueError, match="gamma"):
        simpo_loss(pc, pr, 2.0, float("nan"))
    with pytest.raises(ValueError, match="label_smoothing"):
        simpo_loss(pc, pr, 2.0, 0.5, label_smoothing=0.5)


# --------------------------------------------------------------------------- implicit_reward


def test_implicit_reward_is_beta_log_ratio(problem):
    pb = problem(answers=4)
    assert torch.allclose(implicit_reward(pb.policy, pb.ref, 0.4), 0.4 * (pb.policy - pb.ref),
                          atol=1e-15)
    assert (implicit_reward(pb.ref, pb.ref, 0.4) == 0).all()
    with pytest.raises(ValueError, match="beta"):
        implicit_reward(pb.policy, pb.ref, 0.0)
    with pytest.raises(ValueError, match="policy_logprobs"):
        implicit_reward(pb.policy[:, :3], pb.ref, 0.4)
    with pytest.raises(ValueError, match="policy_logprobs: expected each row to sum to 1"):
        implicit_reward(pb.policy - 0.5, pb.ref, 0.4)


# --------------------------------------------------------------------------- closed form


def test_dpo_logp_grads_match_autograd(pair_logps):
    logps = pair_logps()
    pw, pl = (x.clone().requires_grad_() for x in logps[:2])
    loss = dpo_loss(pw, pl, logps[2], logps[3], 0.7)[0].mean()
    want = torch.autograd.grad(loss, (pw, pl))
    got = dpo_logp_grads(*logps, 0.7)
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w, atol=1e-14, rtol=0)


def test_dpo_grad_weight_is_sigmoid_of_reward_gap(pair_logps):
    pw, pl, rw, rl = pair_logps()
    w = dpo_grad_weight(pw, pl, rw, rl, 0.5)
    by_hand = 1 / (1 + torch.exp(0.5 * (pw - rw) - 0.5 * (pl - rl)))
    assert torch.allclose(w, by_hand, atol=1e-15, rtol=0)
    assert not w.requires_grad
    assert torch.all(dpo_grad_weight(pw, pl, pw, pl, 0.5) == 0.5)  # policy = reference


@pytest.mark.parametrize("fn", [dpo_grad_weight, dpo_logp_grads])
@pytest.mark.parametrize("bad, name", [
    ({"beta": -1.0}, "beta"), ({"beta": float("inf")}, "beta"),
    ({"policy_chosen_logps": torch.zeros(3, dtype=DTYPE)}, "policy_chosen_logps"),
    ({"reference_rejected_logps": torch.full((5,), float("nan"), dtype=DTYPE)},
     "reference_rejected_logps"),
])
def test_closed_form_weights_reject_bad_arguments(pair_logps, fn, bad, name):
    pw, pl, rw, rl = pair_logps()
    args = {"policy_chosen_logps": pw, "policy_rejected_logps": pl,
            "reference_chosen_logps": rw, "reference_rejected_logps": rl, "beta": 0.1}
    args |= {k: (v.to(device()) if isinstance(v, torch.Tensor) else v) for k, v in bad.items()}
    with pytest.raises(ValueError, match=name):
        fn(**args)


def test_dpo_closed_form_grad_matches_loop():
    gen = generator(1)
    w = torch.rand(4, generator=gen, dtype=DTYPE)
    gw, gl = (torch.randn(4, 6, generator=gen, dtype=DTYPE) for _ in range(2))
    loop = sum(-0.3 * w[i] * (gw[i] - gl[i]) for i in range(4)) / 4
    assert torch.allclose(dpo_closed_form_grad(w, gw, gl, 0.3), loop, atol=1e-15, rtol=0)


def test_dpo_closed_form_grad_rejects_bad_shapes():
    with pytest.raises(ValueError, match="chosen_grads, rejected_grads"):
        dpo_closed_form_grad(torch.ones(2), torch.ones(2, 3), torch.ones(2, 4), 0.1)
    with pytest.raises(ValueError, match="weights"):
        dpo_closed_form_grad(torch.ones(3), torch.ones(2, 3), torch.ones(2, 3), 0.1)
    with pytest.raises(ValueError, match="beta"):
        dpo_closed_form_grad(torch.ones(2), torch.ones(2, 3), torch.ones(2, 3), -0.1)


# --------------------------------------------------------------------------- the tiny LM


def test_closed_form_equals_autograd_on_tiny_lm(tiny_lms, pair_batch):
    policy, reference = tiny_lms()
    (tokens, labels), _ = pair_batch()
    batch_dpo_loss(policy, reference, tokens, labels, 0.3).backward()
    assert all(p.grad is None for p in reference.parameters())
    grads = per_sequence_grads(policy, tokens, labels)
    with torch.no_grad():
        pw, pl = pair_logprobs(policy, tokens, labels)
        rw, rl = pair_logprobs(reference, tokens, labels)
    closed = dpo_closed_form_grad(dpo_grad_weight(pw, pl, rw, rl, 0.3), grads[:3], grads[3:], 0.3)
    assert torch.allclose(closed, flat_grad(policy), atol=1e-12, rtol=0)


def test_pair_logprobs_splits_chosen_then_rejected_and_rejects_odd_batch(tiny_lms, pair_batch):
    policy, _ = tiny_lms()
    (tokens, labels), _ = pair_batch()
    with torch.no_grad():
        w, l = pair_logprobs(policy, tokens, labels)
        both = sequence_logprobs(policy(tokens), labels)
    assert torch.equal(torch.cat([w, l]), both)
    with pytest.raises(ValueError, match="tokens"):
        pair_logprobs(policy, tokens[:5], labels[:5])
    with pytest.raises(ValueError, match="tokens, labels"):
        batch_dpo_loss(policy, policy, tokens, labels[:, :-1], 0.1)


def test_batch_dpo_loss_is_log2_when_policy_is_reference(tiny_lms, pair_batch):
    _, reference = tiny_lms()
    twin = copy.deepcopy(reference).requires_grad_(True)
    (tokens, labels), _ = pair_batch()
    value = batch_dpo_loss(twin, reference, tokens, labels, 0.2)
    assert abs(float(value.detach()) - math.log(2)) < 1e-14


# --------------------------------------------------------------------------- bad input (issue 13)


def test_dpo_loss_refuses_integer_tensors_bools_and_an_empty_batch(pair_logps):
    pc, pr, rc, rr = pair_logps(3, seed=2)
    with pytest.raises(ValueError, match="policy_chosen_logps: expected a float32 or float64 "
                                         "torch.Tensor, got an int64 tensor"):
        dpo_loss(*[torch.tensor([-1, -2])] * 4, 0.1)  # was computed silently in float32
    for bad in (True, False, np.bool_(True), "0.1", None):
        with pytest.raises(ValueError, match="beta: expected a finite number >= 0"):
            dpo_loss(pc, pr, rc, rr, bad)
    for bad in ("yes", 1, 0, None):
        with pytest.raises(ValueError, match="ipo: expected True or False"):
            dpo_loss(pc, pr, rc, rr, 0.1, ipo=bad)
    with pytest.raises(ValueError, match="label_smoothing"):
        dpo_loss(pc, pr, rc, rr, 0.1, label_smoothing=True)
    empty = torch.zeros(0, dtype=DTYPE)
    with pytest.raises(ValueError, match="policy_chosen_logps: expected a non-empty tensor"):
        dpo_loss(empty, empty, empty, empty, 0.1)  # was a NaN mean downstream
    with pytest.raises(ValueError, match="policy_chosen_logps: expected a float32 or float64 "
                                         "torch.Tensor, got list"):
        dpo_loss(pc.tolist(), pr, rc, rr, 0.1)


def test_dpo_loss_takes_numbers_of_any_kind(pair_logps):
    pc, pr, rc, rr = pair_logps(3, seed=5)
    want = dpo_loss(pc, pr, rc, rr, 0.5, label_smoothing=0.25)
    for beta, eps in ((np.float64(0.5), np.float64(0.25)), (torch.tensor(0.5), torch.tensor(0.25)),
                      (np.float32(0.5), np.float32(0.25))):
        got = dpo_loss(pc, pr, rc, rr, beta, label_smoothing=eps)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == DTYPE and torch.allclose(g, w, atol=1e-15, rtol=0)
    ipo = dpo_loss(pc, pr, rc, rr, np.int64(2), ipo=np.bool_(True))[0]
    assert torch.allclose(ipo, dpo_loss(pc, pr, rc, rr, 2.0, ipo=True)[0], atol=1e-15, rtol=0)


def test_closed_form_grad_rejects_nan_and_non_tensors():
    w, g = torch.ones(2, dtype=DTYPE), torch.ones(2, 3, dtype=DTYPE)
    for name, args in (("weights", (torch.tensor([1.0, float("nan")], dtype=DTYPE), g, g)),
                       ("chosen_grads", (w, g * float("inf"), g)),
                       ("rejected_grads", (w, g, g * float("nan")))):
        with pytest.raises(ValueError, match=f"{name}: expected finite"):
            dpo_closed_form_grad(*args, 0.1)
    with pytest.raises(ValueError, match="weights: expected a float32 or float64"):
        dpo_closed_form_grad([1.0, 1.0], g, g, 0.1)
    with pytest.raises(ValueError, match="weights: expected a non-empty tensor"):
        dpo_closed_form_grad(w[:0], g[:0], g[:0], 0.1)


def test_batches_of_pairs_refuse_empty_tokens_and_two_vocabularies(tiny_lms, pair_batch):
    policy, reference = tiny_lms(vocab=7)
    (tokens, labels), _ = pair_batch(vocab=7)
    with pytest.raises(ValueError, match="tokens: expected a non-empty tensor"):
        batch_dpo_loss(policy, reference, tokens[:0], labels[:0], 0.1)  # was a RuntimeError
    with pytest.raises(ValueError, match=r"tokens: expected \(2N, seq >= 2\)"):
        batch_dpo_loss(policy, reference, tokens[:, :1], labels[:, :1], 0.1)
    other = tiny_lms(vocab=9)[1]
    with pytest.raises(ValueError, match="policy, reference: expected one vocabulary, got "
                                         "vocab_size 7 and 9"):
        batch_dpo_loss(policy, other, tokens, labels, 0.1)
    with pytest.raises(ValueError, match="reference: expected a torch.nn.Module"):
        batch_dpo_loss(policy, None, tokens, labels, 0.1)
    with pytest.raises(ValueError, match="model: expected a torch.nn.Module"):
        pair_logprobs("policy", tokens, labels)
    with pytest.raises(ValueError, match="labels: expected an int64"):
        pair_logprobs(policy, tokens, labels.float())
    with pytest.raises(ValueError, match="average: expected True or False"):
        pair_logprobs(policy, tokens, labels, average="yes")

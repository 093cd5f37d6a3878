"""Unit tests of helpers.bradley_terry against independent references (naive formulas, loops)."""

import math

import numpy as np
import pytest
import torch

from helpers.bradley_terry import (
    RewardModel,
    bradley_terry_loss,
    centred_bt_loss,
    fit_reward_model,
    preference_prob,
    sample_comparisons,
)
from helpers.numeric import generator

D = torch.float64


def test_bradley_terry_loss_against_the_naive_formula():
    rw = torch.tensor([0.3, -1.0, 2.0], dtype=D)
    rl = torch.tensor([0.0, 0.5, -3.0], dtype=D)
    naive = -torch.log(1 / (1 + torch.exp(-(rw - rl))))
    assert torch.allclose(bradley_terry_loss(rw, rl), naive, atol=1e-15)
    assert torch.allclose(preference_prob(rw, rl), torch.exp(-naive), atol=1e-15)


def test_bradley_terry_loss_is_finite_at_extremes_in_float32():
    rw = torch.tensor([200.0, -200.0], requires_grad=True)
    loss = bradley_terry_loss(rw, torch.zeros(2)).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(rw.grad).all()
    assert rw.grad[0] == 0 and rw.grad[1] == pytest.approx(-1.0)


def test_bradley_terry_gradient_closed_form():
    rw = torch.linspace(-5, 5, 11, dtype=D, requires_grad=True)
    rl = torch.zeros(11, dtype=D, requires_grad=True)
    bradley_terry_loss(rw, rl).sum().backward()
    assert torch.allclose(rw.grad, -torch.sigmoid(-(rw - rl)).detach(), atol=1e-15)
    assert torch.allclose(rl.grad, -rw.grad, atol=1e-15)


def test_bradley_terry_rejects_bad_input():
    with pytest.raises(ValueError, match="r_chosen, r_rejected"):
        bradley_terry_loss(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="r_chosen"):
        bradley_terry_loss(torch.tensor([float("nan")]), torch.ones(1))
    with pytest.raises(ValueError, match="r_rejected"):
        preference_prob(torch.ones(1), torch.tensor([float("inf")]))


@pytest.mark.parametrize("weight", [0.0, 1e-3, 0.7])
def test_centred_bt_loss_against_a_loop_and_its_gradient(weight):
    gen = generator(3)
    rw = torch.randn(6, generator=gen, dtype=D, requires_grad=True)
    rl = torch.randn(6, generator=gen, dtype=D, requires_grad=True)
    loop = sum(math.log1p(math.exp(-(a - b))) + weight * (a + b) ** 2
               for a, b in zip(rw.tolist(), rl.tolist(), strict=True)) / 6
    got = centred_bt_loss(rw, rl, weight)
    assert got.shape == () and abs(float(got.detach()) - loop) < 1e-14
    got.backward()
    d = (rw - rl).detach()
    s = (rw + rl).detach()
    assert torch.allclose(rw.grad, (-torch.sigmoid(-d) + 2 * weight * s) / 6, atol=1e-15)
    assert torch.allclose(rl.grad, (torch.sigmoid(-d) + 2 * weight * s) / 6, atol=1e-15)


def test_centred_bt_loss_at_weight_zero_is_the_full_formula_bit_for_bit():
    """With λ = 0 the helper skips the penalty: the loss and both gradients are exactly those of
    the formula written out with its + 0·mean((r_w + r_l)²)."""
    gen = generator(4)
    rw = torch.randn(50, generator=gen, dtype=D, requires_grad=True)
    rl = torch.randn(50, generator=gen, dtype=D, requires_grad=True)
    full = -torch.nn.functional.logsigmoid(rw - rl).mean() + 0.0 * ((rw + rl) ** 2).mean()
    want = (full, *torch.autograd.grad(full, (rw, rl)))
    got = centred_bt_loss(rw, rl, 0.0)
    got = (got, *torch.autograd.grad(got, (rw, rl)))
    assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))


def test_centred_bt_loss_rejects_bad_input():
    with pytest.raises(ValueError, match="center_weight"):
        centred_bt_loss(torch.ones(2), torch.ones(2), -1.0)
    with pytest.raises(ValueError, match="r_chosen, r_rejected"):
        centred_bt_loss(torch.ones(2), torch.ones(1), 0.1)


def test_sample_comparisons_follow_the_preference_probability():
    reward = torch.tensor([0.0, 1.0], dtype=D)
    chosen, rejected = sample_comparisons(reward, 20000, generator(0))
    assert (chosen != rejected).all()
    frac = (chosen == 1).double().mean()
    assert abs(float(frac) - float(torch.sigmoid(torch.tensor(1.0)))) < 0.02
    with pytest.raises(ValueError, match="true_reward"):
        sample_comparisons(torch.ones(1), 5, generator(0))
    with pytest.raises(ValueError, match="n_pairs"):
        sample_comparisons(reward, 0, generator(0))


def test_reward_model_offset_gets_no_gradient_and_centering_pins_it():
    gen = generator(0)
    feats = torch.randn(6, 3, dtype=D, generator=gen)
    true = feats @ torch.tensor([1.0, -1.0, 0.5], dtype=D)
    chosen, rejected = sample_comparisons(true, 200, gen)
    model = RewardModel(3, seed=1)
    bias0 = model.out.bias.detach().clone()
    history = fit_reward_model(model, feats, chosen, rejected, steps=50)
    assert history[-1] < history[0]
    assert torch.allclose(model.out.bias.detach(), bias0, atol=1e-12, rtol=0)  # offset unseen
    centered = RewardModel(3, seed=1)
    fit_reward_model(centered, feats, chosen, rejected, steps=50, center_weight=1.0)
    assert not torch.allclose(centered.out.bias.detach(), bias0, atol=1e-3, rtol=0)


def test_fit_reward_model_takes_sgd_steps_with_momentum():
    """The history of fit_reward_model is torch.optim.SGD(momentum=0.9) on centred_bt_loss."""
    gen = generator(2)
    feats = torch.randn(5, 2, dtype=D, generator=gen)
    chosen, rejected = sample_comparisons(feats[:, 0], 30, gen)
    history = fit_reward_model(RewardModel(2, seed=4), feats, chosen, rejected, steps=5,
                               lr=0.3, center_weight=0.1)
    model = RewardModel(2, seed=4)
    velocity = [torch.zeros_like(p) for p in model.parameters()]
    for want in history:  # v ← 0.9 v + g;  p ← p − lr v, written out
        r = model(feats)
        loss = centred_bt_loss(r[chosen], r[rejected], 0.1)
        assert abs(float(loss.detach()) - want) < 1e-12
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for p, v, g in zip(model.parameters(), velocity, grads, strict=True):
                v.mul_(0.9).add_(g)
                p.sub_(0.3 * v)


def test_fit_reward_model_says_when_the_fit_diverges():
    gen = generator(3)
    feats = torch.randn(5, 2, dtype=D, generator=gen)
    chosen, rejected = sample_comparisons(feats[:, 0], 30, gen)
    with pytest.raises(ValueError, match="lr: the fit diverged"):
        fit_reward_model(RewardModel(2, seed=4), feats, chosen, rejected, steps=50, lr=1e306,
                         center_weight=1.0)


def test_fit_reward_model_rejects_bad_arguments():
    feats = torch.zeros(3, 2, dtype=D)
    idx = torch.tensor([0, 1])
    model = RewardModel(2)
    with pytest.raises(ValueError, match="center_weight"):
        fit_reward_model(model, feats, idx, idx.flip(0), center_weight=-1)
    with pytest.raises(ValueError, match="steps"):
        fit_reward_model(model, feats, idx, idx.flip(0), steps=0)
    with pytest.raises(ValueError, match="lr"):
        fit_reward_model(model, feats, idx, idx.flip(0), lr=0.0)
    with pytest.raises(ValueError, match="chosen, rejected"):
        fit_reward_model(model, feats, idx, idx[:1])
    with pytest.raises(ValueError, match="features"):
        fit_reward_model(model, feats[0], idx, idx.flip(0))
    with pytest.raises(ValueError, match="features: expected shape"):          # the model's d is 2
        fit_reward_model(model, torch.zeros(3, 4, dtype=D), idx, idx.flip(0))
    with pytest.raises(ValueError, match="features: expected the model's dtype"):
        fit_reward_model(model, feats.float(), idx, idx.flip(0))
    with pytest.raises(ValueError, match="model: expected a RewardModel or an nn.ModuleList"):
        fit_reward_model(torch.nn.Linear(2, 1), feats, idx, idx.flip(0))
    with pytest.raises(ValueError, match="model: expected a RewardModel or an nn.ModuleList"):
        fit_reward_model(torch.nn.ModuleList([model, torch.nn.Linear(2, 1)]), feats, idx, idx.flip(0))


def test_reward_model_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_features"):
        RewardModel(0)
    with pytest.raises(ValueError, match="hidden"):
        RewardModel(2, hidden=0)


# --------------------------------------------------------------------------- bad input (issue 13)


def test_rewards_must_be_non_empty_float_tensors():
    good = torch.tensor([1.0, 2.0], dtype=D)
    for fn in (preference_prob, bradley_terry_loss):
        for bad, words in (([1.0, 2.0], "got list"), (good.numpy(), "got ndarray"),
                           (torch.tensor([1, 2]), "got an int64 tensor"),
                           (torch.tensor([True, False]), "got a bool tensor")):
            with pytest.raises(ValueError, match=f"r_chosen: expected a float32 or float64 "
                                                 f"torch.Tensor, {words}"):
                fn(bad, good)
        with pytest.raises(ValueError, match="r_chosen: expected a non-empty tensor"):
            fn(torch.zeros(0, dtype=D), torch.zeros(0, dtype=D))  # was a NaN mean downstream
    with pytest.raises(ValueError, match="r_chosen: expected a non-empty tensor"):
        centred_bt_loss(torch.zeros(0, dtype=D), torch.zeros(0, dtype=D), 0.0)
    with pytest.raises(ValueError, match="center_weight"):
        centred_bt_loss(good, good, True)
    assert float(centred_bt_loss(good, good, np.float32(0.5))) == \
        pytest.approx(float(centred_bt_loss(good, good, 0.5)))


def test_reward_model_wants_features_of_its_dtype_and_any_kind_of_integer_sizes():
    model = RewardModel(2, seed=1)
    feats = torch.randn(4, 2, dtype=D, generator=generator(0))
    with pytest.raises(ValueError, match=r"features: expected the model's dtype torch.float64, "
                                         r"got torch.float32 \(convert"):
        model(feats.float())
    with pytest.raises(ValueError, match="features: expected finite"):
        model(torch.tensor([[0.0, float("nan")]], dtype=D))
    with pytest.raises(ValueError, match="features: expected a float32 or float64 torch.Tensor"):
        model(feats.tolist())
    same = RewardModel(np.int64(2), hidden=torch.tensor(16), seed=np.int32(1))
    assert torch.equal(same(feats), model(feats))
    with pytest.raises(ValueError, match="seed"):
        RewardModel(2, seed=True)


def test_sample_comparisons_reject_nan_rewards_and_a_missing_generator():
    with pytest.raises(ValueError, match="true_reward: expected finite"):
        sample_comparisons(torch.tensor([float("nan"), 1.0], dtype=D), 3, generator(0))
    with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
        sample_comparisons(torch.tensor([0.0, 1.0], dtype=D), 3, None)
    a = sample_comparisons(torch.tensor([0.0, 1.0], dtype=D), np.int64(4), generator(0))
    b = sample_comparisons(torch.tensor([0.0, 1.0], dtype=D), 4, generator(0))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_fit_reward_model_checks_indices_and_its_model():
    feats = torch.zeros(3, 2, dtype=D)
    idx = torch.tensor([0, 1])
    model = RewardModel(2)
    with pytest.raises(ValueError, match=r"chosen: expected \(pairs,\) answer ids in \[0, 3\)"):
        fit_reward_model(model, feats, torch.tensor([0, 5]), idx)  # was an IndexError
    with pytest.raises(ValueError, match=r"rejected: expected \(pairs,\) answer ids in \[0, 3\)"):
        fit_reward_model(model, feats, idx, torch.tensor([-1, 0]))
    for bad in (idx.float(), idx.int(), [0, 1]):
        with pytest.raises(ValueError, match="chosen: expected an int64"):
            fit_reward_model(model, feats, bad, idx)
    with pytest.raises(ValueError, match="steps: expected an integer >= 1, got 0"):
        fit_reward_model(model, feats, idx, idx.flip(0), steps=0)  # was an empty history
    with pytest.raises(ValueError, match="model: expected a torch.nn.Module"):
        fit_reward_model(None, feats, idx, idx.flip(0))
    with pytest.raises(ValueError, match="model: expected at least one parameter"):
        fit_reward_model(RewardModel(2).requires_grad_(False), feats, idx, idx.flip(0))
    history = fit_reward_model(RewardModel(2), feats, idx, idx.flip(0), steps=np.int64(2),
                               lr=np.float32(0.5), center_weight=torch.tensor(0.1))
    assert len(history) == 2 and all(isinstance(h, float) for h in history)


def test_fit_reward_model_trains_a_module_list_side_by_side_each_model_as_alone():
    """An nn.ModuleList (one SGD on the summed losses) = one fit_reward_model run per model."""
    gen = generator(5)
    feats = torch.randn(6, 3, dtype=D, generator=gen)
    chosen, rejected = sample_comparisons(feats @ torch.tensor([1.0, -0.5, 0.2], dtype=D), 60, gen)
    for center_weight in (0.0, 0.3):
        together = [RewardModel(3, hidden=4, seed=s) for s in (1, 2, 3)]
        histories = fit_reward_model(torch.nn.ModuleList(together), feats, chosen, rejected,
                                     steps=40, lr=0.3, center_weight=center_weight)
        assert len(histories) == 3 and all(len(h) == 40 for h in histories)
        for s, model, history in zip((1, 2, 3), together, histories, strict=True):
            alone = RewardModel(3, hidden=4, seed=s)
            want = fit_reward_model(alone, feats, chosen, rejected, steps=40, lr=0.3,
                                    center_weight=center_weight)
            assert max(abs(a - b) for a, b in zip(history, want, strict=True)) < 1e-12
            for p, q in zip(model.parameters(), alone.parameters(), strict=True):
                assert torch.allclose(p, q, atol=1e-12, rtol=0)
        assert not torch.allclose(together[0].out.weight, together[1].out.weight)


def test_fit_reward_model_rejects_bad_module_lists():
    feats = torch.zeros(3, 2, dtype=D)
    idx = torch.tensor([0, 1])
    lists = torch.nn.ModuleList
    with pytest.raises(ValueError, match="model: expected at least one parameter"):
        fit_reward_model(lists([]), feats, idx, idx.flip(0))
    with pytest.raises(ValueError, match="features"):
        fit_reward_model(lists([RewardModel(2), RewardModel(3)]), feats, idx, idx.flip(0))
    with pytest.raises(ValueError, match="center_weight"):
        fit_reward_model(lists([RewardModel(2)]), feats, idx, idx.flip(0), center_weight=-1)
    with pytest.raises(ValueError, match="features"):
        fit_reward_model(lists([RewardModel(2)]), feats.float(), idx, idx.flip(0))
    with pytest.raises(ValueError, match="lr: the fit diverged"):
        fit_reward_model(lists([RewardModel(2, seed=4)]), torch.randn(3, 2, dtype=D), idx, idx.flip(0),
                         steps=50, lr=1e306, center_weight=1.0)

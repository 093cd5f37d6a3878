"""Bradley–Terry reward modelling (the optimum's tests are in test_rlhf_optimum.py)."""

import pytest
import torch

from helpers import rlhf
from helpers.numeric import generator

D = torch.float64


def test_bradley_terry_loss_against_the_naive_formula():
    rw = torch.tensor([0.3, -1.0, 2.0], dtype=D)
    rl = torch.tensor([0.0, 0.5, -3.0], dtype=D)
    naive = -torch.log(1 / (1 + torch.exp(-(rw - rl))))
    assert torch.allclose(rlhf.bradley_terry_loss(rw, rl), naive, atol=1e-15)
    assert torch.allclose(rlhf.preference_prob(rw, rl), torch.exp(-naive), atol=1e-15)


def test_bradley_terry_loss_is_finite_at_extremes_in_float32():
    rw = torch.tensor([200.0, -200.0], requires_grad=True)
    loss = rlhf.bradley_terry_loss(rw, torch.zeros(2)).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(rw.grad).all()
    assert rw.grad[0] == 0 and rw.grad[1] == pytest.approx(-1.0)


def test_bradley_terry_gradient_closed_form():
    rw = torch.linspace(-5, 5, 11, dtype=D, requires_grad=True)
    rl = torch.zeros(11, dtype=D, requires_grad=True)
    rlhf.bradley_terry_loss(rw, rl).sum().backward()
    assert torch.allclose(rw.grad, -torch.sigmoid(-(rw - rl)).detach(), atol=1e-15)
    assert torch.allclose(rl.grad, -rw.grad, atol=1e-15)


def test_bradley_terry_rejects_bad_input():
    with pytest.raises(ValueError, match="r_chosen, r_rejected"):
        rlhf.bradley_terry_loss(torch.ones(2), torch.ones(3))
    with pytest.raises(ValueError, match="r_chosen"):
        rlhf.bradley_terry_loss(torch.tensor([float("nan")]), torch.ones(1))


def test_sample_comparisons_follow_the_preference_probability():
    reward = torch.tensor([0.0, 1.0], dtype=D)
    chosen, rejected = rlhf.sample_comparisons(reward, 20000, generator(0))
    assert (chosen != rejected).all()
    frac = (chosen == 1).double().mean()
    assert abs(float(frac) - float(torch.sigmoid(torch.tensor(1.0)))) < 0.02
    with pytest.raises(ValueError, match="true_reward"):
        rlhf.sample_comparisons(torch.ones(1), 5, generator(0))
    with pytest.raises(ValueError, match="n_pairs"):
        rlhf.sample_comparisons(reward, 0, generator(0))


def test_reward_model_offset_gets_no_gradient_and_centering_pins_it():
    gen = generator(0)
    feats = torch.randn(6, 3, dtype=D, generator=gen)
    true = feats @ torch.tensor([1.0, -1.0, 0.5], dtype=D)
    chosen, rejected = rlhf.sample_comparisons(true, 200, gen)
    model = rlhf.RewardModel(3, seed=1)
    bias0 = model.out.bias.detach().clone()
    history = rlhf.fit_reward_model(model, feats, chosen, rejected, steps=50)
    assert history[-1] < history[0]
    assert torch.allclose(model.out.bias.detach(), bias0, atol=1e-12, rtol=0)  # offset unseen
    centered = rlhf.RewardModel(3, seed=1)
    rlhf.fit_reward_model(centered, feats, chosen, rejected, steps=50, center_weight=1.0)
    assert not torch.allclose(centered.out.bias.detach(), bias0, atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="center_weight"):
        rlhf.fit_reward_model(model, feats, chosen, rejected, center_weight=-1)


def test_reward_model_rejects_bad_sizes():
    with pytest.raises(ValueError, match="n_features"):
        rlhf.RewardModel(0)


def test_entropy_gradient_is_finite_with_zero_mass_and_bad_tables_raise():
    lp = torch.tensor([[0.0, float("-inf")]], dtype=D, requires_grad=True)
    rlhf.entropy(lp).sum().backward()
    assert torch.isfinite(lp.grad).all()
    with pytest.raises(ValueError, match="logprobs"):
        rlhf.entropy(torch.tensor([[0.1, -3.0]], dtype=D))


def test_kl_objective_checks_prompt_probs():
    ref = torch.log(torch.full((2, 3), 1 / 3, dtype=D))
    r = torch.zeros(2, 3, dtype=D)
    for bad in (torch.tensor([0.7, 0.7], dtype=D), torch.tensor([1.5, -0.5], dtype=D)):
        with pytest.raises(ValueError, match="prompt_probs"):
            rlhf.kl_objective(ref, ref, r, 1.0, prompt_probs=bad)

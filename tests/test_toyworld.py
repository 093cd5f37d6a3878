"""Unit tests of helpers.toyworld: formulas against hand values, structure, reproducibility."""

import numpy as np
import pytest
import torch

from helpers.models import TinyCausalLM
from helpers.numeric import DTYPE, generator
from helpers.toyworld import (
    LABELLED_BELOW,
    comparisons,
    fit_proxy,
    make_world,
    sample_sequences,
    sft_logprobs,
    true_reward,
)


def test_true_reward_by_hand():
    f = torch.tensor([[0.5, 0.0], [1.0, 1.0], [2.0, -1.0]], dtype=DTYPE)
    assert torch.allclose(true_reward(f), torch.tensor([1.5, 4.0, -2.0], dtype=DTYPE))


def test_sft_logprobs_is_a_softmax_of_the_score():
    f = torch.randn(2, 6, 2, generator=generator(0), dtype=DTYPE)
    score = -2 * f[..., 0] + 0.5 * f[..., 1]
    want = score - torch.log(score.exp().sum(-1, keepdim=True))
    assert torch.allclose(sft_logprobs(f), want, atol=1e-12)


def test_formulas_reject_bad_features():
    with pytest.raises(ValueError, match="features"):
        true_reward(torch.zeros(3, 3, dtype=DTYPE))
    with pytest.raises(ValueError, match="features"):
        sft_logprobs(torch.zeros(3, 2, dtype=DTYPE))


def test_make_world_structure_and_reproducibility():
    w = make_world(4, 12, generator(1))
    assert w.features.shape == (4, 12, 2) and w.true_reward.shape == (4, 12)
    assert (w.labelled.sum(-1) == 4).all()  # a third of the answers have length < 1
    assert torch.equal(w.labelled, w.features[..., 0] < LABELLED_BELOW)
    assert torch.allclose(w.ref_logprobs.exp().sum(-1), torch.ones(4, dtype=DTYPE))
    assert torch.equal(w.features, make_world(4, 12, generator(1)).features)


def test_make_world_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_prompts"):
        make_world(0, 12, generator(0))
    with pytest.raises(ValueError, match="n_answers"):
        make_world(2, 10, generator(0))


def test_comparisons_stay_within_a_prompt_and_among_labelled_answers():
    w = make_world(3, 12, generator(2))
    chosen, rejected = comparisons(w, 5, generator(3))
    assert chosen.shape == rejected.shape == (15,)
    assert torch.equal(chosen // 12, rejected // 12)
    assert torch.equal(chosen // 12, torch.arange(3).repeat_interleave(5).to(chosen.device))
    flat = w.labelled.reshape(-1)
    assert flat[chosen].all() and flat[rejected].all() and (chosen != rejected).all()


def test_fit_proxy_learns_the_labelled_ranking():
    w = make_world(3, 6, generator(4))
    chosen, rejected = comparisons(w, 40, generator(5))
    proxy = fit_proxy(w, chosen, rejected, steps=40, lr=0.1)
    assert proxy.shape == (3, 6) and not proxy.requires_grad
    agree = (proxy.reshape(-1)[chosen] > proxy.reshape(-1)[rejected]).to(DTYPE).mean()
    assert agree > 0.6, f"expected the proxy to rank most chosen answers first, got {agree:.2f}"


def test_fit_proxy_rejects_bad_arguments():
    w = make_world(2, 6, generator(0))
    c, r = comparisons(w, 2, generator(0))
    with pytest.raises(ValueError, match="steps"):
        fit_proxy(w, c, r, steps=0)
    with pytest.raises(ValueError, match="lr"):
        fit_proxy(w, c, r, lr=-1.0)


def test_sample_sequences_shape_bos_and_frequencies():
    lm = TinyCausalLM(vocab_size=5, hidden=4, seed=0)
    seqs = sample_sequences(lm, 3000, 2, generator(6))
    assert seqs.shape == (3000, 2) and (seqs[:, 0] == 0).all()
    with torch.no_grad():
        want = torch.softmax(lm(torch.zeros(1, 1, dtype=torch.long, device=seqs.device))[0, -1], -1)
    freq = torch.stack([(seqs[:, 1] == v).to(DTYPE).mean() for v in range(5)])
    assert torch.allclose(freq.cpu(), want.cpu(), atol=0.03)
    assert torch.equal(seqs, sample_sequences(lm, 3000, 2, generator(6)))


def test_sample_sequences_rejects_bad_arguments():
    lm = TinyCausalLM(vocab_size=5, hidden=4, seed=0)
    with pytest.raises(ValueError, match="n"):
        sample_sequences(lm, 0, 3, generator(0))
    with pytest.raises(ValueError, match="length"):
        sample_sequences(lm, 2, 1, generator(0))


# --------------------------------------------------------------------------- bad input (issue 13)


def test_world_helpers_want_a_world_and_a_generator():
    w = make_world(2, 6, generator(0))
    c, r = comparisons(w, 2, generator(0))
    for bad in (None, "world", {"features": w.features}):
        with pytest.raises(ValueError, match="world: expected a ToyWorld"):
            comparisons(bad, 2, generator(0))
        with pytest.raises(ValueError, match="world: expected a ToyWorld"):
            fit_proxy(bad, c, r)
    with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
        make_world(2, 6, None)
    with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
        comparisons(w, 2, 0)
    with pytest.raises(ValueError, match="chosen: expected"):
        fit_proxy(w, c + 100, r)  # an index past the answers
    with pytest.raises(ValueError, match="seed"):
        fit_proxy(w, c, r, seed=-1)
    with pytest.raises(ValueError, match="model: expected a torch.nn.Module"):
        sample_sequences(None, 2, 3, generator(0))


def test_world_sizes_of_any_integer_kind():
    w = make_world(np.int64(2), torch.tensor(6), generator(0))
    v = make_world(2, 6, generator(0))
    assert torch.equal(w.features, v.features) and torch.equal(w.labelled, v.labelled)
    for bad in (6.0, True, 7):
        with pytest.raises(ValueError, match="n_answers"):
            make_world(2, bad, generator(0))
    with pytest.raises(ValueError, match="features: expected a float32 or float64"):
        true_reward([[0.5, 1.0]])
    with pytest.raises(ValueError, match="features: expected finite"):
        sft_logprobs(torch.full((1, 2, 2), float("nan"), dtype=DTYPE))

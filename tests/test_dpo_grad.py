"""Tests of helpers.dpo_grad against independent references (autograd, loops, by hand)."""

import copy

import pytest
import torch

from helpers.dpo import dpo_loss
from helpers.dpo_grad import (
    batch_dpo_loss,
    batch_sequences,
    dpo_closed_form_grad,
    dpo_grad_weight,
    dpo_logp_grads,
    flat_grad,
    pair_logprobs,
    per_sequence_grads,
    random_pairs,
    trainable,
)
from helpers.models import IGNORE_INDEX, TinyCausalLM, sequence_logprobs
from helpers.numeric import DTYPE, device


def _logps(n=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [-(torch.rand(n, generator=gen, dtype=DTYPE) * 5 + 0.1).to(device()) for _ in range(4)]


def _models(vocab=7, hidden=4, seed=0):
    gen = torch.Generator().manual_seed(seed + 100)
    reference = TinyCausalLM(vocab, hidden, seed=seed).requires_grad_(False)
    policy = copy.deepcopy(reference).requires_grad_(True)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=gen, dtype=DTYPE).to(device()))
    return policy, reference


def _batch(n_pairs=3, vocab=7, seed=0):
    prompts, chosen, rejected = random_pairs(torch.Generator().manual_seed(seed), n_pairs, vocab)
    return batch_sequences(prompts * 2, chosen + rejected), (prompts, chosen, rejected)


# --------------------------------------------------------------------------- data


def test_batch_sequences_pads_and_masks():
    tokens, labels = batch_sequences([[5, 6], [7]], [[1, 2, 3], [4]], pad_id=0)
    assert tokens.tolist() == [[5, 6, 1, 2, 3], [7, 4, 0, 0, 0]]
    m = IGNORE_INDEX
    assert labels.tolist() == [[m, m, 1, 2, 3], [m, 4, m, m, m]]


@pytest.mark.parametrize("prompts, answers, name", [
    ([[1]], [[1], [2]], "prompts, answers"),
    ([[]], [[1]], "prompts"),
    ([[1]], [[-3]], "answers"),
])
def test_batch_sequences_rejects_bad_input(prompts, answers, name):
    with pytest.raises(ValueError, match=name):
        batch_sequences(prompts, answers)


def test_batch_sequences_rejects_bad_pad_id():
    with pytest.raises(ValueError, match="pad_id"):
        batch_sequences([[1]], [[2]], pad_id=-1)


def test_random_pairs_lengths_differ_and_ids_in_range():
    prompts, chosen, rejected = random_pairs(torch.Generator().manual_seed(3), 20, 9)
    assert len(prompts) == len(chosen) == len(rejected) == 20
    assert all(len(w) != len(l) for w, l in zip(chosen, rejected, strict=True))
    assert all(1 <= t < 9 for seq in prompts + chosen + rejected for t in seq)
    assert all(1 <= len(y) <= 5 for y in chosen + rejected)


@pytest.mark.parametrize("kwargs, name", [
    ({"n_pairs": 0}, "n_pairs"), ({"vocab_size": 1}, "vocab_size"),
    ({"answer_len": (2, 2)}, "answer_len"), ({"prompt_len": (0, 2)}, "prompt_len"),
])
def test_random_pairs_rejects_bad_arguments(kwargs, name):
    args = {"n_pairs": 2, "vocab_size": 5} | kwargs
    with pytest.raises(ValueError, match=name):
        random_pairs(torch.Generator().manual_seed(0), **args)


# --------------------------------------------------------------------------- closed form


def test_dpo_logp_grads_match_autograd():
    logps = _logps()
    pw, pl = (x.clone().requires_grad_() for x in logps[:2])
    loss = dpo_loss(pw, pl, logps[2], logps[3], 0.7)[0].mean()
    want = torch.autograd.grad(loss, (pw, pl))
    got = dpo_logp_grads(*logps, 0.7)
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w, atol=1e-14, rtol=0)


def test_dpo_grad_weight_is_sigmoid_of_reward_gap():
    pw, pl, rw, rl = _logps()
    w = dpo_grad_weight(pw, pl, rw, rl, 0.5)
    by_hand = 1 / (1 + torch.exp(0.5 * (pw - rw) - 0.5 * (pl - rl)))
    assert torch.allclose(w, by_hand, atol=1e-15, rtol=0)
    assert not w.requires_grad
    assert torch.all(dpo_grad_weight(pw, pl, pw, pl, 0.5) == 0.5)  # policy = reference


@pytest.mark.parametrize("bad, name", [
    ({"beta": -1.0}, "beta"), ({"beta": float("inf")}, "beta"),
    ({"policy_chosen_logps": torch.zeros(3, dtype=DTYPE)}, "policy_chosen_logps"),
    ({"reference_rejected_logps": torch.full((5,), float("nan"), dtype=DTYPE)},
     "reference_rejected_logps"),
])
def test_dpo_grad_weight_rejects_bad_arguments(bad, name):
    pw, pl, rw, rl = _logps()
    args = {"policy_chosen_logps": pw, "policy_rejected_logps": pl,
            "reference_chosen_logps": rw, "reference_rejected_logps": rl, "beta": 0.1}
    args |= {k: (v.to(device()) if isinstance(v, torch.Tensor) else v) for k, v in bad.items()}
    with pytest.raises(ValueError, match=name):
        dpo_grad_weight(**args)


def test_dpo_closed_form_grad_matches_loop():
    gen = torch.Generator().manual_seed(1)
    w = torch.rand(4, generator=gen, dtype=DTYPE)
    gw, gl = torch.randn(4, 6, generator=gen, dtype=DTYPE), torch.randn(4, 6, generator=gen,
                                                                          dtype=DTYPE)
    loop = sum(-0.3 * w[i] * (gw[i] - gl[i]) for i in range(4)) / 4
    assert torch.allclose(dpo_closed_form_grad(w, gw, gl, 0.3), loop, atol=1e-15, rtol=0)


def test_dpo_closed_form_grad_rejects_bad_shapes():
    with pytest.raises(ValueError, match="chosen_grads, rejected_grads"):
        dpo_closed_form_grad(torch.ones(2), torch.ones(2, 3), torch.ones(2, 4), 0.1)
    with pytest.raises(ValueError, match="weights"):
        dpo_closed_form_grad(torch.ones(3), torch.ones(2, 3), torch.ones(2, 3), 0.1)
    with pytest.raises(ValueError, match="beta"):
        dpo_closed_form_grad(torch.ones(2), torch.ones(2, 3), torch.ones(2, 3), -0.1)


# --------------------------------------------------------------------------- gradients


def test_per_sequence_grads_match_single_unpadded_sequences():
    policy, _ = _models()
    (tokens, labels), (prompts, chosen, rejected) = _batch()
    grads = per_sequence_grads(policy, tokens, labels)
    assert grads.shape == (6, sum(p.numel() for p in policy.parameters()))
    for i, (p, y) in enumerate(zip(prompts * 2, chosen + rejected, strict=True)):
        tok, lab = batch_sequences([p], [y])
        logp = sequence_logprobs(policy(tok), lab)[0]
        alone = torch.cat([g.reshape(-1) for g in torch.autograd.grad(logp, trainable(policy))])
        assert torch.allclose(grads[i], alone, atol=1e-12, rtol=0)


def test_closed_form_equals_autograd_on_tiny_lm():
    policy, reference = _models()
    (tokens, labels), _ = _batch()
    batch_dpo_loss(policy, reference, tokens, labels, 0.3).backward()
    assert all(p.grad is None for p in reference.parameters())
    grads = per_sequence_grads(policy, tokens, labels)
    with torch.no_grad():
        pw, pl = pair_logprobs(policy, tokens, labels)
        rw, rl = pair_logprobs(reference, tokens, labels)
    closed = dpo_closed_form_grad(dpo_grad_weight(pw, pl, rw, rl, 0.3), grads[:3], grads[3:], 0.3)
    assert torch.allclose(closed, flat_grad(policy), atol=1e-12, rtol=0)


def test_flat_grad_fills_missing_with_zeros_and_rejects_frozen_model():
    policy, reference = _models()
    assert torch.all(flat_grad(policy) == 0)
    with pytest.raises(ValueError, match="model"):
        flat_grad(reference)
    (tokens, labels), _ = _batch()
    with pytest.raises(ValueError, match="model"):
        per_sequence_grads(reference, tokens, labels)


def test_pair_logprobs_splits_chosen_then_rejected_and_rejects_odd_batch():
    policy, _ = _models()
    (tokens, labels), _ = _batch()
    with torch.no_grad():
        w, l = pair_logprobs(policy, tokens, labels)
        both = sequence_logprobs(policy(tokens), labels)
    assert torch.equal(torch.cat([w, l]), both)
    with pytest.raises(ValueError, match="tokens"):
        pair_logprobs(policy, tokens[:5], labels[:5])


def test_batch_dpo_loss_is_log2_when_policy_is_reference():
    _, reference = _models()
    twin = copy.deepcopy(reference).requires_grad_(True)
    (tokens, labels), _ = _batch()
    value = batch_dpo_loss(twin, reference, tokens, labels, 0.2)
    assert abs(float(value.detach()) - float(torch.log(torch.tensor(2.0, dtype=DTYPE)))) < 1e-14

"""Unit tests of helpers.models: the tabular policy, the tiny causal LM, sequence log-probs and
per-sequence gradients, against loops and autograd."""

import math

import numpy as np
import pytest
import torch

from helpers.data import batch_sequences
from helpers.models import (
    IGNORE_INDEX,
    TabularPolicy,
    TinyCausalLM,
    flat,
    flat_grad,
    per_sequence_grads,
    sequence_logprobs,
    token_logprobs,
    trainable,
)

D = torch.float64


def _batch(seed=0, batch=3, seq=6, vocab=7):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(batch, seq, vocab, generator=gen, dtype=D)
    labels = torch.randint(vocab, (batch, seq), generator=gen)
    labels[0, :2] = IGNORE_INDEX  # a prompt
    labels[1, -2:] = IGNORE_INDEX  # padding
    return logits, labels


def _loop_logprob(logits, labels, b):
    """Σ_t log softmax(logits[b, t])[labels[b, t+1]] over scored labels, one token at a time."""
    total = 0.0
    for t in range(labels.shape[1] - 1):
        y = int(labels[b, t + 1])
        if y == IGNORE_INDEX:
            continue
        row = logits[b, t].tolist()
        m = max(row)
        total += row[y] - (m + math.log(sum(math.exp(v - m) for v in row)))
    return total


def test_tabular_policy_rows_are_softmax_distributions():
    logits = torch.tensor([[0.0, 1.0, 2.0], [3.0, 3.0, -1.0]], dtype=D)
    pol = TabularPolicy(2, 3, logits)
    want = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    assert torch.allclose(pol.probs(), want, atol=1e-12)
    assert torch.allclose(pol.log_probs(), torch.log(want), atol=1e-12)
    assert torch.allclose(TabularPolicy(1, 4).probs(), torch.full((1, 4), 0.25, dtype=D))


def test_tabular_policy_bad_arguments():
    with pytest.raises(ValueError, match="n_answers"):
        TabularPolicy(2, 1)
    with pytest.raises(ValueError, match="logits"):
        TabularPolicy(2, 3, torch.zeros(3, 2, dtype=D))


def test_tiny_lm_shapes_seed_and_causality():
    lm = TinyCausalLM(vocab_size=11, hidden=8, seed=3)
    tokens = torch.randint(11, (2, 5), generator=torch.Generator().manual_seed(0))
    logits = lm(tokens)
    assert logits.shape == (2, 5, 11) and logits.dtype == D
    assert torch.equal(logits, TinyCausalLM(vocab_size=11, hidden=8, seed=3)(tokens))
    changed = tokens.clone()
    changed[:, 3] = (changed[:, 3] + 1) % 11  # a later token must not change earlier logits
    assert torch.equal(lm(changed)[:, :3], logits[:, :3])
    assert not torch.allclose(lm(changed)[:, 3], logits[:, 3])


def test_tiny_lm_bad_arguments():
    with pytest.raises(ValueError, match="vocab_size"):
        TinyCausalLM(vocab_size=1)
    lm = TinyCausalLM(vocab_size=5, hidden=4)
    with pytest.raises(ValueError, match="tokens"):
        lm(torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="tokens"):
        lm(torch.tensor([[0, 5]]))


def test_token_logprobs_shift_and_mask():
    logits, labels = _batch()
    logps, mask = token_logprobs(logits, labels)
    assert logps.shape == mask.shape == (3, 5)
    assert torch.equal(mask, labels[:, 1:] != IGNORE_INDEX)
    assert not mask[0, 0] and mask[0, 1]  # label 0 is never scored, label 1 was masked
    assert torch.all(logps[~mask] == 0)
    full = torch.log_softmax(logits, -1)
    assert float(logps[2, 0]) == pytest.approx(float(full[2, 0, labels[2, 1]]), abs=1e-12)
    assert float(logps[2, 4]) == pytest.approx(float(full[2, 4, labels[2, 5]]), abs=1e-12)


def test_sequence_logprobs_matches_a_loop_over_tokens():
    logits, labels = _batch()
    got = sequence_logprobs(logits, labels)
    want = torch.tensor([_loop_logprob(logits, labels, b) for b in range(3)], dtype=D)
    assert got.shape == (3,)
    assert torch.allclose(got, want, atol=1e-12)
    counts = (labels[:, 1:] != IGNORE_INDEX).sum(-1)
    assert torch.allclose(sequence_logprobs(logits, labels, average=True), want / counts,
                          atol=1e-12)


def test_sequence_logprobs_ignores_masked_positions():
    logits, labels = _batch()
    noisy = logits.clone()
    noisy[0, 0] += 100.0  # predicts labels[0, 1] = -100: ignored
    noisy[1, -1] += 100.0  # the last position predicts nothing
    assert torch.allclose(sequence_logprobs(noisy, labels), sequence_logprobs(logits, labels),
                          atol=1e-12)


def test_sequence_logprobs_bad_arguments():
    logits, labels = _batch()
    with pytest.raises(ValueError, match="labels"):
        sequence_logprobs(logits, labels[:, :-1])
    with pytest.raises(ValueError, match="logits"):
        sequence_logprobs(logits[0], labels)
    empty = labels.clone()
    empty[1, 1:] = IGNORE_INDEX
    with pytest.raises(ValueError, match="labels"):
        sequence_logprobs(logits, empty)
    for bad in (logits.shape[-1], -5):
        out_of_range = labels.clone()
        out_of_range[0, -1] = bad
        with pytest.raises(ValueError, match="labels: expected token ids"):
            sequence_logprobs(logits, out_of_range)


def test_token_logprobs_is_the_shift_and_gather_written_out():
    logits, labels = _batch(seed=4)
    logps, mask = token_logprobs(logits, labels)
    shifted = labels[:, 1:]
    scored = shifted != IGNORE_INDEX
    by_hand = logits[:, :-1].log_softmax(-1).gather(2, shifted.clamp(min=0).unsqueeze(2)).squeeze(2)
    assert torch.equal(mask, scored)
    assert torch.allclose(logps, by_hand * scored, atol=1e-15)


# --------------------------------------------------------------------------- gradients


def test_flat_concatenates_in_order_and_rejects_missing_grads():
    a, b = torch.arange(4.0).reshape(2, 2), torch.tensor([7.0])
    assert flat((a, b)).tolist() == [0.0, 1.0, 2.0, 3.0, 7.0]
    with pytest.raises(ValueError, match="grads"):
        flat(())
    with pytest.raises(ValueError, match="grads"):
        flat((a, None))


def test_per_sequence_grads_match_single_unpadded_sequences(tiny_lms, pair_batch):
    policy, _ = tiny_lms()
    (tokens, labels), (prompts, chosen, rejected) = pair_batch()
    grads = per_sequence_grads(policy, tokens, labels)
    assert grads.shape == (6, sum(p.numel() for p in policy.parameters()))
    for i, (p, y) in enumerate(zip(prompts * 2, chosen + rejected, strict=True)):
        tok, lab = batch_sequences([p], [y])
        logp = sequence_logprobs(policy(tok), lab)[0]
        alone = torch.cat([g.reshape(-1) for g in torch.autograd.grad(logp, trainable(policy))])
        assert torch.allclose(grads[i], alone, atol=1e-12)


def test_flat_grad_fills_missing_with_zeros_and_rejects_frozen_model(tiny_lms, pair_batch):
    policy, reference = tiny_lms()
    assert torch.all(flat_grad(policy) == 0)
    with pytest.raises(ValueError, match="model"):
        flat_grad(reference)
    (tokens, labels), _ = pair_batch()
    with pytest.raises(ValueError, match="model"):
        per_sequence_grads(reference, tokens, labels)
    sequence_logprobs(policy(tokens), labels).sum().backward()
    assert torch.equal(flat_grad(policy), flat([p.grad for p in trainable(policy)]))


# --------------------------------------------------------------------------- bad input (issue 13)


def test_logits_must_be_finite_floats_and_labels_int64():
    logits, labels = _batch(seed=2)
    for fn in (token_logprobs, sequence_logprobs):
        nan = logits.clone()
        nan[0, 0, 0] = float("nan")
        with pytest.raises(ValueError, match="logits: expected finite"):
            fn(nan, labels)  # was NaN log-probs
        with pytest.raises(ValueError, match="logits: expected a float32 or float64 torch.Tensor, "
                                             "got an int64 tensor"):
            fn(logits.long(), labels)  # was a NotImplementedError from torch
        for bad in (labels.float(), labels.bool(), labels.int(), labels.tolist()):
            with pytest.raises(ValueError, match="labels: expected an int64"):
                fn(logits, bad)  # was a RuntimeError from gather
        with pytest.raises(ValueError, match="logits: expected a non-empty tensor"):
            fn(logits[:0], labels[:0])
    with pytest.raises(ValueError, match="average: expected True or False"):
        sequence_logprobs(logits, labels, average="yes")


def test_tabular_policy_refuses_nan_logits_and_takes_numpy_sizes():
    with pytest.raises(ValueError, match="logits: expected finite"):
        TabularPolicy(1, 2, torch.tensor([[float("nan"), 1.0]], dtype=D))
    with pytest.raises(ValueError, match="logits: expected a float32 or float64"):
        TabularPolicy(1, 2, [[0.0, 1.0]])
    policy = TabularPolicy(np.int64(2), torch.tensor(3))
    assert policy.logits.shape == (2, 3) and policy.logits.dtype == D
    with pytest.raises(ValueError, match="n_prompts"):
        TabularPolicy(True, 3)


def test_tiny_lm_refuses_empty_or_float_tokens_and_a_non_float_dtype():
    lm = TinyCausalLM(vocab_size=5, hidden=2)
    for bad in (torch.zeros(1, 0, dtype=torch.long), torch.zeros(0, 3, dtype=torch.long)):
        with pytest.raises(ValueError, match="tokens: expected a non-empty tensor"):
            lm(bad)  # was a RuntimeError from min()
    for bad in (torch.zeros(1, 2), torch.zeros(1, 2, dtype=torch.int32), [[0, 1]]):
        with pytest.raises(ValueError, match="tokens: expected an int64"):
            lm(bad)
    with pytest.raises(ValueError, match="dtype: expected torch.float32 or torch.float64"):
        TinyCausalLM(5, 2, dtype=torch.int64)
    same = TinyCausalLM(np.int64(5), hidden=np.int32(2), seed=torch.tensor(0))
    tokens = torch.tensor([[0, 3, 4]])
    assert torch.equal(same(tokens), lm(tokens))
    with pytest.raises(ValueError, match=r"seed: expected an integer in \[0, 2\*\*32\)"):
        TinyCausalLM(5, 2, seed=2**40)


def test_gradient_helpers_want_modules_and_tensors(tiny_lms, pair_batch):
    policy, _ = tiny_lms()
    (tokens, labels), _ = pair_batch()
    for fn in (trainable, flat_grad):
        with pytest.raises(ValueError, match="model: expected a torch.nn.Module"):
            fn(None)
    with pytest.raises(ValueError, match="grads: expected a non-empty sequence of tensors"):
        flat([[1.0], torch.ones(2)])
    with pytest.raises(ValueError, match="grads: expected a non-empty sequence of tensors"):
        flat(torch.ones(3))
    with pytest.raises(ValueError, match="tokens, labels: expected the same shape"):
        per_sequence_grads(policy, tokens, labels[:, :-1])
    with pytest.raises(ValueError, match="average: expected True or False"):
        per_sequence_grads(policy, tokens, labels, average=None)

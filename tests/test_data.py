"""Unit tests of helpers.data: draws against their frequencies, batches against hand values."""

import numpy as np
import pytest
import torch

from helpers.data import batch_sequences, random_pairs, sample_from_logits, sample_from_table
from helpers.models import IGNORE_INDEX
from helpers.numeric import DTYPE, generator

# --------------------------------------------------------------------------- sampling


def test_sample_from_table_frequencies_and_reproducibility():
    logp = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=DTYPE))
    draws = sample_from_table(logp, 4000, generator(6))
    assert draws.shape == (2, 4000) and draws.dtype == torch.int64
    freq = torch.stack([(draws == j).to(DTYPE).mean(-1) for j in range(3)], -1)
    assert torch.allclose(freq, logp.exp(), atol=0.03)
    assert torch.equal(draws, sample_from_table(logp, 4000, generator(6)))


def test_sample_from_table_rejects_bad_arguments(logprob_table):
    with pytest.raises(ValueError, match="logprobs"):
        sample_from_table(torch.zeros(2, 3, dtype=DTYPE), 5, generator(0))
    with pytest.raises(ValueError, match="n"):
        sample_from_table(logprob_table(0), 0, generator(0))


def test_sample_from_logits_shape_device_and_frequencies():
    logits = torch.randn(4, generator=generator(0), dtype=DTYPE)
    s = sample_from_logits(logits, (3, 20000), generator(1))
    assert s.shape == (3, 20000) and s.dtype == torch.int64 and s.device == logits.device
    freq = torch.bincount(s.flatten(), minlength=4).to(DTYPE) / s.numel()
    assert torch.allclose(freq, torch.softmax(logits, -1), atol=0.01)
    assert torch.equal(s, sample_from_logits(logits, (3, 20000), generator(1)))


def test_sample_from_logits_draws_what_sample_from_table_draws():
    logits = torch.randn(5, generator=generator(2), dtype=DTYPE)
    table = torch.log_softmax(logits, -1)[None]
    assert torch.equal(sample_from_logits(logits, (6, 7), generator(3)).flatten(),
                       sample_from_table(table, 42, generator(3))[0])


def test_sample_from_logits_rejects_bad_arguments():
    logits = torch.zeros(4, dtype=DTYPE)
    with pytest.raises(ValueError, match="shape"):
        sample_from_logits(logits, (0,), generator(0))
    with pytest.raises(ValueError, match="shape"):
        sample_from_logits(logits, (), generator(0))
    with pytest.raises(ValueError, match="logits"):
        sample_from_logits(logits.reshape(2, 2), (3,), generator(0))


# --------------------------------------------------------------------------- batches


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
    prompts, chosen, rejected = random_pairs(generator(3), 20, 9)
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
        random_pairs(generator(0), **args)


# --------------------------------------------------------------------------- bad input (issue 13)


@pytest.mark.parametrize("row", [torch.tensor([1, 2]), np.array([1, 2])])
def test_batch_sequences_refuses_tensor_rows_and_says_tolist(row):
    # `p + a` on two tensors adds them: tokens [[3, 3]] came out of [1] + [2]
    with pytest.raises(ValueError, match=r"prompts: expected non-empty lists of int token ids "
                                         r">= 0, entry 0 is .*\(use .tolist\(\)\)"):
        batch_sequences([row], [[3, 4]])
    with pytest.raises(ValueError, match="answers: expected"):
        batch_sequences([[3, 4]], [row])


@pytest.mark.parametrize("row", [[1.7], [2.0], [True], ["1"], [None], [torch.tensor(1)]])
def test_batch_sequences_refuses_ids_that_are_not_integers(row):
    with pytest.raises(ValueError, match="answers: expected non-empty lists of int token ids"):
        batch_sequences([[1]], [row])  # float ids were truncated


def test_batch_sequences_takes_numpy_integers_and_tuples():
    want = batch_sequences([[5, 6]], [[1, 2]])
    for prompts, answers in (([[np.int64(5), np.int32(6)]], [[1, 2]]), (((5, 6),), ((1, 2),))):
        got = batch_sequences(prompts, answers, pad_id=np.int64(0))
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    for bad in (torch.tensor([[1, 2]]), "12", None):
        with pytest.raises(ValueError, match="prompts: expected a list of token-id lists"):
            batch_sequences(bad, [[1]])


def test_samplers_check_their_logits_and_generator():
    with pytest.raises(ValueError, match="logits: expected finite"):
        sample_from_logits(torch.tensor([0.0, float("nan")], dtype=DTYPE), (3,), generator(0))
    with pytest.raises(ValueError, match="shape: expected a tuple of positive integer sizes"):
        sample_from_logits(torch.zeros(2, dtype=DTYPE), 3, generator(0))  # was a TypeError
    with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
        sample_from_logits(torch.zeros(2, dtype=DTYPE), (3,), None)
    with pytest.raises(ValueError, match="gen: expected a CPU torch.Generator"):
        sample_from_table(torch.zeros(1, 1, dtype=DTYPE), 3, 0)
    with pytest.raises(ValueError, match="logprobs: expected a float32 or float64"):
        sample_from_table([[0.0]], 3, generator(0))
    a = sample_from_logits(torch.zeros(3, dtype=DTYPE), (np.int64(2), torch.tensor(4)), generator(1))
    assert torch.equal(a, sample_from_logits(torch.zeros(3, dtype=DTYPE), (2, 4), generator(1)))


def test_random_pairs_checks_its_length_ranges_and_generator():
    for bad in (3, (1,), (1, 2, 3), (1.0, 2.0), None):
        with pytest.raises(ValueError, match="answer_len: expected"):
            random_pairs(generator(0), 2, 5, answer_len=bad)  # was a TypeError or IndexError
    with pytest.raises(ValueError, match="gen: expected"):
        random_pairs(None, 2, 5)
    a = random_pairs(generator(0), np.int64(2), torch.tensor(5), prompt_len=(np.int64(1), 2))
    assert a == random_pairs(generator(0), 2, 5, prompt_len=(1, 2))

"""Data: answers drawn from a policy, random preference pairs, padded prompt + answer batches.

Random draws run on the CPU with an explicit torch.Generator, so the data are the same on every
device; results are moved to the device of the input (or to device()).
"""

from __future__ import annotations

import math

import torch

from helpers import checks
from helpers.models import IGNORE_INDEX
from helpers.numeric import device


def sample_from_table(logprobs: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n draws y ∼ π(·|x) for every row x of a (rows, k) log-prob table → (rows, n) answer ids.

    Taught in: 02 §1.
    """
    checks.require_table_draws(logprobs, n, gen)
    return _sample_from_table(logprobs, n, gen)


def _sample_from_table(logprobs: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    probs = logprobs.detach().exp().cpu()
    draws = torch.multinomial(probs, n, replacement=True, generator=gen)  # (rows, n)
    return draws.to(logprobs.device)


def sample_from_logits(logits: torch.Tensor, shape: tuple[int, ...],
                       gen: torch.Generator) -> torch.Tensor:
    """Answer ids y ∼ softmax(logits): logits (K,) → int64 ids of the given shape.

    The same draws as sample_from_table on the one-row table log_softmax(logits).
    Taught in: 03 §4.
    """
    checks.require_logit_draws(logits, shape, gen)
    logprobs = torch.log_softmax(logits.detach(), dim=-1).unsqueeze(0)  # (1, K)
    sizes = tuple(int(n) for n in shape)  # numpy and 0-dim torch integers too
    return _sample_from_table(logprobs, math.prod(sizes), gen).reshape(sizes)


def batch_sequences(prompts: list[list[int]], answers: list[list[int]],
                    pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded prompt + answer tokens and their labels, both (batch, seq).

    The labels copy the answer tokens and put -100 on the prompt and the padding, so that only
    answer tokens are scored (as in the official DPO code and TRL). Rows are lists of int token
    ids (a tensor row: .tolist() it first).
    Taught in: 06 § The setting.
    """
    checks.require_token_lists(prompts, answers, pad_id)
    width = max(len(p) + len(a) for p, a in zip(prompts, answers, strict=True))
    tokens = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    labels = torch.full((len(prompts), width), IGNORE_INDEX, dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers, strict=True)):
        tokens[i, :len(p) + len(a)] = torch.tensor(p + a)
        labels[i, len(p):len(p) + len(a)] = torch.tensor(a)
    return tokens.to(device()), labels.to(device())


def random_pairs(gen: torch.Generator, n_pairs: int, vocab_size: int,
                 prompt_len: tuple[int, int] = (2, 4), answer_len: tuple[int, int] = (1, 5)
                 ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """n_pairs random (prompt, chosen, rejected) token lists; ids in [1, vocab); y_w, y_l lengths differ.

    Taught in: 06 § The setting.
    """
    checks.require_random_pairs(gen, n_pairs, vocab_size, prompt_len, answer_len)
    lo, hi = answer_len

    def draw(a: int, b: int) -> int:
        return int(torch.randint(a, b + 1, (1,), generator=gen))

    def tokens(n: int) -> list[int]:
        return torch.randint(1, vocab_size, (n,), generator=gen).tolist()

    prompts, chosen, rejected = [], [], []
    for _ in range(n_pairs):
        n_w = draw(lo, hi)
        n_l = draw(lo, hi - 1)
        n_l = n_l + 1 if n_l >= n_w else n_l  # uniform over the lengths other than n_w
        prompts.append(tokens(draw(*prompt_len)))
        chosen.append(tokens(n_w))
        rejected.append(tokens(n_l))
    return prompts, chosen, rejected

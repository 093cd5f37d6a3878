"""Shared fixtures of the unit tests of helpers/: seeded log-probs, tables, tabular problems, and
a tiny LM with a padded batch of preference pairs.

Each fixture is a factory (call it with a seed and sizes), so that one test can draw several.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from helpers.data import batch_sequences, random_pairs
from helpers.models import TinyCausalLM
from helpers.numeric import DTYPE, device, generator, set_threads


def pytest_configure(config: pytest.Config) -> None:
    # the models are tiny: one thread runs them fastest and keeps xdist workers off each other
    set_threads(1)


@pytest.fixture
def pair_logps() -> Callable[..., list[torch.Tensor]]:
    """make(n, seed) → four (n,) log-prob vectors in [−5.01, −0.01]: policy chosen, policy
    rejected, reference chosen, reference rejected (the argument order of dpo_loss)."""
    def make(n: int = 5, seed: int = 0) -> list[torch.Tensor]:
        gen = generator(seed)
        return [-(torch.rand(n, generator=gen, dtype=DTYPE) * 5 + 0.01).to(device())
                for _ in range(4)]
    return make


@pytest.fixture
def logprob_table() -> Callable[..., torch.Tensor]:
    """make(seed, rows, k) → a (rows, k) table of log-probabilities, rows summing to one."""
    def make(seed: int = 0, rows: int = 3, k: int = 5) -> torch.Tensor:
        return torch.log_softmax(torch.randn(rows, k, generator=generator(seed), dtype=DTYPE), -1)
    return make


@dataclass(frozen=True)
class Problem:
    """A tabular problem: (prompts, answers) tables and a (prompts,) prompt distribution."""

    ref: torch.Tensor           # log π_ref(y|x)
    rewards: torch.Tensor       # r(x, y)
    policy: torch.Tensor        # log π(y|x) of a random policy
    prompt_probs: torch.Tensor  # p(x)


@pytest.fixture
def problem() -> Callable[..., Problem]:
    """make(seed, prompts, answers) → a Problem drawn with a seeded generator."""
    def make(seed: int = 0, prompts: int = 3, answers: int = 5) -> Problem:
        gen = generator(seed)

        def table() -> torch.Tensor:
            return torch.randn(prompts, answers, generator=gen, dtype=DTYPE)

        ref, rewards, policy = torch.log_softmax(table(), -1), table(), torch.log_softmax(table(), -1)
        prompt_probs = torch.softmax(torch.randn(prompts, generator=gen, dtype=DTYPE), -1)
        return Problem(ref, rewards, policy, prompt_probs)
    return make


@pytest.fixture
def tiny_lms() -> Callable[..., tuple[TinyCausalLM, TinyCausalLM]]:
    """make(vocab, hidden, seed) → (policy, reference): a frozen tiny LM and a perturbed,
    trainable copy of it."""
    def make(vocab: int = 7, hidden: int = 4, seed: int = 0) -> tuple[TinyCausalLM, TinyCausalLM]:
        gen = generator(seed + 100)
        reference = TinyCausalLM(vocab, hidden, seed=seed).requires_grad_(False)
        policy = copy.deepcopy(reference).requires_grad_(True)
        with torch.no_grad():
            for p in policy.parameters():
                p.add_(0.5 * torch.randn(p.shape, generator=gen, dtype=DTYPE).to(device()))
        return policy, reference
    return make


@pytest.fixture
def pair_batch() -> Callable[..., tuple[tuple[torch.Tensor, torch.Tensor], tuple[list, list, list]]]:
    """make(n_pairs, vocab, seed) → ((tokens, labels), (prompts, chosen, rejected)).

    tokens, labels (2N, seq): N chosen rows, then N rejected rows, as batch_sequences makes them.
    """
    def make(n_pairs: int = 3, vocab: int = 7, seed: int = 0):
        prompts, chosen, rejected = random_pairs(generator(seed), n_pairs, vocab)
        return batch_sequences(prompts * 2, chosen + rejected), (prompts, chosen, rejected)
    return make

"""Toy models: a tabular softmax policy, a tiny causal LM, and sequence log-probs and gradients.

The sequence log-probs follow the official DPO code and TRL: labels shifted by one inside,
positions labelled -100 (prompt, padding) ignored, token log-probs summed per sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from helpers import checks
from helpers.numeric import DTYPE, device

IGNORE_INDEX = -100  # label of prompt and padding positions (official DPO code, TRL)


class TabularPolicy(nn.Module):
    """π_θ(y|x) = softmax(θ[x])_y with one free logit per (prompt, answer).

    Taught in: 02 §4, 05 §5.
    """

    def __init__(self, n_prompts: int, n_answers: int, logits: torch.Tensor | None = None):
        checks.require_tabular_policy(n_prompts, n_answers, logits)
        super().__init__()
        if logits is None:
            logits = torch.zeros(int(n_prompts), int(n_answers), dtype=DTYPE, device=device())
        self.logits = nn.Parameter(logits.detach().clone())

    def log_probs(self) -> torch.Tensor:
        """log π(y|x), shape (prompts, answers)."""
        return torch.log_softmax(self.logits, dim=-1)

    def probs(self) -> torch.Tensor:
        """π(y|x), shape (prompts, answers); rows sum to one."""
        return self.log_probs().exp()


class TinyCausalLM(nn.Module):
    """Embedding → one GRU layer → linear head: next-token logits (batch, seq, vocab).

    A GRU reads left to right, so position t sees tokens 0..t only: causal by construction.
    Taught in: 03 §7, 06 § The setting.
    """

    def __init__(self, vocab_size: int = 24, hidden: int = 16, seed: int = 0,
                 dtype: torch.dtype = DTYPE):
        checks.require_lm(vocab_size, hidden, seed, dtype)
        super().__init__()
        self.vocab_size, hidden = int(vocab_size), int(hidden)  # numpy or 0-dim torch integers too
        cpu = torch.Generator().manual_seed(int(seed))  # same weights on every device
        self.embed = nn.Embedding(self.vocab_size, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, self.vocab_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=cpu) * 0.5)
        self.to(device=device(), dtype=dtype)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, seq) int64 → logits (batch, seq, vocab)."""
        checks.require_tokens(tokens, self.vocab_size)
        hidden, _ = self.gru(self.embed(tokens))  # (batch, seq, hidden)
        return self.head(hidden)


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log π(label_{t+1} | tokens_≤t) and the mask of scored tokens, both (batch, seq-1).

    Labels are shifted by one: the logits at position t predict the token at t + 1. Positions
    labelled -100 get log-prob 0 and mask False.
    Taught in: 03 §7, 06 § The setting.
    """
    checks.require_logits_labels(logits, labels, IGNORE_INDEX)
    return _token_logprobs(logits, labels)


def _token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    labels = labels[:, 1:]  # (batch, seq-1): the token each position predicts
    mask = labels != IGNORE_INDEX
    safe = torch.where(mask, labels, torch.zeros_like(labels))  # -100 is no index: gather 0, mask
    logps = logits[:, :-1].log_softmax(-1).gather(2, safe.unsqueeze(2)).squeeze(2)
    return logps * mask, mask


def sequence_logprobs(logits: torch.Tensor, labels: torch.Tensor,
                      average: bool = False) -> torch.Tensor:
    """log π(y|x) = Σ_t log π(y_t | x, y_<t) over the scored tokens: → (batch,).

    `average=True` divides by the number of scored tokens (IPO's convention), which changes
    the effective β of DPO (06, pitfall C6.8). Every sequence must score at least one token.
    Taught in: 03 §7, 06 § The setting.
    """
    checks.require_sequence_logps(logits, labels, IGNORE_INDEX, average)
    logps, mask = _token_logprobs(logits, labels)  # (batch, seq-1) each
    total = logps.sum(-1)
    return total / mask.sum(-1) if average else total


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of `model` that require gradients, in model.parameters() order."""
    checks.require_module("model", model)
    return _trainable(model)


def _trainable(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def flat(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    """A tuple of gradient tensors (as torch.autograd.grad returns) concatenated: → (P,).

    Taught in: 03 §7, 06 §C6.1.
    """
    checks.require_grads(grads)
    return _flat(grads)


def _flat(grads: Sequence[torch.Tensor]) -> torch.Tensor:
    return torch.cat([g.reshape(-1) for g in grads])


def flat_grad(model: nn.Module) -> torch.Tensor:
    """The .grad of every trainable parameter concatenated: → (P,), zeros where .grad is None.

    Taught in: 06 §C6.4.
    """
    checks.require_trainable(model)
    return _flat([p.grad if p.grad is not None else torch.zeros_like(p) for p in _trainable(model)])


def per_sequence_grads(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                       average: bool = False) -> torch.Tensor:
    """∇_θ log π(y_i|x_i) for each sequence i, one backward each: → (batch, P) over trainable θ.

    Taught in: 06 §C6.4.
    """
    checks.require_sequence_grads(model, tokens, labels, average)
    params = _trainable(model)
    logps = sequence_logprobs(model(tokens), labels, average=average)  # (batch,)
    rows = [_flat(torch.autograd.grad(logps[i], params, retain_graph=i + 1 < len(logps)))
            for i in range(len(logps))]
    return torch.stack(rows)

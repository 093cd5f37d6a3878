"""Toy models: a tabular softmax policy and a tiny causal language model."""

from __future__ import annotations

import torch
from torch import nn

from helpers.numeric import DTYPE, device

IGNORE_INDEX = -100  # label of prompt and padding positions (official DPO code, TRL)


class TabularPolicy(nn.Module):
    """π_θ(y|x) = softmax(θ[x])_y with one free logit per (prompt, answer)."""

    def __init__(self, n_prompts: int, n_answers: int, logits: torch.Tensor | None = None):
        super().__init__()
        if n_prompts < 1 or n_answers < 2:
            raise ValueError(f"n_prompts, n_answers: expected >= 1 and >= 2, "
                             f"got {n_prompts}, {n_answers}")
        if logits is None:
            logits = torch.zeros(n_prompts, n_answers, dtype=DTYPE, device=device())
        if tuple(logits.shape) != (n_prompts, n_answers):
            raise ValueError(f"logits: expected shape {(n_prompts, n_answers)}, "
                             f"got {tuple(logits.shape)}")
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
    """

    def __init__(self, vocab_size: int = 24, hidden: int = 16, seed: int = 0,
                 dtype: torch.dtype = DTYPE):
        super().__init__()
        if vocab_size < 2 or hidden < 1:
            raise ValueError(f"vocab_size, hidden: expected >= 2 and >= 1, "
                             f"got {vocab_size}, {hidden}")
        self.vocab_size = vocab_size
        cpu = torch.Generator().manual_seed(seed)  # same weights on every device
        self.embed = nn.Embedding(vocab_size, hidden)
        self.gru = nn.GRU(hidden, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=cpu) * 0.5)
        self.to(device=device(), dtype=dtype)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (batch, seq) int64 → logits (batch, seq, vocab)."""
        if tokens.dim() != 2:
            raise ValueError(f"tokens: expected shape (batch, seq), got {tuple(tokens.shape)}")
        if tokens.min() < 0 or tokens.max() >= self.vocab_size:
            raise ValueError(f"tokens: expected ids in [0, {self.vocab_size}), "
                             f"got range [{int(tokens.min())}, {int(tokens.max())}]")
        hidden, _ = self.gru(self.embed(tokens))
        return self.head(hidden)


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token log p(label_t | tokens_<t) and the mask of scored tokens, both (batch, seq-1).

    Labels are shifted by one: logits at position t predict the token at t + 1. Positions
    labelled -100 get log-prob 0 and mask False.
    """
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape:
        raise ValueError(f"logits, labels: expected shapes (batch, seq, vocab) and (batch, seq), "
                         f"got {tuple(logits.shape)} and {tuple(labels.shape)}")
    scored = labels[labels != IGNORE_INDEX]
    if scored.numel() and (scored.min() < 0 or scored.max() >= logits.shape[-1]):
        raise ValueError(f"labels: expected token ids in [0, {logits.shape[-1]}) or -100, got range "
                         f"[{int(scored.min())}, {int(scored.max())}]")
    labels = labels[:, 1:]
    logits = logits[:, :-1, :]
    mask = labels != IGNORE_INDEX
    safe = torch.where(mask, labels, torch.zeros_like(labels))
    logps = torch.log_softmax(logits, dim=-1).gather(2, safe.unsqueeze(2)).squeeze(2)
    return logps * mask, mask


def sequence_logprobs(logits: torch.Tensor, labels: torch.Tensor,
                      average: bool = False) -> torch.Tensor:
    """log π(y|x) = Σ_t log π(y_t | x, y_<t) over scored tokens, shape (batch,).

    `average=True` divides by the number of scored tokens (IPO's convention), which changes
    the effective β of DPO. Raises ValueError for a sequence with no scored token.
    """
    logps, mask = token_logprobs(logits, labels)
    counts = mask.sum(-1)
    if (counts == 0).any():
        rows = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"labels: every sequence needs at least one scored token "
                         f"(label != -100 after the shift), rows {rows} have none")
    total = logps.sum(-1)
    return total / counts if average else total

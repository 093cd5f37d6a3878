"""The KL-regularised optimum π* = π_ref e^{r/β} / Z(x), its normaliser and objective (notebook 04).

Tables are (prompts, answers): log π_ref(y|x), r(x,y), log π(y|x).
"""

from __future__ import annotations

import torch

from helpers import checks


def optimal_policy(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """π*(y|x) = π_ref(y|x) exp(r(x,y)/β) / Z(x) = softmax_y(log π_ref + r/β): → (prompts, answers).

    Each row's rewards are shifted by their largest value first: the shift cancels in Z(x) and
    keeps r/β from swamping log π_ref, so π* is exact and finite for any finite r and β > 0.
    Taught in: 04 §C4.5.
    """
    checks.require_optimum(ref_logprobs, rewards, beta)
    top = rewards.max(dim=-1, keepdim=True).values  # (prompts, 1)
    return torch.softmax(ref_logprobs + (rewards - top) / beta, dim=-1)


def log_partition(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """log Z(x) = log Σ_y π_ref(y|x) exp(r(x,y)/β) = logsumexp_y(log π_ref + r/β): → (prompts,).

    Shifted by each row's largest reward inside the logsumexp, and added back as top/β.
    Taught in: 04 §C4.7.
    """
    checks.require_optimum(ref_logprobs, rewards, beta)
    top = rewards.max(dim=-1, keepdim=True).values  # (prompts, 1)
    return torch.logsumexp(ref_logprobs + (rewards - top) / beta, dim=-1) + top[:, 0] / beta


def kl_objective(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                 rewards: torch.Tensor, beta: float,
                 prompt_probs: torch.Tensor | None = None) -> torch.Tensor:
    """J(π) = Σ_x p(x) Σ_y π(y|x) [r(x,y) − β log(π(y|x)/π_ref(y|x))]: → ().

    prompt_probs p(x), shape (prompts,), defaults to uniform; 0·log 0 = 0 where π has no mass.
    Taught in: 04 §C4.7.
    """
    checks.require_objective(policy_logprobs, ref_logprobs, rewards, beta, prompt_probs)
    if prompt_probs is None:
        prompt_probs = torch.full(rewards.shape[:1], 1 / rewards.shape[0],
                                  dtype=rewards.dtype, device=rewards.device)
    pi = policy_logprobs.exp()
    log_ratio = torch.where(pi > 0, policy_logprobs - ref_logprobs, torch.zeros_like(pi))
    return (prompt_probs * (pi * (rewards - beta * log_ratio)).sum(-1)).sum()

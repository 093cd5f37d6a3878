"""The RLHF formulas: Bradley–Terry reward modelling, KL, the KL-regularised optimum."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers.numeric import (
    DTYPE,
    Momentum,
    device,
    require_finite,
    require_logprob_table,
    require_positive,
    require_same_shape,
)

# --------------------------------------------------------------------------- Bradley–Terry


def preference_prob(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """P(chosen ≻ rejected) = σ(r_w − r_l), shape (batch,)."""
    require_same_shape("r_chosen, r_rejected", r_chosen, r_rejected)
    return torch.sigmoid(r_chosen - r_rejected)


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Per-pair reward-model loss −log σ(r_w − r_l), shape (batch,), via logsigmoid (finite)."""
    require_same_shape("r_chosen, r_rejected", r_chosen, r_rejected)
    require_finite("r_chosen", r_chosen)
    require_finite("r_rejected", r_rejected)
    return -F.logsigmoid(r_chosen - r_rejected)


class RewardModel(nn.Module):
    """r(x) = w₂ · tanh(W₁ x + b₁) + b₂ : features (batch, d) → rewards (batch,)."""

    def __init__(self, n_features: int, hidden: int = 16, seed: int = 0):
        super().__init__()
        if n_features < 1 or hidden < 1:
            raise ValueError(f"n_features, hidden: expected >= 1, got {n_features}, {hidden}")
        cpu = torch.Generator().manual_seed(seed)  # identical init on every device
        self.inner = nn.Linear(n_features, hidden)
        self.out = nn.Linear(hidden, 1)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=cpu) / max(1, p.shape[-1]) ** 0.5)
        self.to(device=device(), dtype=DTYPE)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.inner(features))).squeeze(-1)


def sample_comparisons(true_reward: torch.Tensor, n_pairs: int,
                       gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw answer pairs uniformly and label them with P(i ≻ j) = σ(r_i − r_j).

    true_reward (answers,) → (chosen, rejected) index tensors, each (n_pairs,).
    """
    if true_reward.dim() != 1 or true_reward.numel() < 2:
        raise ValueError(f"true_reward: expected shape (answers>=2,), got {tuple(true_reward.shape)}")
    if n_pairs < 1:
        raise ValueError(f"n_pairs: expected >= 1, got {n_pairs}")
    n, reward = true_reward.numel(), true_reward.detach().cpu()
    i = torch.randint(n, (n_pairs,), generator=gen)  # drawn on the CPU: same data on any device
    j = (i + torch.randint(1, n, (n_pairs,), generator=gen)) % n  # j ≠ i
    first_wins = torch.rand(n_pairs, generator=gen, dtype=reward.dtype) \
        < torch.sigmoid(reward[i] - reward[j])
    chosen, rejected = torch.where(first_wins, i, j), torch.where(first_wins, j, i)
    return chosen.to(true_reward.device), rejected.to(true_reward.device)


def fit_reward_model(model: nn.Module, features: torch.Tensor, chosen: torch.Tensor,
                     rejected: torch.Tensor, steps: int = 300, lr: float = 0.5,
                     center_weight: float = 0.0) -> list[float]:
    """Full-batch gradient descent (momentum 0.9) on the mean Bradley–Terry loss.

    Returns the loss history. Plain gradient steps, not Adam: Adam rescales the round-off
    gradient (~1e-17) of the reward's offset into full-size steps, so the offset would drift.

    features (answers, d); chosen, rejected (pairs,) indices into the answers.
    center_weight > 0 adds center_weight · mean((r_w + r_l)²), which pins the reward's offset.
    """
    if center_weight < 0:
        raise ValueError(f"center_weight: expected >= 0, got {center_weight}")
    require_same_shape("chosen, rejected", chosen, rejected)
    opt = Momentum(model.parameters(), lr=lr, momentum=0.9)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        r = model(features)
        loss = bradley_terry_loss(r[chosen], r[rejected]).mean()
        if center_weight:
            loss = loss + center_weight * ((r[chosen] + r[rejected]) ** 2).mean()
        loss.backward()
        opt.step()
        history.append(loss.detach().item())
    return history


# --------------------------------------------------------------------------- KL and entropy


def categorical_kl(p_logprobs: torch.Tensor, q_logprobs: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) = Σ_y p log(p/q) per row: (rows, k) tables of log-probs → (rows,).

    0·log(0/q) = 0, and the gradient stays finite where p has zero mass (log-prob −inf).
    """
    require_same_shape("p_logprobs, q_logprobs", p_logprobs, q_logprobs)
    require_logprob_table("p_logprobs", p_logprobs)
    require_logprob_table("q_logprobs", q_logprobs)
    p = p_logprobs.exp()
    # mask the log-ratio, not the product: where p = 0 it is −inf − (…) and would give NaN grads
    log_ratio = torch.where(p > 0, p_logprobs - q_logprobs, torch.zeros_like(p))
    return (p * log_ratio).sum(-1)


def entropy(logprobs: torch.Tensor) -> torch.Tensor:
    """H(p) = −Σ_y p log p per row: (rows, k) log-probs → (rows,); 0·log 0 = 0."""
    require_logprob_table("logprobs", logprobs)
    p = logprobs.exp()
    return -(p * torch.where(p > 0, logprobs, torch.zeros_like(p))).sum(-1)


# --------------------------------------------------------------------------- the optimum


def _check_table(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> None:
    require_positive("beta", beta)
    require_logprob_table("ref_logprobs", ref_logprobs)
    require_same_shape("ref_logprobs, rewards", ref_logprobs, rewards)
    require_finite("rewards", rewards)


def optimal_policy(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """π*(y|x) = π_ref(y|x) exp(r(x,y)/β) / Z(x): (prompts, answers) → (prompts, answers).

    Computed as softmax(log π_ref + (r − max_y r)/β): the shift by each row's largest reward
    cancels in Z(x) and keeps r/β from swamping log π_ref, so it is exact and finite for any
    finite r and β > 0.
    """
    _check_table(ref_logprobs, rewards, beta)
    return torch.softmax(ref_logprobs + _shifted(rewards) / beta, dim=-1)


def _shifted(rewards: torch.Tensor) -> torch.Tensor:
    """r − max_y r per row (the largest reward of each prompt becomes 0)."""
    return rewards - rewards.max(dim=-1, keepdim=True).values


def log_partition(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> torch.Tensor:
    """β log Z(x), Z(x) = Σ_y π_ref(y|x) exp(r(x,y)/β): (prompts, answers) → (prompts,)."""
    _check_table(ref_logprobs, rewards, beta)
    top = rewards.max(dim=-1).values
    return beta * torch.logsumexp(ref_logprobs + _shifted(rewards) / beta, dim=-1) + top


def kl_objective(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                 rewards: torch.Tensor, beta: float,
                 prompt_probs: torch.Tensor | None = None) -> torch.Tensor:
    """J(π) = Σ_x p(x) Σ_y π(y|x) [r(x,y) − β log(π(y|x)/π_ref(y|x))], a scalar.

    Tables are (prompts, answers); prompt_probs (prompts,) defaults to uniform.
    """
    _check_table(ref_logprobs, rewards, beta)
    require_logprob_table("policy_logprobs", policy_logprobs)
    require_same_shape("policy_logprobs, ref_logprobs", policy_logprobs, ref_logprobs)
    if prompt_probs is None:
        prompt_probs = torch.full(rewards.shape[:1], 1 / rewards.shape[0],
                                  dtype=rewards.dtype, device=rewards.device)
    if tuple(prompt_probs.shape) != tuple(rewards.shape[:1]):
        raise ValueError(f"prompt_probs: expected shape {tuple(rewards.shape[:1])}, "
                         f"got {tuple(prompt_probs.shape)}")
    require_finite("prompt_probs", prompt_probs)
    if (prompt_probs < 0).any() or abs(float(prompt_probs.sum()) - 1) > 1e-6:
        raise ValueError(f"prompt_probs: expected non-negative values summing to 1, got sum "
                         f"{float(prompt_probs.sum()):.6g}, min {float(prompt_probs.min()):.3g}")
    pi = policy_logprobs.exp()
    expected_reward = (pi * rewards).sum(-1)
    kl = categorical_kl(policy_logprobs, ref_logprobs)
    return (prompt_probs * (expected_reward - beta * kl)).sum()

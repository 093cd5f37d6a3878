"""From the score function to PPO and GRPO: KL-shaped rewards, the clipped surrogate, group advantages.

Shapes: per-token tensors are (batch, T) with a bool mask of the scored (answer) tokens; per-answer
tensors are (batch,); tabular policies are (prompts, answers) tables of logits or log-probs.
"""

from __future__ import annotations

import torch

from helpers import checks
from helpers.optimum import kl_objective


def ppo_clip_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                  clip_eps: float = 0.2) -> torch.Tensor:
    """PPO's per-element loss −min(ρA, clip(ρ, 1−ε, 1+ε)A), ρ = exp(logps − old_logps): any shape → same.

    old_logps and advantages are constants of the loss (detached): only ρ's numerator carries θ.
    ρ·A must fit the dtype (log ρ + log|A| ≤ 709 in float64), else a ValueError.
    Taught in: 08 §5–6 (Schulman et al. 2017, eq. 7).
    """
    checks.require_ppo_clip(logps, old_logps, advantages, clip_eps)
    ratio = torch.exp(logps - old_logps.detach())  # ρ = π_θ / π_old
    adv = advantages.detach()
    clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps)
    return -torch.minimum(ratio * adv, clipped * adv)


def grpo_advantages(rewards: torch.Tensor, group_size: int, scale: bool = True,
                    eps: float = 1e-4) -> torch.Tensor:
    """GRPO's A_i = (r_i − mean_group r) / (std_group r + eps): (batch,) → (batch,).

    Answers come in consecutive groups of `group_size` per prompt; std is torch.std (unbiased,
    n − 1), as in DeepSeekMath and TRL's GRPOTrainer. scale=False keeps only r_i − mean.
    Taught in: 08 §7 (Shao et al. 2024).
    """
    checks.require_groups(rewards, group_size, scale, eps)
    groups = rewards.reshape(-1, int(group_size))  # (prompts, group_size)
    centred = groups - groups.mean(-1, keepdim=True)
    if scale:
        centred = centred / (groups.std(-1, keepdim=True) + eps)
    return centred.reshape(-1)


def per_token_rewards(scores: torch.Tensor, logps: torch.Tensor, ref_logps: torch.Tensor,
                      mask: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-token rewards −β(log π − log π_ref) on scored tokens, + the score at each row's last one.

    scores (batch,), logps and ref_logps (batch, T), mask (batch, T) bool → (batch, T), zero off
    the mask; detached (rewards are constants of the policy loss). As InstructGPT and TRL's
    PPOTrainer (compute_rewards). Taught in: 08 §3.
    """
    checks.require_token_rewards(scores, logps, ref_logps, mask, beta)
    kl = torch.where(mask, logps - ref_logps, torch.zeros_like(logps)).detach()
    positions = torch.arange(mask.shape[-1], device=mask.device)
    last = torch.where(mask, positions, -1).max(-1).values  # index of the last scored token
    at_last = torch.nn.functional.one_hot(last, mask.shape[-1]).to(logps.dtype)  # (batch, T)
    return -beta * kl + at_last * scores.detach().unsqueeze(-1)


def reward_to_go(rewards: torch.Tensor, discount: float = 1.0) -> torch.Tensor:
    """G_t = Σ_{t' ≥ t} discount^(t'−t) r_{t'}: (batch, T) → (batch, T). Taught in: 08 §4."""
    checks.require_returns(rewards, discount)
    t = torch.arange(rewards.shape[-1], device=rewards.device)
    lag = (t.unsqueeze(0) - t.unsqueeze(1)).to(rewards.dtype)  # lag[t, t'] = t' − t
    weights = torch.where(lag >= 0, discount ** lag.clamp(min=0), torch.zeros_like(lag))
    return rewards @ weights.T


def kl_objective_gradient(logits: torch.Tensor, ref_logprobs: torch.Tensor, rewards: torch.Tensor,
                          beta: float, prompt_probs: torch.Tensor | None = None) -> torch.Tensor:
    """∇_θ J for π_θ = softmax(θ) per row, J = Σ_x p(x) (E_π[r] − β KL(π‖π_ref)), exact: → (prompts, answers).

    Autograd through helpers.optimum.kl_objective (the objective of notebook 04, by enumeration).
    Taught in: 08 §1.
    """
    checks.require_objective_logits(logits, ref_logprobs, rewards)
    theta = logits.detach().clone().requires_grad_(True)
    objective = kl_objective(torch.log_softmax(theta, -1), ref_logprobs, rewards, beta, prompt_probs)
    (grad,) = torch.autograd.grad(objective, theta)
    return grad

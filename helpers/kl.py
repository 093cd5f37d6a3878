"""Estimating KL(π‖π_SFT) from samples y ∼ π: the per-sample estimators k1 and k3."""

from __future__ import annotations

import math

import torch

from helpers.numeric import (
    require_finite,
    require_logprob_table,
    require_logprobs,
    require_positive,
    require_same_shape,
)


def k1(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """Per-sample log(π(y)/π_SFT(y)) at samples y ∼ π: (n,) log-probs → (n,)."""
    require_same_shape("policy_logps, ref_logps", policy_logps, ref_logps)
    require_logprobs("policy_logps", policy_logps, atol=1e-9)
    require_logprobs("ref_logps", ref_logps, atol=1e-9)
    require_finite("policy_logps", policy_logps)  # y was drawn from π, so π(y) > 0
    return policy_logps - ref_logps


def k3(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """Per-sample (ρ − 1) − log ρ, ρ = π_SFT(y)/π(y), at samples y ∼ π: (n,) → (n,), ≥ 0."""
    log_rho = -k1(policy_logps, ref_logps)
    return torch.expm1(log_rho) - log_rho  # expm1: exact near ρ = 1, where both terms ≈ 0


def mean_ci(samples: torch.Tensor, z: float = 3.0) -> tuple[float, float]:
    """Monte-Carlo mean of (n,) samples and the half-width z·s/√n of its confidence interval."""
    if samples.dim() != 1 or samples.numel() < 2:
        raise ValueError(f"samples: expected shape (n>=2,), got {tuple(samples.shape)}")
    require_finite("samples", samples)
    require_positive("z", z)
    n = samples.numel()
    return float(samples.mean()), z * float(samples.std(unbiased=True)) / math.sqrt(n)


def sample_answers(logprobs: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """n draws y ∼ π(·|x) for every row of a (rows, k) log-prob table → (rows, n) indices.

    Drawn on the CPU with `gen` (the same draws on every device), returned on logprobs' device.
    """
    require_logprob_table("logprobs", logprobs)
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n: expected an integer >= 1, got {n!r}")
    probs = logprobs.detach().exp().cpu()
    draws = torch.multinomial(probs, n, replacement=True, generator=gen)
    return draws.to(logprobs.device)


def exact_mean_var(policy_logprobs: torch.Tensor,
                   values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E_π[f] and Var_π[f] of a per-answer value f under π: (rows, k) tables → (rows,), (rows,)."""
    require_logprob_table("policy_logprobs", policy_logprobs)
    require_same_shape("policy_logprobs, values", policy_logprobs, values)
    p = policy_logprobs.exp()
    safe = torch.where(p > 0, values, torch.zeros_like(values))  # 0·inf would give NaN
    mean = (p * safe).sum(-1)
    var = (p * (safe - mean.unsqueeze(-1)) ** 2).sum(-1)
    return mean, var

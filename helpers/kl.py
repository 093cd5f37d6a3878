"""KL and entropy of categorical tables, and the per-sample KL estimators k1, k3 (notebook 02)."""

from __future__ import annotations

import math

import torch

from helpers import checks


def categorical_kl(p_logprobs: torch.Tensor, q_logprobs: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) = Σ_y p(y) log(p(y)/q(y)) per row: (rows, k), (rows, k) log-probs → (rows,).

    0·log(0/q) = 0, and the gradient stays finite where p has zero mass (log-prob −inf).
    Taught in: 02 §1.
    """
    checks.require_logprob_tables(p_logprobs=p_logprobs, q_logprobs=q_logprobs)
    p = p_logprobs.exp()
    # mask the log-ratio, not the product: where p = 0 it is −inf − (…) and would give NaN grads
    log_ratio = torch.where(p > 0, p_logprobs - q_logprobs, torch.zeros_like(p))
    return (p * log_ratio).sum(-1)


def entropy(logprobs: torch.Tensor) -> torch.Tensor:
    """H(p) = −Σ_y p(y) log p(y) per row: (rows, k) log-probs → (rows,); 0·log 0 = 0.

    Taught in: 02 §4.
    """
    checks.require_logprob_tables(logprobs=logprobs)
    p = logprobs.exp()
    return -(p * torch.where(p > 0, logprobs, torch.zeros_like(p))).sum(-1)


def k1(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """k1(y) = log(π(y)/π_SFT(y)) at samples y ∼ π: (n,), (n,) log-probs → (n,).

    Unbiased for KL(π‖π_SFT), and negative for some samples.
    Taught in: 02 §1.
    """
    checks.require_sampled_logps(policy_logps, ref_logps)
    return policy_logps - ref_logps


def k3(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """k3(y) = (ρ − 1) − log ρ, ρ = π_SFT(y)/π(y), at samples y ∼ π: (n,), (n,) → (n,), ≥ 0.

    ρ must fit the dtype: log ρ ≤ 709 in float64 (88 in float32), else a ValueError.
    Taught in: 02 §2.
    """
    checks.require_sampled_logps(policy_logps, ref_logps, ratio=True)
    log_rho = ref_logps - policy_logps
    return torch.expm1(log_rho) - log_rho  # expm1: exact near ρ = 1, where both terms ≈ 0


def mean_ci(samples: torch.Tensor, z: float = 3.0) -> tuple[float, float]:
    """Monte-Carlo mean of (n,) samples and the half-width z·s/√n of its confidence interval.

    Taught in: 02 §1.
    """
    checks.require_mc_samples(samples, z)
    n = samples.numel()
    samples = samples.detach()  # two plain numbers come back
    return float(samples.mean()), float(z) * float(samples.std(unbiased=True)) / math.sqrt(n)


def exact_mean_var(policy_logprobs: torch.Tensor,
                   values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E_π[f] = Σ_y π(y) f(y) and Var_π[f] = Σ_y π(y) (f(y) − E_π[f])² per row.

    (rows, k) tables → (rows,), (rows,). f must be finite where π has mass; where π(y) = 0 its
    value does not count (it may be ±inf).
    Taught in: 02 §2.
    """
    checks.require_table_values(policy_logprobs, values)
    p = policy_logprobs.exp()
    safe = torch.where(p > 0, values, torch.zeros_like(values))  # 0·inf would give NaN
    mean = (p * safe).sum(-1)
    var = (p * (safe - mean.unsqueeze(-1)) ** 2).sum(-1)
    return mean, var

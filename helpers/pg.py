"""The score-function (log-derivative) policy gradient for a softmax policy over K answers.

Exact values come from enumerating the K answers; estimates from sampled answers. Shapes:
logits (K,), returns (K,) (the return G of each answer), samples (..., N) integer answer ids.
"""

from __future__ import annotations

import math

import torch

from helpers import kl
from helpers.numeric import require_finite


def _check_policy(logits: torch.Tensor, returns: torch.Tensor) -> None:
    if logits.dim() != 1 or logits.numel() < 2:
        raise ValueError(f"logits: expected shape (K,) with K >= 2, got {tuple(logits.shape)}")
    if returns.shape != logits.shape:
        raise ValueError(f"returns: expected shape {tuple(logits.shape)} (one return per "
                         f"answer), got {tuple(returns.shape)}")
    require_finite("logits", logits)
    require_finite("returns", returns)


def _check_samples(samples: torch.Tensor, k: int) -> None:
    if samples.dtype not in (torch.int64, torch.int32) or samples.dim() < 1:
        raise ValueError(f"samples: expected an integer tensor (..., N), got dtype "
                         f"{samples.dtype} and shape {tuple(samples.shape)}")
    if samples.numel() == 0 or samples.min() < 0 or samples.max() >= k:
        raise ValueError(f"samples: expected answer ids in [0, {k}), got "
                         + ("no samples" if samples.numel() == 0 else
                            f"range [{int(samples.min())}, {int(samples.max())}]"))


def expected_return(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """E_{y∼softmax(logits)}[G(y)] = Σ_y π(y) G(y), by enumeration: (K,), (K,) → ()."""
    _check_policy(logits, returns)
    return (torch.softmax(logits, dim=-1) * returns).sum()


def exact_gradient(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """∇_logits E[G] by autograd through the exact sum over answers: (K,), (K,) → (K,)."""
    _check_policy(logits, returns)
    theta = logits.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(expected_return(theta, returns.detach()), theta)
    return grad


def sample_answers(logits: torch.Tensor, shape: tuple[int, ...],
                   gen: torch.Generator) -> torch.Tensor:
    """Answer ids y ∼ softmax(logits), drawn on the CPU generator `gen`: (K,) → `shape` int64.

    The draws come from helpers.kl.sample_answers (one row, prod(shape) draws), reshaped.
    """
    if logits.dim() != 1:
        raise ValueError(f"logits: expected shape (K,), got {tuple(logits.shape)}")
    if not shape or any(int(n) < 1 for n in shape):
        raise ValueError(f"shape: expected positive sizes, got {shape}")
    logprobs = torch.log_softmax(logits.detach(), dim=-1).unsqueeze(0)
    return kl.sample_answers(logprobs, math.prod(int(n) for n in shape), gen).reshape(shape)


def softmax_score(logits: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
    """∇_logits log π(y) = onehot(y) − π for each sample: (K,), (..., N) → (..., N, K)."""
    if logits.dim() != 1:
        raise ValueError(f"logits: expected shape (K,), got {tuple(logits.shape)}")
    _check_samples(samples, logits.numel())
    onehot = torch.nn.functional.one_hot(samples, logits.numel()).to(logits.dtype)
    return onehot - torch.softmax(logits.detach(), dim=-1)


def score_function_terms(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                         baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Per-sample terms (G(y) − b) ∇log π(y): (K,), (..., N), (K,) → (..., N, K)."""
    _check_policy(logits, returns)
    scores = softmax_score(logits, samples)
    return (returns[samples] - baseline).unsqueeze(-1) * scores


def score_function_estimate(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                            baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Monte-Carlo gradient mean_n (G(y_n) − b) ∇log π(y_n): (..., N) samples → (..., K).

    With ∇log π(y) = onehot(y) − π, the mean is (Σ_n w_n onehot(y_n)) / N − mean(w) π for the
    weights w_n = G(y_n) − b: a scatter-add over the samples, without (..., N, K) one-hot terms.
    """
    _check_policy(logits, returns)
    _check_samples(samples, logits.numel())
    w = returns[samples] - baseline  # (..., N)
    sums = torch.zeros(*samples.shape[:-1], logits.numel(), dtype=w.dtype, device=w.device)
    sums.scatter_add_(-1, samples, w)
    probs = torch.softmax(logits.detach(), dim=-1)
    return sums / samples.shape[-1] - w.mean(-1, keepdim=True) * probs


def optimal_baseline(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """The variance-minimising constant b* = E[G ‖∇log π‖²] / E[‖∇log π‖²], exact: → ()."""
    _check_policy(logits, returns)
    probs = torch.softmax(logits.detach(), dim=-1)
    answers = torch.arange(logits.numel(), device=logits.device)
    sq_norm = softmax_score(logits, answers).pow(2).sum(-1)  # ‖∇log π(y)‖², (K,)
    return (probs * returns * sq_norm).sum() / (probs * sq_norm).sum()


def estimator_variance(logits: torch.Tensor, returns: torch.Tensor,
                       baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Exact total variance E‖(G − b)∇log π − ∇E[G]‖² of one sample's term, by enumeration: → ()."""
    _check_policy(logits, returns)
    probs = torch.softmax(logits.detach(), dim=-1)
    answers = torch.arange(logits.numel(), device=logits.device)
    terms = score_function_terms(logits, answers, returns, baseline)  # (K, K)
    mean = (probs.unsqueeze(-1) * terms).sum(0)
    return (probs * (terms - mean).pow(2).sum(-1)).sum()

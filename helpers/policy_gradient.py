"""The score-function (log-derivative) policy gradient of a softmax policy (notebook 03).

Exact values come from enumerating the K answers; estimates from sampled answers
(helpers.data.sample_from_logits). Shapes: logits (K,), returns (K,) (the return G of each
answer), samples (..., N) integer answer ids.
"""

from __future__ import annotations

import torch

from helpers import checks


def expected_return(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """E_{y∼π}[G(y)] = Σ_y π(y) G(y), π = softmax(logits), by enumeration: (K,), (K,) → ().

    Taught in: 03 §1.
    """
    checks.require_policy(logits, returns)
    return (torch.softmax(logits, dim=-1) * returns).sum()


def exact_gradient(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """∇_θ Σ_y softmax(θ)_y G(y) at θ = logits, by autograd through the exact sum: → (K,).

    Taught in: 03 §1.
    """
    checks.require_policy(logits, returns)
    theta = logits.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad((torch.softmax(theta, dim=-1) * returns.detach()).sum(), theta)
    return grad


def softmax_score(logits: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
    """∇_θ log π(y) = onehot(y) − π for each sample y: (K,), (..., N) → (..., N, K).

    Taught in: 03 §4.
    """
    checks.require_answer_ids(logits, samples)
    return _softmax_score(logits, samples)


def _softmax_score(logits: torch.Tensor, samples: torch.Tensor) -> torch.Tensor:
    k = logits.numel()
    eye = torch.eye(k, dtype=logits.dtype, device=logits.device)
    onehot = eye.index_select(0, samples.reshape(-1)).reshape(*samples.shape, k)  # (..., N, K): row y of I
    return onehot - torch.softmax(logits.detach(), dim=-1)


def score_function_terms(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                         baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Per-sample terms (G(y) − b) ∇log π(y): (K,), (..., N), (K,) → (..., N, K).

    baseline: a number, or a tensor broadcasting to the samples' shape (one b a sample).
    Taught in: 03 §4.
    """
    checks.require_policy_samples(logits, samples, returns, baseline)
    return _score_function_terms(logits, samples, returns, baseline)


def _score_function_terms(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                          baseline: float | torch.Tensor) -> torch.Tensor:
    if isinstance(baseline, torch.Tensor) and baseline.dim() > 0:  # one b a sample
        return (returns[samples] - baseline).unsqueeze(-1) * _softmax_score(logits, samples)
    # one constant b: a term depends on the answer y only, so the K possible terms are computed
    # once, (K, K) with row y = (G(y) − b)∇log π(y), and each sample looks its row up
    k = logits.numel()
    table = (returns - baseline).unsqueeze(-1) * _softmax_score(logits, torch.arange(k, device=logits.device))
    return table.index_select(0, samples.reshape(-1)).reshape(*samples.shape, k)


def score_function_estimate(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                            baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """Monte-Carlo gradient ĝ = mean_n (G(y_n) − b) ∇log π(y_n): (..., N) samples → (..., K).

    With ∇log π(y) = onehot(y) − π, the mean is (Σ_n w_n onehot(y_n)) / N − mean(w) π for the
    weights w_n = G(y_n) − b: a scatter-add over the samples, without (..., N, K) one-hot terms.
    baseline: a number, or a tensor broadcasting to the samples' shape (one b a sample).
    Taught in: 03 §4.
    """
    checks.require_policy_samples(logits, samples, returns, baseline)
    w = returns[samples] - baseline  # (..., N)
    sums = torch.zeros(*samples.shape[:-1], logits.numel(), dtype=w.dtype, device=w.device)
    sums.scatter_add_(-1, samples, w)  # (..., K): Σ_n w_n onehot(y_n)
    probs = torch.softmax(logits.detach(), dim=-1)
    return sums / samples.shape[-1] - w.mean(-1, keepdim=True) * probs


def optimal_baseline(logits: torch.Tensor, returns: torch.Tensor) -> torch.Tensor:
    """The variance-minimising constant b* = E[G ‖∇log π‖²] / E[‖∇log π‖²], exact: → ().

    b* = Σ_y w(y) G(y), a mean of the returns with weights w(y) ∝ π(y) ‖∇log π(y)‖², where
    ‖∇log π(y)‖² = ‖onehot(y) − π‖² = (1 − π(y))² + Σ_{j≠y} π(j)². The weights are computed
    in log space, so b* stays finite for any finite logits: where π puts (almost) all its mass
    on one answer a, both E[·] underflow to 0 in the plain ratio (0/0), and b* tends to the
    limit Σ_{y≠a} π(y) G(y) / Σ_{y≠a} π(y), the mean return of the other answers.
    Taught in: 03 §5.
    """
    checks.require_policy(logits, returns)
    logp = torch.log_softmax(logits.detach(), dim=-1)  # (K,)
    off = ~torch.eye(logits.numel(), dtype=torch.bool, device=logits.device)  # off[y, j]: j ≠ y
    others = torch.where(off, logp, -torch.inf)  # row y: log π(j) for j ≠ y, −inf at j = y
    log_sq_norm = torch.logaddexp(2 * torch.logsumexp(others, -1),  # log (1 − π(y))²
                                  torch.logsumexp(2 * others, -1))  # log Σ_{j≠y} π(j)²
    return (torch.softmax(logp + log_sq_norm, dim=-1) * returns).sum()


def estimator_variance(logits: torch.Tensor, returns: torch.Tensor,
                       baseline: float | torch.Tensor = 0.0) -> torch.Tensor:
    """V(b) = E‖(G − b)∇log π − ∇E[G]‖², the variance of one sample's term, exact: → ().

    The baseline b is a constant: a finite number of any kind (a 0-dim tensor too).
    Taught in: 03 §4, §5.
    """
    checks.require_policy_baseline(logits, returns, baseline)
    probs = torch.softmax(logits.detach(), dim=-1)
    answers = torch.arange(logits.numel(), device=logits.device)
    terms = _score_function_terms(logits, answers, returns, baseline)  # (K, K)
    mean = (probs.unsqueeze(-1) * terms).sum(0)  # = ∇E[G]
    return (probs * (terms - mean).pow(2).sum(-1)).sum()

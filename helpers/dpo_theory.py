"""What one DPO gradient step does to each answer's log-probability, to first order (notebook 07).

Likelihood displacement (Razin et al., 2024): a step on the batch-mean DPO loss can lower
log π(y_w|x) while it raises the margin, when the chosen and rejected answers' gradients are
aligned (g_w·g_l > ‖g_w‖² for one pair).
"""

from __future__ import annotations

import torch

from helpers import checks
from helpers.dpo import dpo_closed_form_grad


def first_order_logp_change(chosen_grads: torch.Tensor, rejected_grads: torch.Tensor,
                            weights: torch.Tensor, beta: float,
                            lr: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Δlog π(y_w,j|x_j) and Δlog π(y_l,j|x_j) ≈ ∇log π · Δθ after one step Δθ = −η ∇L.

    L is the batch-mean DPO loss, ∇L = −β mean_i[w_i (g_w,i − g_l,i)] with w_i = σ(r̂_l − r̂_w);
    so Δlog π(y_w,j) ≈ (ηβ/N) Σ_i w_i (g_w,j·g_w,i − g_w,j·g_l,i), up to O(η²).
    chosen_grads, rejected_grads (N, P) = ∇_θ log π of each answer, weights (N,) → (N,), (N,).
    Taught in: 07 §4.
    """
    checks.require_first_order(chosen_grads, rejected_grads, weights, beta, lr)
    step = -lr * dpo_closed_form_grad(weights, chosen_grads, rejected_grads, beta)  # Δθ, (P,)
    return chosen_grads @ step, rejected_grads @ step


"""The DPO loss, with the argument names and meaning of the official implementation."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.numeric import require_finite, require_logprobs, require_nonnegative, require_same_shape


def require_pair_logps(**logps: torch.Tensor) -> None:
    """ValueError unless the named tensors are (batch,) log-probabilities of one shape, finite, ≤ 0."""
    names = ", ".join(logps)
    tensors = list(logps.values())
    require_same_shape(names, *tensors)
    for name, x in logps.items():
        if x.dim() != 1:
            raise ValueError(f"{name}: expected shape (batch,), got {tuple(x.shape)}")
        require_finite(name, x)
        require_logprobs(name, x)


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
             beta: float, label_smoothing: float = 0.0,
             ipo: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO losses and the detached implicit rewards, each of shape (batch,).

    losses = −(1−ε) log σ(β h) − ε log σ(−β h), h = log π(y_w)/π_ref(y_w) − log π(y_l)/π_ref(y_l);
    with ipo=True, losses = (h − 1/(2β))². Rewards are β log(π/π_ref) of each answer.
    """
    require_pair_logps(policy_chosen_logps=policy_chosen_logps,
                       policy_rejected_logps=policy_rejected_logps,
                       reference_chosen_logps=reference_chosen_logps,
                       reference_rejected_logps=reference_rejected_logps)
    require_nonnegative("beta", beta)
    if ipo and beta == 0:
        raise ValueError("beta: IPO's target 1/(2β) needs beta > 0, got 0")
    if not (0.0 <= label_smoothing < 0.5):
        raise ValueError(f"label_smoothing: expected a number in [0, 0.5), got {label_smoothing!r}")
    pi_logratios = policy_chosen_logps - policy_rejected_logps
    ref_logratios = reference_chosen_logps - reference_rejected_logps
    logits = pi_logratios - ref_logratios  # h: the margin before β
    if ipo:
        losses = (logits - 1 / (2 * beta)) ** 2
    else:
        losses = (-F.logsigmoid(beta * logits) * (1 - label_smoothing)
                  - F.logsigmoid(-beta * logits) * label_smoothing)
    chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps).detach()
    rejected_rewards = beta * (policy_rejected_logps - reference_rejected_logps).detach()
    return losses, chosen_rewards, rejected_rewards

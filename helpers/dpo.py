"""DPO: the loss (with the argument names and meaning of the official implementation), the
implicit reward, the gradient in closed form, and the loss of a padded batch (notebooks 05, 06).

Log-probabilities of a batch of N pairs are (batch,) = (N,) vectors: log π(y_w|x), log π(y_l|x)
of the policy and of the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers import checks
from helpers.models import sequence_logprobs


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
             beta: float, label_smoothing: float = 0.0, ipo: bool = False,
             reference_free: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair losses and the detached implicit rewards of chosen and rejected, each (batch,).

    losses = −(1−ε) log σ(βh) − ε log σ(−βh), h = log π(y_w)/π_ref(y_w) − log π(y_l)/π_ref(y_l)
    (DPO for ε = 0); ipo=True: (h − 1/(2β))²; reference_free=True: the reference log-ratio is 0,
    i.e. π_ref uniform. Rewards β log(π/π_ref) use the reference in every case, as the official
    code does.
    Taught in: 05 §4, §8 (IPO, cDPO: 07 §3; reference_free: 07 §7).
    """
    checks.require_dpo(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                       reference_rejected_logps, beta, label_smoothing, ipo, reference_free)
    pi_logratios = policy_chosen_logps - policy_rejected_logps
    ref_logratios = reference_chosen_logps - reference_rejected_logps
    if reference_free:
        ref_logratios = 0
    logits = pi_logratios - ref_logratios  # h: the margin before β
    if ipo:
        losses = (logits - 1 / (2 * beta)) ** 2  # IPO, Eq. 17 of arxiv 2310.12036
    else:  # cDPO (label_smoothing = ε); ε = 0 is DPO, Eq. 7 of arxiv 2305.18290
        losses = (-F.logsigmoid(beta * logits) * (1 - label_smoothing)
                  - F.logsigmoid(-beta * logits) * label_smoothing)
    chosen_rewards = beta * (policy_chosen_logps - reference_chosen_logps).detach()
    rejected_rewards = beta * (policy_rejected_logps - reference_rejected_logps).detach()
    return losses, chosen_rewards, rejected_rewards


def simpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
               beta: float, gamma: float, label_smoothing: float = 0.0) -> torch.Tensor:
    """SimPO's per-pair losses −(1−ε) log σ(βh − γ) − ε log σ(−(βh − γ)), h = chosen − rejected.

    The log-probs are length-averaged (sequence_logprobs(..., average=True)) and there is no
    reference model; γ is the target reward margin. (batch,), (batch,) → (batch,).
    Taught in: 07 §6.
    """
    checks.require_simpo(policy_chosen_logps, policy_rejected_logps, beta, gamma, label_smoothing)
    margin = beta * (policy_chosen_logps - policy_rejected_logps) - gamma  # βh − γ
    return (-F.logsigmoid(margin) * (1 - label_smoothing)
            - F.logsigmoid(-margin) * label_smoothing)


def implicit_reward(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                    beta: float) -> torch.Tensor:
    """r̂(x,y) = β log(π(y|x)/π_ref(y|x)): (prompts, answers) tables → (prompts, answers).

    Taught in: 05 §4, §6.
    """
    checks.require_implicit_reward(policy_logprobs, ref_logprobs, beta)
    return beta * (policy_logprobs - ref_logprobs)


def dpo_grad_weight(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                    reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
                    beta: float) -> torch.Tensor:
    """The weight σ(r̂_l − r̂_w) of each pair's gradient, r̂ = β log(π/π_ref), detached: → (batch,).

    Taught in: 06 §C6.4.
    """
    checks.require_dpo(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                       reference_rejected_logps, beta)
    return _dpo_grad_weight(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                            reference_rejected_logps, beta)


def _dpo_grad_weight(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                     reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
                     beta: float) -> torch.Tensor:
    r_w = beta * (policy_chosen_logps - reference_chosen_logps)
    r_l = beta * (policy_rejected_logps - reference_rejected_logps)
    return torch.sigmoid(r_l - r_w).detach()


def dpo_logp_grads(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                   reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
                   beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """∂L/∂log π(y_w|x) = −β σ(r̂_l − r̂_w)/N and ∂L/∂log π(y_l|x) = +β σ(r̂_l − r̂_w)/N.

    L is the batch-mean DPO loss over N pairs; each output is (batch,) = (N,).
    Taught in: 06 §C6.6.
    """
    checks.require_dpo(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                       reference_rejected_logps, beta)
    w = _dpo_grad_weight(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                         reference_rejected_logps, beta)
    n = w.shape[0]
    return -beta * w / n, beta * w / n


def dpo_closed_form_grad(weights: torch.Tensor, chosen_grads: torch.Tensor,
                         rejected_grads: torch.Tensor, beta: float) -> torch.Tensor:
    """∇_θ L = −β mean_i[w_i (∇log π(y_w,i|x_i) − ∇log π(y_l,i|x_i))], w_i = σ(r̂_l − r̂_w).

    weights (batch,), per-sequence gradients (batch, P) → (P,).
    Taught in: 06 §C6.4.
    """
    checks.require_closed_form(weights, chosen_grads, rejected_grads, beta)
    return -beta * (weights[:, None] * (chosen_grads - rejected_grads)).mean(0)


def pair_logprobs(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                  average: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(log π(y_w|x), log π(y_l|x)) of a batch of N chosen rows, then N rejected rows: (N,) each.

    tokens, labels (2N, seq) as batch_sequences makes them.
    Taught in: 06 § The setting.
    """
    checks.require_pair_model(model, tokens, labels, average)
    return _pair_logprobs(model, tokens, labels, average)


def _pair_logprobs(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                   average: bool) -> tuple[torch.Tensor, torch.Tensor]:
    logps = sequence_logprobs(model(tokens), labels, average=average)  # (2N,)
    n = logps.shape[0] // 2
    return logps[:n], logps[n:]


def batch_dpo_loss(policy: nn.Module, reference: nn.Module, tokens: torch.Tensor,
                   labels: torch.Tensor, beta: float, average: bool = False) -> torch.Tensor:
    """Batch-mean DPO loss of the policy against a reference evaluated without gradients: → ().

    tokens, labels (2N, seq): N chosen rows, then N rejected rows; policy and reference share
    one vocabulary (their vocab_size, where they have one).
    Taught in: 06 §C6.4.
    """
    checks.require_dpo_batch(policy, reference, tokens, labels, average)
    with torch.no_grad():
        ref_w, ref_l = _pair_logprobs(reference, tokens, labels, average)
    pol_w, pol_l = _pair_logprobs(policy, tokens, labels, average)
    return dpo_loss(pol_w, pol_l, ref_w, ref_l, beta)[0].mean()

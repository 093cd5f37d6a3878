"""DPO on a tabular problem: every answer pair of every prompt, preferences from a known reward
(notebook 05).

The expected loss is computed exactly (a weighted sum over all ordered answer pairs), so a fit
has no sampling noise and its optimum can be compared with the closed-form RLHF optimum.
Tables are (prompts, answers).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers import checks
from helpers.dpo import dpo_loss
from helpers.models import TabularPolicy


def all_pairs(n_answers: int, device: torch.device | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """Every ordered pair i ≠ j of answers: (first, second) index tensors, each (n(n−1),).

    Taught in: 05 §3.
    """
    checks.require_all_pairs(n_answers, device)
    i, j = torch.meshgrid(torch.arange(n_answers), torch.arange(n_answers), indexing="ij")
    keep = i != j
    return i[keep].to(device), j[keep].to(device)


def pairwise_preference_probs(rewards: torch.Tensor) -> torch.Tensor:
    """P(y_i ≻ y_j | x) = σ(r(x,y_i) − r(x,y_j)): (prompts, answers) → (prompts, answers, answers).

    Taught in: 05 §3.
    """
    checks.require_table("rewards", rewards)
    return _pairwise_preference_probs(rewards)


def _pairwise_preference_probs(rewards: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(rewards[:, :, None] - rewards[:, None, :])


def _pair_weights(rewards: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(first, second, P(first ≻ second) / (prompts · n(n−1)/2)): all_pairs and their weights.

    The weights (prompts, n(n−1)) turn a per-pair table into the mean over prompts and
    unordered pairs; they depend on the rewards only, so a fit computes them once.
    """
    n_prompts, n = rewards.shape
    first, second = all_pairs(n, rewards.device)
    weights = _pairwise_preference_probs(rewards)[:, first, second]  # P(first ≻ second)
    return first, second, weights / (n_prompts * n * (n - 1) / 2)


def _pair_average(per_pair: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """Σ_x Σ_{i≠j} P_ij ℓ_ij / (prompts · n(n−1)/2): the mean over prompts and unordered pairs.

    per_pair (prompts, n(n−1)) in all_pairs order; the outcome i ≻ j is weighted by P(i ≻ j).
    """
    _, _, weights = _pair_weights(rewards)
    return (weights * per_pair).sum()


def expected_dpo_loss(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                      rewards: torch.Tensor, beta: float, label_smoothing: float = 0.0,
                      ipo: bool = False) -> torch.Tensor:
    """E[dpo_loss] over uniform prompts and answer pairs, winners drawn by Bradley–Terry on r.

    Tables (prompts, answers) → (); every ordered pair (i, j) enters with weight P(i ≻ j).
    β, label_smoothing, ipo and the log-prob values are checked by dpo_loss.
    Taught in: 05 §4.
    """
    checks.require_preference_tables(policy_logprobs, ref_logprobs, rewards)
    return _expected_dpo_loss(policy_logprobs, ref_logprobs, rewards, beta, label_smoothing, ipo)


def _expected_dpo_loss(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                       rewards: torch.Tensor, beta: float, label_smoothing: float,
                       ipo: bool, pairs: tuple | None = None) -> torch.Tensor:
    first, second, weights = _pair_weights(rewards) if pairs is None else pairs
    losses, _, _ = dpo_loss(policy_logprobs[:, first].reshape(-1),  # (prompts · n(n−1),)
                            policy_logprobs[:, second].reshape(-1),
                            ref_logprobs[:, first].reshape(-1),
                            ref_logprobs[:, second].reshape(-1),
                            beta, label_smoothing=label_smoothing, ipo=ipo)
    return (weights * losses.view(weights.shape)).sum()


def expected_bt_loss(model_rewards: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
    """E[−log σ(m(x,y_w) − m(x,y_l))], winners drawn by Bradley–Terry on r: tables → ().

    Taught in: 05 §3.
    """
    checks.require_reward_tables(model_rewards, rewards)
    first, second = all_pairs(rewards.shape[1], rewards.device)
    losses = -F.logsigmoid(model_rewards[:, first] - model_rewards[:, second])  # (prompts, pairs)
    return _pair_average(losses, rewards)


def preference_entropy(rewards: torch.Tensor) -> torch.Tensor:
    """Mean binary entropy H(P(i ≻ j)) over prompts and pairs, the least expected loss: → ().

    Taught in: 05 §3.
    """
    checks.require_table("rewards", rewards)
    first, second = all_pairs(rewards.shape[1], rewards.device)
    margin = rewards[:, first] - rewards[:, second]
    return _pair_average(-F.logsigmoid(margin), rewards)


def fit_tabular_dpo(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float,
                    steps: int = 15, label_smoothing: float = 0.0,
                    ipo: bool = False) -> tuple[TabularPolicy, list[float]]:
    """Minimise expected_dpo_loss over a TabularPolicy started at π_ref by Newton steps.

    Tables are (prompts, answers); returns (policy, the loss before each step). The loss is
    convex in the logits, so Newton's method with a backtracking line search converges
    (quadratically near the optimum). A small ridge handles the softmax's flat direction: a
    fraction of the Hessian's largest diagonal entry (or of 1 if that is larger), 1e-12 in
    float64 and 1e3·ε ≈ 1.2e-4 in float32; the Hessian grows like β², so a fixed ridge would
    drown in its round-off for β ≳ 500. Works for β in 1e-3 … 1e3, in float32 or float64.
    β, label_smoothing and ipo are checked by dpo_loss.
    Taught in: 05 §5.
    """
    checks.require_tabular_fit(ref_logprobs, rewards, steps)
    policy = TabularPolicy(*ref_logprobs.shape, logits=ref_logprobs)
    n = ref_logprobs.numel()
    eye = torch.eye(n, dtype=ref_logprobs.dtype, device=ref_logprobs.device)
    rel = max(1e-12, 1e3 * torch.finfo(ref_logprobs.dtype).eps)  # 1e-12 in float64, 1.2e-4 in float32
    pairs = _pair_weights(rewards)  # the pairs and their weights do not change during the fit

    def loss_of(logits: torch.Tensor) -> torch.Tensor:
        return _expected_dpo_loss(torch.log_softmax(logits, dim=-1), ref_logprobs, rewards, beta,
                                  label_smoothing, ipo, pairs)

    history = []
    for _ in range(steps):
        theta = policy.logits.detach().clone().requires_grad_(True)
        loss = loss_of(theta)
        (grad,) = torch.autograd.grad(loss, theta, create_graph=True)
        history.append(float(loss.detach()))
        # the Hessian's n rows ∂(∇L)_k/∂θ: one batched backward through the gradient's graph
        (hess,) = torch.autograd.grad(grad.reshape(n), theta, eye, is_grads_batched=True)
        hess, grad = hess.reshape(n, n), grad.detach()
        ridge = rel * max(1.0, float(hess.diagonal().abs().max())) * eye
        step = -torch.linalg.solve(hess + ridge, grad.reshape(n)).reshape(theta.shape)
        slope, t = float((grad * step).sum()), 1.0
        with torch.no_grad():
            for _ in range(20):  # backtracking (Armijo); near the optimum t = 1 is accepted
                if float(loss_of(theta.detach() + t * step)) <= history[-1] + 1e-4 * t * slope:
                    policy.logits.add_(t * step)
                    break
                t /= 2
    return policy, history

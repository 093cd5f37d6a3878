"""Bradley–Terry reward modelling: P(y_w ≻ y_l) = σ(r_w − r_l) and its loss (notebook 01)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers import checks
from helpers.numeric import DTYPE, device


def preference_prob(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """P(chosen ≻ rejected) = σ(r_w − r_l): (batch,), (batch,) → (batch,).

    Taught in: 01 §2.
    """
    checks.require_reward_pair(r_chosen, r_rejected)
    return torch.sigmoid(r_chosen - r_rejected)


def bradley_terry_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Per-pair loss −log σ(r_w − r_l): (batch,), (batch,) → (batch,).

    logsigmoid, never log(sigmoid(·)): finite loss and gradient at any margin (01 §3).
    Taught in: 01 §2.
    """
    checks.require_reward_pair(r_chosen, r_rejected)
    return -F.logsigmoid(r_chosen - r_rejected)


def centred_bt_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor,
                    center_weight: float) -> torch.Tensor:
    """mean(−log σ(r_w − r_l)) + λ·mean((r_w + r_l)²): (batch,), (batch,) → ().

    The penalty λ = center_weight pins the reward's offset, which the loss alone leaves free.
    Taught in: 01 §4.
    """
    checks.require_centred_bt(r_chosen, r_rejected, center_weight)
    return _centred_bt_loss(r_chosen, r_rejected, center_weight)


def _centred_bt_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor,
                     center_weight: float, dim: int | None = None) -> torch.Tensor:
    loss = -F.logsigmoid(r_chosen - r_rejected).mean(dim)
    if center_weight == 0:  # the penalty would add exactly 0 to the loss and to every gradient
        return loss
    return loss + center_weight * ((r_chosen + r_rejected) ** 2).mean(dim)


class RewardModel(nn.Module):
    """r(x) = w₂ · tanh(W₁ x + b₁) + b₂ : features (batch, d) → rewards (batch,).

    Taught in: 01 §4.
    """

    def __init__(self, n_features: int, hidden: int = 16, seed: int = 0):
        checks.require_model_sizes(seed, n_features=(n_features, 1), hidden=(hidden, 1))
        super().__init__()
        cpu = torch.Generator().manual_seed(int(seed))  # identical init on every device
        self.inner = nn.Linear(int(n_features), int(hidden))  # numpy or 0-dim torch integers too
        self.out = nn.Linear(int(hidden), 1)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=cpu) / max(1, p.shape[-1]) ** 0.5)
        self.to(device=device(), dtype=DTYPE)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """features (batch, d) → rewards (batch,)."""
        checks.require_features(features, self.inner.in_features, dtype=self.inner.weight.dtype)
        return self._rewards(features)

    def _rewards(self, features: torch.Tensor) -> torch.Tensor:
        """forward's formula without its check, for a loop whose features were checked once."""
        return self.out(torch.tanh(self.inner(features))).squeeze(-1)


def sample_comparisons(true_reward: torch.Tensor, n_pairs: int,
                       gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Answer pairs i ≠ j drawn uniformly, labelled i ≻ j with probability σ(r_i − r_j).

    true_reward (answers,) → (chosen, rejected) index tensors, each (n_pairs,).
    Taught in: 01 §4.
    """
    checks.require_comparisons(true_reward, n_pairs, gen)
    return _sample_comparisons(true_reward, n_pairs, gen)


def _sample_comparisons(true_reward: torch.Tensor, n_pairs: int,
                        gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    n, reward = true_reward.numel(), true_reward.detach().cpu()
    i = torch.randint(n, (n_pairs,), generator=gen)  # drawn on the CPU: same data on any device
    j = (i + torch.randint(1, n, (n_pairs,), generator=gen)) % n  # j ≠ i
    first_wins = torch.rand(n_pairs, generator=gen, dtype=reward.dtype) \
        < torch.sigmoid(reward[i] - reward[j])
    chosen, rejected = torch.where(first_wins, i, j), torch.where(first_wins, j, i)
    return chosen.to(true_reward.device), rejected.to(true_reward.device)


def fit_reward_model(model: nn.Module, features: torch.Tensor, chosen: torch.Tensor,
                     rejected: torch.Tensor, steps: int = 300, lr: float = 0.5,
                     center_weight: float = 0.0) -> list[float] | list[list[float]]:
    """Full-batch torch.optim.SGD (momentum 0.9) on centred_bt_loss; returns the loss history.

    features (answers, d); chosen, rejected (pairs,) indices into the answers. With
    center_weight = 0 the loss is the mean Bradley–Terry loss. Plain gradient steps, not Adam:
    Adam rescales the round-off gradient (~1e-17) of the reward's offset into full-size steps,
    so the offset would drift. model is a RewardModel, or an nn.ModuleList of RewardModels:
    they are trained side by side, each exactly as alone (see _sgd_fit), one history each.
    Taught in: 01 §4.
    """
    checks.require_reward_fit(model, features, chosen, rejected, steps, lr, center_weight)
    if isinstance(model, nn.ModuleList):
        return _sgd_fit(list(model), features, chosen, rejected, steps, lr, center_weight).T.tolist()
    return _sgd_fit([model], features, chosen, rejected, steps, lr, center_weight)[:, 0].tolist()


def _sgd_fit(models: list[RewardModel], features: torch.Tensor, chosen: torch.Tensor,
             rejected: torch.Tensor, steps: int, lr: float, center_weight: float) -> torch.Tensor:
    """fit_reward_model's loop, on arguments checked once before it (the features against each
    model's d and dtype too, so the steps call RewardModel._rewards): the loss history (steps, m).

    One torch.optim.SGD on the sum of the m models' losses: the losses share no parameter and SGD
    updates every entry on its own, so each model takes exactly the steps it would take alone.
    """
    opt = torch.optim.SGD([p for m in models for p in m.parameters()], lr=lr, momentum=0.9)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        r = torch.stack([m._rewards(features) for m in models])   # (m, answers): each model's r(x)
        losses = _centred_bt_loss(r[:, chosen], r[:, rejected], center_weight, dim=-1)   # (m,)
        losses.sum().backward()
        opt.step()
        history.append(losses.detach())
    history = torch.stack(history)
    checks.require_fit_finite(lr, history, r)  # a fit that diverged leaves NaN or inf
    return history

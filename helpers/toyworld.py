"""A seeded toy world for reward over-optimisation, and samples from a tiny language model.

Each prompt has a discrete set of answers with two features, length ℓ and quality q. The true
reward likes length up to ℓ = 1 and punishes it beyond; the SFT policy writes short answers, so
annotators only ever compare answers with ℓ < 1. A proxy reward model fitted on a few of their
noisy comparisons (helpers.bradley_terry) learns "longer is better" and extrapolates it past ℓ = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from helpers import checks
from helpers.bradley_terry import RewardModel, _sample_comparisons, fit_reward_model
from helpers.numeric import DTYPE, device

LENGTH_MAX = 3.0       # answer lengths lie in [0, LENGTH_MAX)
LABELLED_BELOW = 1.0   # annotators see only answers shorter than this
N_FEATURES = 2         # (length, quality)


@dataclass(frozen=True)
class ToyWorld:
    """features (prompts, answers, 2) = (length, quality); the rest (prompts, answers)."""

    features: torch.Tensor
    true_reward: torch.Tensor
    ref_logprobs: torch.Tensor
    labelled: torch.Tensor  # bool: answers the annotators compare


def true_reward(features: torch.Tensor) -> torch.Tensor:
    """r*(ℓ, q) = q + 3·min(ℓ, 1) − 4·max(ℓ − 1, 0): (..., 2) → (...).

    Taught in: 02 §3.
    """
    checks.require_features(features, N_FEATURES)
    length, quality = features[..., 0], features[..., 1]
    return quality + 3 * length.clamp(max=1.0) - 4 * (length - 1.0).clamp(min=0.0)


def sft_logprobs(features: torch.Tensor) -> torch.Tensor:
    """log π_SFT(y|x) = log_softmax_y(−2ℓ + q/2): (prompts, answers, 2) → (prompts, answers).

    Taught in: 02 §3.
    """
    checks.require_features(features, N_FEATURES, dims=3)
    return torch.log_softmax(-2 * features[..., 0] + 0.5 * features[..., 1], dim=-1)


def make_world(n_prompts: int, n_answers: int, gen: torch.Generator) -> ToyWorld:
    """Draw a world (on the CPU with `gen`, then moved to device()).

    Lengths are stratified: answer j of every prompt has ℓ in [3j/A, 3(j+1)/A), so each prompt
    has the same number of labelled answers (ℓ < 1); n_answers must be a multiple of 3, >= 6.
    Taught in: 02 §3.
    """
    checks.require_world(n_prompts, n_answers, gen)
    u = torch.rand(n_prompts, n_answers, generator=gen, dtype=DTYPE)
    length = LENGTH_MAX * (torch.arange(n_answers, dtype=DTYPE) + u) / n_answers
    quality = torch.randn(n_prompts, n_answers, generator=gen, dtype=DTYPE)
    features = torch.stack([length, quality], dim=-1).to(device())
    return ToyWorld(features=features, true_reward=true_reward(features),
                    ref_logprobs=sft_logprobs(features),
                    labelled=features[..., 0] < LABELLED_BELOW)


def comparisons(world: ToyWorld, pairs_per_prompt: int,
                gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy Bradley–Terry labels among each prompt's labelled answers.

    → (chosen, rejected), each (prompts · pairs_per_prompt,), flat indices into
    features.reshape(-1, 2), i.e. prompt · answers + answer.
    Taught in: 02 §3.
    """
    checks.require_world_comparisons(world, pairs_per_prompt, gen)
    n_prompts, n_answers = world.true_reward.shape
    chosen, rejected = [], []
    for x in range(n_prompts):
        idx = torch.nonzero(world.labelled[x]).flatten()
        c, r = _sample_comparisons(world.true_reward[x, idx], pairs_per_prompt, gen)
        chosen.append(x * n_answers + idx[c])
        rejected.append(x * n_answers + idx[r])
    return torch.cat(chosen), torch.cat(rejected)


def fit_proxy(world: ToyWorld, chosen: torch.Tensor, rejected: torch.Tensor,
              steps: int = 150, lr: float = 0.05, seed: int = 0) -> torch.Tensor:
    """Fit helpers.bradley_terry.RewardModel on the comparisons: its rewards (prompts, answers).

    The rewards are detached; steps, lr and seed are checked by RewardModel and fit_reward_model.
    Taught in: 02 §3.
    """
    checks.require_toy_world(world)
    flat = world.features.reshape(-1, N_FEATURES)
    model = RewardModel(N_FEATURES, seed=seed)
    fit_reward_model(model, flat, chosen, rejected, steps=steps, lr=lr)
    with torch.no_grad():
        return model(flat).reshape(world.true_reward.shape)


def sample_sequences(model: torch.nn.Module, n: int, length: int,
                     gen: torch.Generator) -> torch.Tensor:
    """n sequences of `length` tokens from a causal LM, token 0 first (BOS): (n, length) int64.

    Each next token is drawn on the CPU with `gen` from softmax(logits at the last position).
    Taught in: 02 §4.
    """
    checks.require_sampling(model, n, length, gen)
    tokens = torch.zeros(n, 1, dtype=torch.long, device=device())
    with torch.no_grad():
        for _ in range(length - 1):
            probs = torch.softmax(model(tokens)[:, -1, :], dim=-1).cpu()
            nxt = torch.multinomial(probs, 1, generator=gen).to(tokens.device)
            tokens = torch.cat([tokens, nxt], dim=1)
    return tokens

"""Argument checks: every ValueError a helper raises is raised here.

Each check names the argument, says what was expected and what came. A public helper calls
exactly one of them, on its first line, so its formula follows on the next. The first block
holds the building blocks; the others group the checks of one module each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

DEVICES = ("auto", "cpu", "cuda")

# --------------------------------------------------------------------------- building blocks


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def require_finite(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` if x holds NaN or ±inf."""
    if not torch.isfinite(torch.as_tensor(x)).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")


def require_positive(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite number > 0."""
    if not (_is_number(value) and value > 0):
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")


def require_nonnegative(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite number >= 0."""
    if not (_is_number(value) and value >= 0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")


def require_in_range(name: str, value: float, low: float, high: float) -> None:
    """ValueError naming `name` unless low <= value < high."""
    if not (_is_number(value) and low <= value < high):
        raise ValueError(f"{name}: expected a number in [{low:g}, {high:g}), got {value!r}")


def require_ints(**bounds: tuple[object, int]) -> None:
    """ValueError unless each `name=(value, minimum)` is an integer >= minimum."""
    for name, (value, minimum) in bounds.items():
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= minimum):
            raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def require_same_shape(names: str, *xs: torch.Tensor) -> None:
    """ValueError naming the arguments unless all tensors have the same shape."""
    shapes = [tuple(x.shape) for x in xs]
    if len(set(shapes)) != 1:
        raise ValueError(f"{names}: expected the same shape, got {', '.join(map(str, shapes))}")


def require_vector(name: str, x: torch.Tensor, min_len: int = 1) -> None:
    """ValueError naming `name` unless x has shape (n,) with n >= min_len."""
    if x.dim() != 1 or x.numel() < min_len:
        raise ValueError(f"{name}: expected shape (n,) with n >= {min_len}, got {tuple(x.shape)}")


def require_table(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` unless x is a finite (prompts, answers >= 2) table."""
    if x.dim() != 2 or x.shape[1] < 2:
        raise ValueError(f"{name}: expected a (prompts, answers>=2) table, "
                         f"got shape {tuple(x.shape)}")
    require_finite(name, x)


def require_logprobs(name: str, logps: torch.Tensor, atol: float = 0.0) -> None:
    """ValueError naming `name` unless logps are log-probabilities: no NaN or +inf, all ≤ atol."""
    if torch.isnan(logps).any() or (logps == float("inf")).any():
        raise ValueError(f"{name}: expected log-probabilities, got NaN or +inf")
    if (logps > atol).any():
        raise ValueError(f"{name}: expected log-probabilities <= 0, got max "
                         f"{float(logps.max()):.3g}")


def require_normalised(name: str, logps: torch.Tensor, atol: float = 1e-6) -> None:
    """ValueError naming `name` unless each row of exp(logps) sums to 1 (within atol)."""
    total = torch.logsumexp(logps, dim=-1).exp()
    if not torch.allclose(total, torch.ones_like(total), atol=atol, rtol=0):
        raise ValueError(f"{name}: expected each row to sum to 1 in probability, got sums "
                         f"{[round(float(t), 6) for t in total.flatten()]}")


def require_logprob_table(name: str, logps: torch.Tensor, atol: float = 1e-6) -> None:
    """ValueError unless logps (rows, k) are log-probabilities: ≤ 0, no NaN/+inf, rows sum to 1.

    −inf is allowed (probability zero) as long as each row keeps some mass.
    """
    if logps.dim() != 2:
        raise ValueError(f"{name}: expected a (prompts, answers) table, got shape "
                         f"{tuple(logps.shape)}")
    require_logprobs(name, logps, atol)
    require_normalised(name, logps, atol)


def require_logprob_tables(**tables: torch.Tensor) -> None:
    """ValueError unless the named tensors are log-prob tables (see above) of one shape."""
    require_same_shape(", ".join(tables), *tables.values())
    for name, logps in tables.items():
        require_logprob_table(name, logps)


def require_pair_logps(**logps: torch.Tensor) -> None:
    """ValueError unless the named tensors are (batch,) log-probabilities of one shape, finite, ≤ 0."""
    require_same_shape(", ".join(logps), *logps.values())
    for name, x in logps.items():
        if x.dim() != 1:
            raise ValueError(f"{name}: expected shape (batch,), got {tuple(x.shape)}")
        require_finite(name, x)
        require_logprobs(name, x)


def require_features(features: torch.Tensor, n_features: int, dims: int | None = None) -> None:
    """features (..., n_features); with dims, exactly that many dimensions."""
    if features.dim() < 1 or features.shape[-1] != n_features or (dims and features.dim() != dims):
        want = "(prompts, answers, " if dims == 3 else "(..., "
        raise ValueError(f"features: expected shape {want}{n_features}), "
                         f"got {tuple(features.shape)}")


def require_device_name(name: str) -> None:
    """ValueError unless the RLHF_DEVICE setting is one of DEVICES and is available."""
    if name not in DEVICES:
        raise ValueError(f"RLHF_DEVICE: expected one of {DEVICES}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("RLHF_DEVICE: 'cuda' was asked for but torch sees no CUDA device")


# --------------------------------------------------------------------------- bradley_terry


def require_reward_pair(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> None:
    """Rewards of the chosen and rejected answers: same shape, finite."""
    require_same_shape("r_chosen, r_rejected", r_chosen, r_rejected)
    require_finite("r_chosen", r_chosen)
    require_finite("r_rejected", r_rejected)


def require_centred_bt(r_chosen: torch.Tensor, r_rejected: torch.Tensor,
                       center_weight: float) -> None:
    """A reward pair (as above) and a centring weight >= 0."""
    require_reward_pair(r_chosen, r_rejected)
    require_nonnegative("center_weight", center_weight)


def require_comparisons(true_reward: torch.Tensor, n_pairs: int) -> None:
    """A (answers >= 2,) reward vector and a number of pairs >= 1."""
    require_vector("true_reward", true_reward, min_len=2)
    require_ints(n_pairs=(n_pairs, 1))


def require_reward_fit(features: torch.Tensor, chosen: torch.Tensor, rejected: torch.Tensor,
                       steps: int, lr: float) -> None:
    """features (answers, d); chosen, rejected index vectors of one shape; steps >= 1; lr > 0."""
    if features.dim() != 2:
        raise ValueError(f"features: expected shape (answers, d), got {tuple(features.shape)}")
    require_same_shape("chosen, rejected", chosen, rejected)
    require_ints(steps=(steps, 1))
    require_positive("lr", lr)


# --------------------------------------------------------------------------- kl


def require_sampled_logps(policy_logps: torch.Tensor, ref_logps: torch.Tensor) -> None:
    """Log-probs at samples y ∼ π: same shape, ≤ 0 (1e-9 slack), π(y) > 0 (finite)."""
    require_same_shape("policy_logps, ref_logps", policy_logps, ref_logps)
    require_logprobs("policy_logps", policy_logps, atol=1e-9)
    require_logprobs("ref_logps", ref_logps, atol=1e-9)
    require_finite("policy_logps", policy_logps)  # y was drawn from π, so π(y) > 0


def require_mc_samples(samples: torch.Tensor, z: float) -> None:
    """(n >= 2,) finite Monte-Carlo samples and a z-score > 0."""
    require_vector("samples", samples, min_len=2)
    require_finite("samples", samples)
    require_positive("z", z)


def require_table_values(policy_logprobs: torch.Tensor, values: torch.Tensor) -> None:
    """A log-prob table and a per-answer value table of the same shape."""
    require_same_shape("policy_logprobs, values", policy_logprobs, values)
    require_logprob_table("policy_logprobs", policy_logprobs)


# --------------------------------------------------------------------------- data


def require_table_draws(logprobs: torch.Tensor, n: int) -> None:
    """A (rows, k) log-prob table to draw from, and n >= 1 draws a row."""
    require_logprob_table("logprobs", logprobs)
    require_ints(n=(n, 1))


def require_logit_draws(logits: torch.Tensor, shape: tuple[int, ...]) -> None:
    """Logits of shape (K,) and a non-empty shape of positive sizes."""
    require_vector("logits", logits)
    if not shape or not all(isinstance(n, int) and n >= 1 for n in shape):
        raise ValueError(f"shape: expected positive integer sizes, got {shape!r}")


def require_token_lists(prompts: list[list[int]], answers: list[list[int]], pad_id: int) -> None:
    """Two non-empty lists of the same length of non-empty token-id lists (ids >= 0); pad_id >= 0."""
    if len(prompts) != len(answers) or not prompts:
        raise ValueError(f"prompts, answers: expected two non-empty lists of the same length, "
                         f"got {len(prompts)} and {len(answers)}")
    require_ints(pad_id=(pad_id, 0))
    for name, seqs in (("prompts", prompts), ("answers", answers)):
        for i, seq in enumerate(seqs):
            if len(seq) == 0 or min(seq) < 0:
                raise ValueError(f"{name}: expected non-empty lists of token ids >= 0, "
                                 f"entry {i} is {seq!r}")


def require_random_pairs(n_pairs: int, vocab_size: int, prompt_len: tuple[int, int],
                         answer_len: tuple[int, int]) -> None:
    """n_pairs >= 1, vocab_size >= 2, prompt lengths 1 <= lo <= hi, answer lengths 1 <= lo < hi."""
    require_ints(n_pairs=(n_pairs, 1), vocab_size=(vocab_size, 2))
    if not (1 <= answer_len[0] < answer_len[1]):
        raise ValueError(f"answer_len: expected (lo, hi) with 1 <= lo < hi, got {answer_len!r}")
    if not (1 <= prompt_len[0] <= prompt_len[1]):
        raise ValueError(f"prompt_len: expected (lo, hi) with 1 <= lo <= hi, got {prompt_len!r}")


# --------------------------------------------------------------------------- policy_gradient


def require_policy(logits: torch.Tensor, returns: torch.Tensor) -> None:
    """Finite logits (K >= 2,) of a softmax policy and one finite return per answer."""
    if logits.dim() != 1 or logits.numel() < 2:
        raise ValueError(f"logits: expected shape (K,) with K >= 2, got {tuple(logits.shape)}")
    if returns.shape != logits.shape:
        raise ValueError(f"returns: expected shape {tuple(logits.shape)} (one return per "
                         f"answer), got {tuple(returns.shape)}")
    require_finite("logits", logits)
    require_finite("returns", returns)


def require_answer_ids(logits: torch.Tensor, samples: torch.Tensor) -> None:
    """Logits (K,) and an integer tensor (..., N) of answer ids in [0, K)."""
    require_vector("logits", logits)
    k = logits.numel()
    if samples.dtype not in (torch.int64, torch.int32) or samples.dim() < 1:
        raise ValueError(f"samples: expected an integer tensor (..., N), got dtype "
                         f"{samples.dtype} and shape {tuple(samples.shape)}")
    if samples.numel() == 0 or samples.min() < 0 or samples.max() >= k:
        raise ValueError(f"samples: expected answer ids in [0, {k}), got "
                         + ("no samples" if samples.numel() == 0 else
                            f"range [{int(samples.min())}, {int(samples.max())}]"))


def require_policy_samples(logits: torch.Tensor, samples: torch.Tensor,
                           returns: torch.Tensor) -> None:
    """A policy with its returns (require_policy) and answer ids drawn from it."""
    require_policy(logits, returns)
    require_answer_ids(logits, samples)


# --------------------------------------------------------------------------- optimum


def require_reference_rewards(ref_logprobs: torch.Tensor, rewards: torch.Tensor) -> None:
    """A (prompts, answers) reference log-prob table and finite rewards of its shape."""
    require_logprob_table("ref_logprobs", ref_logprobs)
    require_same_shape("ref_logprobs, rewards", ref_logprobs, rewards)
    require_finite("rewards", rewards)


def require_optimum(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> None:
    """β > 0 and the reference and rewards of require_reference_rewards."""
    require_positive("beta", beta)
    require_reference_rewards(ref_logprobs, rewards)


def require_prompt_probs(prompt_probs: torch.Tensor | None, n_prompts: int) -> None:
    """None (uniform), or a (prompts,) vector of probabilities summing to 1."""
    if prompt_probs is None:
        return
    if tuple(prompt_probs.shape) != (n_prompts,):
        raise ValueError(f"prompt_probs: expected shape ({n_prompts},), "
                         f"got {tuple(prompt_probs.shape)}")
    require_finite("prompt_probs", prompt_probs)
    if (prompt_probs < 0).any() or abs(float(prompt_probs.sum()) - 1) > 1e-6:
        raise ValueError(f"prompt_probs: expected non-negative values summing to 1, got sum "
                         f"{float(prompt_probs.sum()):.6g}, min {float(prompt_probs.min()):.3g}")


def require_objective(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                      rewards: torch.Tensor, beta: float, prompt_probs: torch.Tensor | None) -> None:
    """The optimum's inputs (require_optimum), a policy table of their shape, prompt_probs."""
    require_optimum(ref_logprobs, rewards, beta)
    require_logprob_table("policy_logprobs", policy_logprobs)
    require_same_shape("policy_logprobs, ref_logprobs", policy_logprobs, ref_logprobs)
    require_prompt_probs(prompt_probs, rewards.shape[0])


# --------------------------------------------------------------------------- dpo


def require_dpo(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
                beta: float, label_smoothing: float = 0.0, ipo: bool = False) -> None:
    """Four (batch,) log-prob vectors, β >= 0 (> 0 for IPO), label_smoothing in [0, 0.5)."""
    require_pair_logps(policy_chosen_logps=policy_chosen_logps,
                       policy_rejected_logps=policy_rejected_logps,
                       reference_chosen_logps=reference_chosen_logps,
                       reference_rejected_logps=reference_rejected_logps)
    require_nonnegative("beta", beta)
    if ipo and beta == 0:
        raise ValueError("beta: IPO's target 1/(2β) needs beta > 0, got 0")
    require_in_range("label_smoothing", label_smoothing, 0.0, 0.5)


def require_simpo(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                  beta: float, gamma: float, label_smoothing: float) -> None:
    """Two (batch,) length-averaged log-prob vectors, β >= 0, γ >= 0, label_smoothing in [0, 0.5)."""
    require_pair_logps(policy_chosen_logps=policy_chosen_logps,
                       policy_rejected_logps=policy_rejected_logps)
    require_nonnegative("beta", beta)
    require_nonnegative("gamma", gamma)
    require_in_range("label_smoothing", label_smoothing, 0.0, 0.5)


def require_implicit_reward(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                            beta: float) -> None:
    """β > 0 and two (prompts, answers) log-prob tables of one shape."""
    require_positive("beta", beta)
    require_logprob_tables(policy_logprobs=policy_logprobs, ref_logprobs=ref_logprobs)


def require_closed_form(weights: torch.Tensor, chosen_grads: torch.Tensor,
                        rejected_grads: torch.Tensor, beta: float) -> None:
    """weights (batch,), per-sequence gradients (batch, P) of one shape, β >= 0."""
    require_same_shape("chosen_grads, rejected_grads", chosen_grads, rejected_grads)
    if weights.dim() != 1 or chosen_grads.dim() != 2 or chosen_grads.shape[0] != weights.shape[0]:
        raise ValueError(f"weights, chosen_grads: expected shapes (batch,) and (batch, P), "
                         f"got {tuple(weights.shape)} and {tuple(chosen_grads.shape)}")
    require_nonnegative("beta", beta)


def require_pair_batch(tokens: torch.Tensor, labels: torch.Tensor) -> None:
    """tokens, labels (2N, seq): N chosen rows, then N rejected rows."""
    require_same_shape("tokens, labels", tokens, labels)
    if tokens.dim() != 2 or tokens.shape[0] % 2:
        raise ValueError(f"tokens: expected (2N, seq), N chosen rows then N rejected rows, "
                         f"got shape {tuple(tokens.shape)}")


# --------------------------------------------------------------------------- tabular_dpo


def require_preference_tables(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                              rewards: torch.Tensor) -> None:
    """Finite rewards (prompts, answers >= 2); policy and reference rows that sum to 1, same shape.

    The log-prob values themselves (finite, ≤ 0) are checked by dpo_loss, which gets them.
    """
    require_table("rewards", rewards)
    require_same_shape("policy_logprobs, ref_logprobs, rewards",
                       policy_logprobs, ref_logprobs, rewards)
    require_normalised("policy_logprobs", policy_logprobs)
    require_normalised("ref_logprobs", ref_logprobs)


def require_reward_tables(model_rewards: torch.Tensor, rewards: torch.Tensor) -> None:
    """Two finite (prompts, answers >= 2) reward tables of the same shape."""
    require_table("model_rewards", model_rewards)
    require_table("rewards", rewards)
    require_same_shape("model_rewards, rewards", model_rewards, rewards)


def require_tabular_fit(ref_logprobs: torch.Tensor, rewards: torch.Tensor, steps: int) -> None:
    """The reference and rewards of require_reference_rewards, answers >= 2, steps >= 1.

    β, label_smoothing and ipo are checked by dpo_loss, which gets them.
    """
    require_reference_rewards(ref_logprobs, rewards)
    require_table("rewards", rewards)
    require_ints(steps=(steps, 1))


# --------------------------------------------------------------------------- models


def require_tabular_policy(n_prompts: int, n_answers: int, logits: torch.Tensor | None) -> None:
    """n_prompts >= 1, n_answers >= 2, and logits (if given) of shape (n_prompts, n_answers)."""
    require_ints(n_prompts=(n_prompts, 1), n_answers=(n_answers, 2))
    if logits is not None and tuple(logits.shape) != (n_prompts, n_answers):
        raise ValueError(f"logits: expected shape {(n_prompts, n_answers)}, "
                         f"got {tuple(logits.shape)}")


def require_tokens(tokens: torch.Tensor, vocab_size: int) -> None:
    """tokens (batch, seq) with ids in [0, vocab_size)."""
    if tokens.dim() != 2:
        raise ValueError(f"tokens: expected shape (batch, seq), got {tuple(tokens.shape)}")
    if tokens.min() < 0 or tokens.max() >= vocab_size:
        raise ValueError(f"tokens: expected ids in [0, {vocab_size}), "
                         f"got range [{int(tokens.min())}, {int(tokens.max())}]")


def require_logits_labels(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int,
                          every_row_scored: bool = False) -> None:
    """logits (batch, seq, vocab), labels (batch, seq) with ids in [0, vocab) or ignore_index.

    every_row_scored: each row must score at least one token (a label != ignore_index after
    the shift).
    """
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape:
        raise ValueError(f"logits, labels: expected shapes (batch, seq, vocab) and (batch, seq), "
                         f"got {tuple(logits.shape)} and {tuple(labels.shape)}")
    scored = labels[labels != ignore_index]
    if scored.numel() and (scored.min() < 0 or scored.max() >= logits.shape[-1]):
        raise ValueError(f"labels: expected token ids in [0, {logits.shape[-1]}) or {ignore_index}, "
                         f"got range [{int(scored.min())}, {int(scored.max())}]")
    counts = (labels[:, 1:] != ignore_index).sum(-1)
    if every_row_scored and (counts == 0).any():
        rows = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"labels: every sequence needs at least one scored token "
                         f"(label != {ignore_index} after the shift), rows {rows} have none")


def require_trainable(model: torch.nn.Module) -> None:
    """A model with at least one parameter that requires gradients."""
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model: expected at least one parameter with requires_grad=True")


def require_grads(grads: Sequence[torch.Tensor | None]) -> None:
    """A non-empty sequence of gradient tensors (no None: pass allow_unused=False)."""
    if len(grads) == 0 or any(g is None for g in grads):
        raise ValueError(f"grads: expected a non-empty sequence of tensors, got "
                         f"{[None if g is None else tuple(g.shape) for g in grads]}")


# --------------------------------------------------------------------------- toyworld


def require_world(n_prompts: int, n_answers: int) -> None:
    """n_prompts >= 1; n_answers a multiple of 3, >= 6."""
    require_ints(n_prompts=(n_prompts, 1))
    if not (isinstance(n_answers, int) and n_answers >= 6 and n_answers % 3 == 0):
        raise ValueError(f"n_answers: expected a multiple of 3, >= 6, got {n_answers!r}")

"""The DPO gradient in closed form: weights, per-sequence gradients, padded batches."""

from __future__ import annotations

import torch
from torch import nn

from helpers.dpo import dpo_loss, require_pair_logps
from helpers.models import IGNORE_INDEX, sequence_logprobs
from helpers.numeric import device, require_nonnegative, require_same_shape

# --------------------------------------------------------------------------- data


def batch_sequences(prompts: list[list[int]], answers: list[list[int]],
                    pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded prompt+answer tokens and labels (-100 on prompt and padding), (batch, seq)."""
    if len(prompts) != len(answers) or not prompts:
        raise ValueError(f"prompts, answers: expected two non-empty lists of the same length, "
                         f"got {len(prompts)} and {len(answers)}")
    if not (isinstance(pad_id, int) and pad_id >= 0):
        raise ValueError(f"pad_id: expected an integer >= 0, got {pad_id!r}")
    for name, seqs in (("prompts", prompts), ("answers", answers)):
        for i, seq in enumerate(seqs):
            if len(seq) == 0 or min(seq) < 0:
                raise ValueError(f"{name}: expected non-empty lists of token ids >= 0, "
                                 f"entry {i} is {seq!r}")
    width = max(len(p) + len(a) for p, a in zip(prompts, answers, strict=True))
    tokens = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    labels = torch.full((len(prompts), width), IGNORE_INDEX, dtype=torch.long)
    for i, (p, a) in enumerate(zip(prompts, answers, strict=True)):
        tokens[i, :len(p) + len(a)] = torch.tensor(p + a)
        labels[i, len(p):len(p) + len(a)] = torch.tensor(a)
    return tokens.to(device()), labels.to(device())


def random_pairs(gen: torch.Generator, n_pairs: int, vocab_size: int,
                 prompt_len: tuple[int, int] = (2, 4), answer_len: tuple[int, int] = (1, 5)
                 ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """n_pairs random (prompt, chosen, rejected) token lists, ids in [1, vocab), y_w, y_l lengths differ."""
    if not (isinstance(n_pairs, int) and n_pairs >= 1):
        raise ValueError(f"n_pairs: expected an integer >= 1, got {n_pairs!r}")
    if not (isinstance(vocab_size, int) and vocab_size >= 2):
        raise ValueError(f"vocab_size: expected an integer >= 2, got {vocab_size!r}")
    lo, hi = answer_len
    if not (1 <= lo < hi):
        raise ValueError(f"answer_len: expected (lo, hi) with 1 <= lo < hi, got {answer_len!r}")
    if not (1 <= prompt_len[0] <= prompt_len[1]):
        raise ValueError(f"prompt_len: expected (lo, hi) with 1 <= lo <= hi, got {prompt_len!r}")

    def draw(a: int, b: int) -> int:
        return int(torch.randint(a, b + 1, (1,), generator=gen))

    def tokens(n: int) -> list[int]:
        return torch.randint(1, vocab_size, (n,), generator=gen).tolist()

    prompts, chosen, rejected = [], [], []
    for _ in range(n_pairs):
        n_w = draw(lo, hi)
        n_l = draw(lo, hi - 1)
        n_l = n_l + 1 if n_l >= n_w else n_l  # uniform over the lengths other than n_w
        prompts.append(tokens(draw(*prompt_len)))
        chosen.append(tokens(n_w))
        rejected.append(tokens(n_l))
    return prompts, chosen, rejected


# --------------------------------------------------------------------------- closed form


def dpo_grad_weight(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                    reference_chosen_logps: torch.Tensor,
                    reference_rejected_logps: torch.Tensor, beta: float) -> torch.Tensor:
    """σ(r̂_l − r̂_w) with r̂ = β log(π/π_ref), detached, shape (batch,)."""
    require_pair_logps(policy_chosen_logps=policy_chosen_logps,
                       policy_rejected_logps=policy_rejected_logps,
                       reference_chosen_logps=reference_chosen_logps,
                       reference_rejected_logps=reference_rejected_logps)
    require_nonnegative("beta", beta)
    r_w = beta * (policy_chosen_logps - reference_chosen_logps)
    r_l = beta * (policy_rejected_logps - reference_rejected_logps)
    return torch.sigmoid(r_l - r_w).detach()


def dpo_logp_grads(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
                   reference_chosen_logps: torch.Tensor, reference_rejected_logps: torch.Tensor,
                   beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """∂(batch-mean DPO loss)/∂log π(y_w|x) and /∂log π(y_l|x): ∓β σ(r̂_l − r̂_w)/N, (batch,)."""
    w = dpo_grad_weight(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
                        reference_rejected_logps, beta)
    n = w.shape[0]
    return -beta * w / n, beta * w / n


def dpo_closed_form_grad(weights: torch.Tensor, chosen_grads: torch.Tensor,
                         rejected_grads: torch.Tensor, beta: float) -> torch.Tensor:
    """−β mean_i[w_i (∇log π(y_w,i) − ∇log π(y_l,i))]: weights (batch,), grads (batch, P) → (P,)."""
    require_same_shape("chosen_grads, rejected_grads", chosen_grads, rejected_grads)
    if weights.dim() != 1 or chosen_grads.dim() != 2 or chosen_grads.shape[0] != weights.shape[0]:
        raise ValueError(f"weights, chosen_grads: expected shapes (batch,) and (batch, P), "
                         f"got {tuple(weights.shape)} and {tuple(chosen_grads.shape)}")
    require_nonnegative("beta", beta)
    return -beta * (weights[:, None] * (chosen_grads - rejected_grads)).mean(0)


# --------------------------------------------------------------------------- gradients


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters of `model` that require gradients, in model.parameters() order."""
    return [p for p in model.parameters() if p.requires_grad]


def flat_grad(model: nn.Module) -> torch.Tensor:
    """All trainable parameters' .grad concatenated, shape (P,) (zeros where .grad is None)."""
    params = trainable(model)
    if not params:
        raise ValueError("model: expected at least one parameter with requires_grad=True")
    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in params])


def per_sequence_grads(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                       average: bool = False) -> torch.Tensor:
    """∇_θ log π(y_i|x_i) for each sequence, one backward each: (batch, P) over trainable θ."""
    params = trainable(model)
    if not params:
        raise ValueError("model: expected at least one parameter with requires_grad=True")
    logps = sequence_logprobs(model(tokens), labels, average=average)
    rows = []
    for i in range(logps.shape[0]):
        grads = torch.autograd.grad(logps[i], params, retain_graph=i + 1 < logps.shape[0])
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def pair_logprobs(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                  average: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(chosen, rejected) log π of a batch stacking N chosen rows then N rejected rows, (N,)."""
    if tokens.shape[0] % 2:
        raise ValueError(f"tokens: expected 2N rows (chosen then rejected), got {tokens.shape[0]}")
    logps = sequence_logprobs(model(tokens), labels, average=average)
    n = logps.shape[0] // 2
    return logps[:n], logps[n:]


def batch_dpo_loss(policy: nn.Module, reference: nn.Module, tokens: torch.Tensor,
                   labels: torch.Tensor, beta: float, average: bool = False) -> torch.Tensor:
    """Batch-mean DPO loss of the policy against a reference evaluated without gradients, ()."""
    with torch.no_grad():
        ref_w, ref_l = pair_logprobs(reference, tokens, labels, average)
    pol_w, pol_l = pair_logprobs(policy, tokens, labels, average)
    return dpo_loss(pol_w, pol_l, ref_w, ref_l, beta)[0].mean()

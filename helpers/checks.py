"""Argument checks: every ValueError a helper raises is raised here.

Each check names the argument, says what was expected and what came. A public helper calls
exactly one of them, on its first line, so its formula follows on the next. The first block
holds the building blocks; the others group the checks of one module each.

One rule for every helper:
- a tensor argument is a torch.Tensor, never converted: a list, a numpy array or a number where
  a tensor belongs is a ValueError saying so (convert it with torch.tensor(x, dtype=DTYPE)).
  Values are float32 or float64 tensors, token and answer ids int64 (torch.long), masks bool.
  No tensor argument may be empty, and values a user passes in must be finite (log-probabilities
  may be −inf where a probability is 0).
- a number (β, ε, a learning rate, a baseline) is any real scalar: a Python int or float, a
  numpy number, a 0-dim torch tensor; a bool is not a number; NaN and ±inf are refused.
- an integer (a size, a count, a seed) is a Python or numpy integer or a 0-dim integer tensor,
  never a bool or a float such as 3.0; a seed lies in [0, 2**32).
- a flag (ipo, average, scale) is a bool; a generator is a CPU torch.Generator.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

DEVICES = ("auto", "cpu", "cuda")
FLOATS = (torch.float32, torch.float64)
SEED_LIMIT = 2**32  # numpy's seeds lie in [0, 2**32)

# --------------------------------------------------------------------------- building blocks


def _got(x: object) -> str:
    """What came, in words: a tensor's dtype and shape, or another object's type and value."""
    if isinstance(x, torch.Tensor):
        kind = str(x.dtype).removeprefix("torch.")
        return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} tensor of shape {tuple(x.shape)}"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _real(value: object) -> float | None:
    """value as a float if it is a real number of any kind (Python, numpy, 0-dim torch), else None.

    A bool is not a number.
    """
    if isinstance(value, torch.Tensor):
        kind = value.dtype
        if value.dim() != 0 or kind.is_complex or kind == torch.bool:
            return None
        return float(value.detach())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond the float range
            return math.inf if value > 0 else -math.inf
    return None


def _integer(value: object) -> int | None:
    """value as an int if it is an integer of any kind (Python, numpy, 0-dim torch), else None."""
    if isinstance(value, torch.Tensor):
        kind = value.dtype
        if value.dim() != 0 or kind.is_floating_point or kind.is_complex or kind == torch.bool:
            return None
        return int(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    return None


def _is_number(value: object) -> bool:
    real = _real(value)
    return real is not None and math.isfinite(real)


def require_tensor(name: str, x: torch.Tensor, dtypes: tuple[torch.dtype, ...] = FLOATS) -> None:
    """ValueError naming `name` unless x is a non-empty torch.Tensor of one of `dtypes`."""
    if not isinstance(x, torch.Tensor) or x.dtype not in dtypes:
        want = " or ".join(str(d).removeprefix("torch.") for d in dtypes)
        hint = "" if isinstance(x, torch.Tensor) else \
            f" (convert it with torch.tensor(x, dtype={dtypes[-1]}))"
        article = "an" if want[0] in "aeiou" else "a"
        raise ValueError(f"{name}: expected {article} {want} torch.Tensor, got {_got(x)}{hint}")
    if x.numel() == 0:
        raise ValueError(f"{name}: expected a non-empty tensor, got shape {tuple(x.shape)}")


def require_floats(**tensors: torch.Tensor) -> None:
    """ValueError unless each named argument is a non-empty float32 or float64 tensor."""
    for name, x in tensors.items():
        require_tensor(name, x, FLOATS)


def require_ids(**tensors: torch.Tensor) -> None:
    """ValueError unless each named argument is a non-empty int64 (torch.long) tensor."""
    for name, x in tensors.items():
        require_tensor(name, x, (torch.int64,))


def require_numpy_able(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` unless x is a torch.Tensor of a dtype numpy has (any size)."""
    if not isinstance(x, torch.Tensor) or x.dtype in (torch.bfloat16, torch.complex32) \
            or x.is_quantized:
        raise ValueError(f"{name}: expected a torch.Tensor of a dtype numpy has, got {_got(x)}")


def require_finite(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` if x holds NaN or ±inf."""
    if not torch.isfinite(torch.as_tensor(x)).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")


def require_positive(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite real number > 0."""
    if not (_is_number(value) and _real(value) > 0):
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")


def require_nonnegative(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite real number >= 0."""
    if not (_is_number(value) and _real(value) >= 0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")


def require_in_range(name: str, value: float, low: float, high: float) -> None:
    """ValueError naming `name` unless low <= value < high."""
    if not (_is_number(value) and low <= _real(value) < high):
        raise ValueError(f"{name}: expected a number in [{low:g}, {high:g}), got {value!r}")


def require_ints(**bounds: tuple[object, int]) -> None:
    """ValueError unless each `name=(value, minimum)` is an integer >= minimum."""
    for name, (value, minimum) in bounds.items():
        integer = _integer(value)
        if integer is None or integer < minimum:
            raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def require_seed(seed: int) -> None:
    """ValueError unless seed is an integer in [0, 2**32)."""
    integer = _integer(seed)
    if integer is None or not 0 <= integer < SEED_LIMIT:
        raise ValueError(f"seed: expected an integer in [0, 2**32), got {seed!r}")


def require_flags(**flags: bool) -> None:
    """ValueError unless each named argument is a bool (True or False)."""
    for name, flag in flags.items():
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name}: expected True or False, got {_got(flag)}")


def require_generator(gen: torch.Generator) -> None:
    """ValueError unless gen is a CPU torch.Generator (helpers.numeric.generator(seed))."""
    if not isinstance(gen, torch.Generator) or gen.device.type != "cpu":
        raise ValueError(f"gen: expected a CPU torch.Generator (helpers.numeric.generator(seed)), "
                         f"got {_got(gen)}")


def require_module(name: str, model: nn.Module) -> None:
    """ValueError naming `name` unless model is a torch.nn.Module."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"{name}: expected a torch.nn.Module, got {_got(model)}")


def require_same_shape(names: str, *xs: torch.Tensor) -> None:
    """ValueError naming the arguments unless all tensors have the same shape."""
    shapes = [tuple(x.shape) for x in xs]
    if len(set(shapes)) != 1:
        raise ValueError(f"{names}: expected the same shape, got {', '.join(map(str, shapes))}")


def require_vector(name: str, x: torch.Tensor, min_len: int = 1) -> None:
    """ValueError naming `name` unless x is a float tensor of shape (n,) with n >= min_len."""
    require_tensor(name, x)
    if x.dim() != 1 or x.numel() < min_len:
        raise ValueError(f"{name}: expected shape (n,) with n >= {min_len}, got {tuple(x.shape)}")


def require_table(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` unless x is a finite float (prompts, answers >= 2) table."""
    require_tensor(name, x)
    if x.dim() != 2 or x.shape[1] < 2:
        raise ValueError(f"{name}: expected a (prompts, answers>=2) table, "
                         f"got shape {tuple(x.shape)}")
    require_finite(name, x)


def require_logprobs(name: str, logps: torch.Tensor, atol: float = 0.0) -> None:
    """ValueError naming `name` unless logps are log-probabilities: no NaN or +inf, all ≤ atol."""
    require_tensor(name, logps)
    if torch.isnan(logps).any() or (logps == float("inf")).any():
        raise ValueError(f"{name}: expected log-probabilities, got NaN or +inf")
    if (logps > atol).any():
        raise ValueError(f"{name}: expected log-probabilities <= 0, got max "
                         f"{float(logps.detach().max()):.3g}")


def _sum_tolerance(logps: torch.Tensor, atol: float) -> float:
    """How far a row's probability sum may be from 1: atol, or 16 k ε when a row of k float32
    terms rounds by more."""
    return max(atol, 16 * logps.shape[-1] * torch.finfo(logps.dtype).eps)


def require_normalised(name: str, logps: torch.Tensor, atol: float = 1e-6) -> None:
    """ValueError naming `name` unless each row of exp(logps) sums to 1 (within atol).

    In float32 the tolerance grows with the row length (16 k ε): a row's sum rounds.
    """
    total = torch.logsumexp(logps, dim=-1).exp()
    if not torch.allclose(total, torch.ones_like(total), atol=_sum_tolerance(logps, atol), rtol=0):
        raise ValueError(f"{name}: expected each row to sum to 1 in probability, got sums "
                         f"{[round(float(t), 6) for t in total.detach().flatten()[:8]]}")


def require_logprob_table(name: str, logps: torch.Tensor, atol: float = 1e-6) -> None:
    """ValueError unless logps (rows >= 1, k) are log-probabilities: ≤ 0, no NaN/+inf, rows sum to 1.

    −inf is allowed (probability zero) as long as each row keeps some mass.
    """
    require_tensor(name, logps)
    if logps.dim() != 2:
        raise ValueError(f"{name}: expected a (prompts, answers) table, got shape "
                         f"{tuple(logps.shape)}")
    if _logprob_rows(logps.detach(), atol):
        return
    require_logprobs(name, logps, atol)  # which property fails, and how
    require_normalised(name, logps, atol)


def _logprob_rows(values: torch.Tensor, atol: float) -> bool:
    """In one pass: every value ≤ atol and every row sums to 1 in probability, within the
    tolerance of require_normalised (NaN and +inf fail both)."""
    total = torch.logsumexp(values, dim=-1).exp()
    return bool((values <= atol).all()) and bool(((total - 1).abs() <= _sum_tolerance(values, atol)).all())


def require_logprob_tables(**tables: torch.Tensor) -> None:
    """ValueError unless the named tensors are log-prob tables (see above) of one shape."""
    require_floats(**tables)
    require_same_shape(", ".join(tables), *tables.values())
    values = torch.stack([t.detach() for t in tables.values()])
    if values.dim() == 3 and _logprob_rows(values, 1e-6):
        return
    for name, logps in tables.items():  # which one, and how
        require_logprob_table(name, logps)


def require_pair_logps(**logps: torch.Tensor) -> None:
    """ValueError unless the named tensors are (batch >= 1,) log-probabilities of one shape, finite, ≤ 0."""
    require_floats(**logps)
    require_same_shape(", ".join(logps), *logps.values())
    for name, x in logps.items():
        if x.dim() != 1:
            raise ValueError(f"{name}: expected shape (batch,), got {tuple(x.shape)}")
    values = torch.stack([x.detach() for x in logps.values()])
    if bool(((values <= 0) & (values > -math.inf)).all()):  # one pass: finite and <= 0 (NaN fails)
        return
    for name, x in logps.items():  # which one, and how
        require_finite(name, x)
        require_logprobs(name, x)


def require_exp_fits(names: str, log_value: torch.Tensor) -> None:
    """ValueError naming the arguments if exp(log_value) overflows its dtype (> 709 in float64).

    log_value is the log of a ratio exp(a − b) of the named log-probs, or of the ratio times a
    factor; the message says a − b for `names` = "a, b".
    """
    limit = math.log(torch.finfo(log_value.dtype).max)
    if (log_value > limit).any():
        raise ValueError(f"{names}: exp({names.replace(', ', ' − ')}) (times its factor) overflows "
                         f"{str(log_value.dtype).removeprefix('torch.')}: its log reaches "
                         f"{float(log_value.detach().max()):.4g} > {limit:.4g}")


def require_features(features: torch.Tensor, n_features: int, dims: int | None = None,
                     dtype: torch.dtype | None = None) -> None:
    """Finite float features (..., n_features); with dims, exactly that many dimensions; with
    dtype, that dtype (a model's)."""
    require_tensor("features", features)
    if features.dim() < 1 or features.shape[-1] != n_features or (dims and features.dim() != dims):
        want = "(prompts, answers, " if dims == 3 else "(..., "
        raise ValueError(f"features: expected shape {want}{n_features}), "
                         f"got {tuple(features.shape)}")
    if dtype is not None and features.dtype != dtype:
        raise ValueError(f"features: expected the model's dtype {dtype}, got {features.dtype} "
                         f"(convert with features.to({dtype}))")
    require_finite("features", features)


def require_device_name(name: str) -> None:
    """ValueError unless the RLHF_DEVICE setting is one of DEVICES and is available."""
    if name not in DEVICES:
        raise ValueError(f"RLHF_DEVICE: expected one of {DEVICES}, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("RLHF_DEVICE: 'cuda' was asked for but torch sees no CUDA device")


# --------------------------------------------------------------------------- numeric


def require_finite_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                              eps: float) -> None:
    """f callable; x a finite float64 tensor; eps > 0, large enough to move every entry of x;
    f(x) one finite number (f is called once here).

    Central differences in float32 lose about half their digits (~5 % off at eps = 1e-6), and
    integers cannot move by eps: x must be float64.
    """
    if not callable(f):
        raise ValueError(f"f: expected a function of x returning a scalar, got {_got(f)}")
    require_tensor("x", x, (torch.float64,))
    require_finite("x", x)
    require_positive("eps", eps)
    step = _real(eps)
    if ((x + step) == x).any() or ((x - step) == x).any():
        raise ValueError(f"eps: expected a step that moves every entry of x, got {eps!r} "
                         f"(too small next to max|x| = {float(x.detach().abs().max()):.3g})")
    value = f(x.detach().clone())
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.reshape(())
    if _real(value) is None:
        raise ValueError(f"f: expected f(x) to be one real number, got {_got(value)}")
    if not _is_number(value):
        raise ValueError(f"f: expected a finite f(x), got {_real(value)}")


# --------------------------------------------------------------------------- bradley_terry


def require_reward_pair(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> None:
    """Rewards of the chosen and rejected answers: float, non-empty, same shape, finite."""
    require_floats(r_chosen=r_chosen, r_rejected=r_rejected)
    require_same_shape("r_chosen, r_rejected", r_chosen, r_rejected)
    require_finite("r_chosen", r_chosen)
    require_finite("r_rejected", r_rejected)


def require_centred_bt(r_chosen: torch.Tensor, r_rejected: torch.Tensor,
                       center_weight: float) -> None:
    """A reward pair (as above) and a centring weight >= 0."""
    require_reward_pair(r_chosen, r_rejected)
    require_nonnegative("center_weight", center_weight)


def require_model_sizes(seed: int, **sizes: tuple[object, int]) -> None:
    """Each `name=(value, minimum)` an integer >= minimum, and a seed in [0, 2**32)."""
    require_ints(**sizes)
    require_seed(seed)


def require_comparisons(true_reward: torch.Tensor, n_pairs: int, gen: torch.Generator) -> None:
    """A finite (answers >= 2,) reward vector, a number of pairs >= 1, a CPU generator."""
    require_vector("true_reward", true_reward, min_len=2)
    require_finite("true_reward", true_reward)
    require_ints(n_pairs=(n_pairs, 1))
    require_generator(gen)


def require_reward_fit(model: nn.Module, features: torch.Tensor, chosen: torch.Tensor,
                       rejected: torch.Tensor, steps: int, lr: float, center_weight: float) -> None:
    """A trainable RewardModel or nn.ModuleList of them; finite features (answers, d) of each
    model's d and dtype; chosen, rejected (pairs,) answer ids in [0, answers); steps >= 1; lr > 0;
    center_weight >= 0."""
    from helpers.bradley_terry import RewardModel  # here, not at the top: bradley_terry imports checks

    require_trainable(model)
    models = model if isinstance(model, nn.ModuleList) else [model]
    if not all(isinstance(m, RewardModel) for m in models):
        raise ValueError(f"model: expected a RewardModel or an nn.ModuleList of them, got {_got(model)}")
    require_tensor("features", features)
    if features.dim() != 2:
        raise ValueError(f"features: expected shape (answers, d), got {tuple(features.shape)}")
    for m in models:  # each model's d and dtype, checked once: the fit's steps skip forward's check
        require_features(features, m.inner.in_features, dtype=m.inner.weight.dtype)
    require_ids(chosen=chosen, rejected=rejected)
    require_same_shape("chosen, rejected", chosen, rejected)
    n = features.shape[0]
    for name, idx in (("chosen", chosen), ("rejected", rejected)):
        if idx.dim() != 1 or idx.min() < 0 or idx.max() >= n:
            raise ValueError(f"{name}: expected (pairs,) answer ids in [0, {n}), got shape "
                             f"{tuple(idx.shape)}, range [{int(idx.min())}, {int(idx.max())}]")
    require_ints(steps=(steps, 1))
    require_positive("lr", lr)
    require_nonnegative("center_weight", center_weight)


def require_fit_finite(lr: float, history: torch.Tensor, rewards: torch.Tensor) -> None:
    """After a fit: its losses (steps, ...) and last rewards finite, else the step size was too big."""
    if not (torch.isfinite(history).all() and torch.isfinite(rewards).all()):
        raise ValueError(f"lr: the fit diverged to NaN or inf at lr={lr!r}; try a smaller lr")


# --------------------------------------------------------------------------- kl


def require_sampled_logps(policy_logps: torch.Tensor, ref_logps: torch.Tensor,
                          ratio: bool = False) -> None:
    """Log-probs at samples y ∼ π: float, non-empty, same shape, ≤ 0 (1e-9 slack), π(y) > 0.

    ratio: ρ = π_SFT(y)/π(y) is exponentiated (k3), so log ρ must not overflow.
    """
    require_floats(policy_logps=policy_logps, ref_logps=ref_logps)
    require_same_shape("policy_logps, ref_logps", policy_logps, ref_logps)
    both = torch.stack([policy_logps.detach(), ref_logps.detach()])
    valid = bool((both <= 1e-9).all()) and bool(torch.isfinite(both[0]).all())  # one pass (NaN fails)
    if not valid:  # which property fails, and how
        require_logprobs("policy_logps", policy_logps, atol=1e-9)
        require_logprobs("ref_logps", ref_logps, atol=1e-9)
        require_finite("policy_logps", policy_logps)  # y was drawn from π, so π(y) > 0
    if ratio:
        require_exp_fits("ref_logps, policy_logps", ref_logps - policy_logps)


def require_mc_samples(samples: torch.Tensor, z: float) -> None:
    """(n >= 2,) finite float Monte-Carlo samples and a z-score > 0."""
    require_vector("samples", samples, min_len=2)
    require_finite("samples", samples)
    require_positive("z", z)


def require_table_values(policy_logprobs: torch.Tensor, values: torch.Tensor) -> None:
    """A log-prob table and a float value table of its shape, finite wherever π has mass."""
    require_logprob_table("policy_logprobs", policy_logprobs)
    require_tensor("values", values)
    require_same_shape("policy_logprobs, values", policy_logprobs, values)
    require_finite("values", values[policy_logprobs > -math.inf])


# --------------------------------------------------------------------------- data


def require_table_draws(logprobs: torch.Tensor, n: int, gen: torch.Generator) -> None:
    """A (rows, k) log-prob table to draw from, n >= 1 draws a row, a CPU generator."""
    require_logprob_table("logprobs", logprobs)
    require_ints(n=(n, 1))
    require_generator(gen)


def require_logit_draws(logits: torch.Tensor, shape: tuple[int, ...], gen: torch.Generator) -> None:
    """Finite float logits of shape (K,), a non-empty tuple of positive sizes, a CPU generator."""
    require_vector("logits", logits)
    require_finite("logits", logits)
    if not (isinstance(shape, (tuple, list)) and shape
            and all((_integer(n) or 0) >= 1 for n in shape)):
        raise ValueError(f"shape: expected a tuple of positive integer sizes, got {shape!r}")
    require_generator(gen)


def _is_token_list(seq: object) -> bool:
    return (isinstance(seq, (list, tuple)) and len(seq) > 0
            and all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= 0
                    for t in seq))


def require_token_lists(prompts: list[list[int]], answers: list[list[int]], pad_id: int) -> None:
    """Two non-empty lists of the same length of non-empty lists of int token ids >= 0; pad_id >= 0.

    Tensors are refused, not read: `p + a` adds two tensors where it joins two lists.
    """
    for name, seqs in (("prompts", prompts), ("answers", answers)):
        if not isinstance(seqs, (list, tuple)):
            raise ValueError(f"{name}: expected a list of token-id lists, got {_got(seqs)}")
    if len(prompts) != len(answers) or not prompts:
        raise ValueError(f"prompts, answers: expected two non-empty lists of the same length, "
                         f"got {len(prompts)} and {len(answers)}")
    require_ints(pad_id=(pad_id, 0))
    for name, seqs in (("prompts", prompts), ("answers", answers)):
        for i, seq in enumerate(seqs):
            if not _is_token_list(seq):
                hint = " (use .tolist())" if isinstance(seq, (torch.Tensor, np.ndarray)) else ""
                raise ValueError(f"{name}: expected non-empty lists of int token ids >= 0, "
                                 f"entry {i} is {_got(seq)}{hint}")


def _is_length_range(value: object, strict: bool) -> bool:
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return False
    lo, hi = (_integer(v) for v in value)
    return lo is not None and hi is not None and 1 <= lo and (lo < hi if strict else lo <= hi)


def require_random_pairs(gen: torch.Generator, n_pairs: int, vocab_size: int,
                         prompt_len: tuple[int, int], answer_len: tuple[int, int]) -> None:
    """A CPU generator, n_pairs >= 1, vocab_size >= 2, prompt lengths (lo, hi) with
    1 <= lo <= hi, answer lengths (lo, hi) with 1 <= lo < hi."""
    require_generator(gen)
    require_ints(n_pairs=(n_pairs, 1), vocab_size=(vocab_size, 2))
    if not _is_length_range(answer_len, strict=True):
        raise ValueError(f"answer_len: expected (lo, hi) with 1 <= lo < hi, got {answer_len!r}")
    if not _is_length_range(prompt_len, strict=False):
        raise ValueError(f"prompt_len: expected (lo, hi) with 1 <= lo <= hi, got {prompt_len!r}")


# --------------------------------------------------------------------------- policy_gradient


def require_policy(logits: torch.Tensor, returns: torch.Tensor) -> None:
    """Finite float logits (K >= 2,) of a softmax policy and one finite return per answer."""
    require_vector("logits", logits, min_len=2)
    require_tensor("returns", returns)
    if returns.shape != logits.shape:
        raise ValueError(f"returns: expected shape {tuple(logits.shape)} (one return per "
                         f"answer), got {tuple(returns.shape)}")
    require_finite("logits", logits)
    require_finite("returns", returns)


def require_answer_ids(logits: torch.Tensor, samples: torch.Tensor) -> None:
    """Finite float logits (K,) and an int64 tensor (..., N) of answer ids in [0, K)."""
    require_vector("logits", logits)
    require_finite("logits", logits)
    require_ids(samples=samples)
    k = logits.numel()
    if samples.dim() < 1 or samples.min() < 0 or samples.max() >= k:
        raise ValueError(f"samples: expected answer ids (..., N) in [0, {k}), got shape "
                         f"{tuple(samples.shape)}, range [{int(samples.min())}, "
                         f"{int(samples.max())}]")


def require_baseline(baseline: float | torch.Tensor, shape: tuple[int, ...] | None = None) -> None:
    """A finite real number b (of any kind); with `shape`, or a finite float tensor that
    broadcasts to that shape (one baseline a sample)."""
    if _real(baseline) is not None:
        if not _is_number(baseline):
            raise ValueError(f"baseline: expected a finite number, got {baseline!r}")
        return
    if shape is None or not isinstance(baseline, torch.Tensor):
        want = "a finite real number" if shape is None else \
            f"a finite number or a float tensor broadcasting to the samples' shape {shape}"
        raise ValueError(f"baseline: expected {want}, got {_got(baseline)}")
    require_tensor("baseline", baseline)
    try:
        fits = torch.broadcast_shapes(baseline.shape, shape) == shape
    except RuntimeError:
        fits = False
    if not fits:
        raise ValueError(f"baseline: expected a shape that broadcasts to the samples' shape "
                         f"{shape}, got {tuple(baseline.shape)}")
    require_finite("baseline", baseline)


def require_policy_samples(logits: torch.Tensor, samples: torch.Tensor, returns: torch.Tensor,
                           baseline: float | torch.Tensor = 0.0) -> None:
    """A policy with its returns (require_policy), answer ids drawn from it, a baseline (a
    number, or a tensor broadcasting to the samples' shape)."""
    require_policy(logits, returns)
    require_answer_ids(logits, samples)
    require_baseline(baseline, tuple(samples.shape))


def require_policy_baseline(logits: torch.Tensor, returns: torch.Tensor,
                            baseline: float | torch.Tensor) -> None:
    """A policy with its returns (require_policy) and a constant baseline, a finite number."""
    require_policy(logits, returns)
    require_baseline(baseline)


# --------------------------------------------------------------------------- optimum


def require_reference_rewards(ref_logprobs: torch.Tensor, rewards: torch.Tensor) -> None:
    """A (prompts, answers) reference log-prob table and finite float rewards of its shape."""
    require_logprob_table("ref_logprobs", ref_logprobs)
    require_tensor("rewards", rewards)
    require_same_shape("ref_logprobs, rewards", ref_logprobs, rewards)
    require_finite("rewards", rewards)


def require_optimum(ref_logprobs: torch.Tensor, rewards: torch.Tensor, beta: float) -> None:
    """β > 0 and the reference and rewards of require_reference_rewards."""
    require_positive("beta", beta)
    require_reference_rewards(ref_logprobs, rewards)


def require_prompt_probs(prompt_probs: torch.Tensor | None, n_prompts: int) -> None:
    """None (uniform), or a float (prompts,) vector of probabilities summing to 1."""
    if prompt_probs is None:
        return
    require_tensor("prompt_probs", prompt_probs)
    if tuple(prompt_probs.shape) != (n_prompts,):
        raise ValueError(f"prompt_probs: expected shape ({n_prompts},), "
                         f"got {tuple(prompt_probs.shape)}")
    require_finite("prompt_probs", prompt_probs)
    total, least = float(prompt_probs.detach().sum()), float(prompt_probs.detach().min())
    if least < 0 or abs(total - 1) > 1e-6:
        raise ValueError(f"prompt_probs: expected non-negative values summing to 1, got sum "
                         f"{total:.6g}, min {least:.3g}")


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
                beta: float, label_smoothing: float = 0.0, ipo: bool = False,
                reference_free: bool = False) -> None:
    """Four (batch,) log-prob vectors, β >= 0 (> 0 for IPO), label_smoothing in [0, 0.5), the flags bools."""
    require_pair_logps(policy_chosen_logps=policy_chosen_logps,
                       policy_rejected_logps=policy_rejected_logps,
                       reference_chosen_logps=reference_chosen_logps,
                       reference_rejected_logps=reference_rejected_logps)
    require_nonnegative("beta", beta)
    require_flags(ipo=ipo, reference_free=reference_free)
    if ipo and _real(beta) == 0:
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
    """β > 0 and two (prompts, answers) log-prob tables of one shape, never both 0 at one answer
    (log(0/0) has no value)."""
    require_positive("beta", beta)
    require_logprob_tables(policy_logprobs=policy_logprobs, ref_logprobs=ref_logprobs)
    both = (policy_logprobs == -math.inf) & (ref_logprobs == -math.inf)
    if both.any():
        raise ValueError(f"policy_logprobs, ref_logprobs: log(π/π_ref) = log(0/0) has no value; "
                         f"both are -inf at {torch.nonzero(both)[:4].tolist()}")


def require_closed_form(weights: torch.Tensor, chosen_grads: torch.Tensor,
                        rejected_grads: torch.Tensor, beta: float) -> None:
    """Finite float weights (batch,), per-sequence gradients (batch, P) of one shape, β >= 0."""
    require_floats(weights=weights, chosen_grads=chosen_grads, rejected_grads=rejected_grads)
    require_same_shape("chosen_grads, rejected_grads", chosen_grads, rejected_grads)
    if weights.dim() != 1 or chosen_grads.dim() != 2 or chosen_grads.shape[0] != weights.shape[0]:
        raise ValueError(f"weights, chosen_grads: expected shapes (batch,) and (batch, P), "
                         f"got {tuple(weights.shape)} and {tuple(chosen_grads.shape)}")
    for name, x in (("weights", weights), ("chosen_grads", chosen_grads),
                    ("rejected_grads", rejected_grads)):
        require_finite(name, x)
    require_nonnegative("beta", beta)


def require_pair_batch(tokens: torch.Tensor, labels: torch.Tensor, average: bool = False) -> None:
    """tokens, labels int64 (2N, seq >= 2), N >= 1: N chosen rows, then N rejected rows; average a bool."""
    require_ids(tokens=tokens, labels=labels)
    require_same_shape("tokens, labels", tokens, labels)
    if tokens.dim() != 2 or tokens.shape[0] % 2 or tokens.shape[1] < 2:
        raise ValueError(f"tokens: expected (2N, seq >= 2), N chosen rows then N rejected rows, "
                         f"got shape {tuple(tokens.shape)}")
    require_flags(average=average)


def require_pair_model(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                       average: bool) -> None:
    """A model and a batch of pairs (require_pair_batch)."""
    require_module("model", model)
    require_pair_batch(tokens, labels, average)


def require_dpo_batch(policy: nn.Module, reference: nn.Module, tokens: torch.Tensor,
                      labels: torch.Tensor, average: bool) -> None:
    """Two models over one vocabulary and a batch of pairs (require_pair_batch). β is checked by
    dpo_loss."""
    require_module("policy", policy)
    require_module("reference", reference)
    vocabs = getattr(policy, "vocab_size", None), getattr(reference, "vocab_size", None)
    if None not in vocabs and vocabs[0] != vocabs[1]:
        raise ValueError(f"policy, reference: expected one vocabulary, got vocab_size "
                         f"{vocabs[0]} and {vocabs[1]}")
    require_pair_batch(tokens, labels, average)


# --------------------------------------------------------------------------- tabular_dpo


def require_all_pairs(n_answers: int, device: torch.device | str | None) -> None:
    """n_answers >= 2 and a device (None, a torch.device or its name)."""
    require_ints(n_answers=(n_answers, 2))
    if device is None:
        return
    try:
        kind = torch.device(device).type if isinstance(device, (str, torch.device)) else None
    except RuntimeError:
        kind = None
    if kind not in ("cpu", "cuda") or (kind == "cuda" and not torch.cuda.is_available()):
        raise ValueError(f"device: expected None, 'cpu', or 'cuda' where torch sees CUDA "
                         f"(a name or a torch.device), got {_got(device)}")


def require_preference_tables(policy_logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                              rewards: torch.Tensor) -> None:
    """Finite rewards (prompts, answers >= 2); finite policy and reference log-prob tables that
    sum to 1, of the same shape. β, label_smoothing and ipo are checked by dpo_loss."""
    require_table("rewards", rewards)
    require_logprob_tables(policy_logprobs=policy_logprobs, ref_logprobs=ref_logprobs)
    require_same_shape("policy_logprobs, ref_logprobs, rewards",
                       policy_logprobs, ref_logprobs, rewards)
    require_finite("policy_logprobs", policy_logprobs)
    require_finite("ref_logprobs", ref_logprobs)


def require_reward_tables(model_rewards: torch.Tensor, rewards: torch.Tensor) -> None:
    """Two finite float (prompts, answers >= 2) reward tables of the same shape."""
    require_table("model_rewards", model_rewards)
    require_table("rewards", rewards)
    require_same_shape("model_rewards, rewards", model_rewards, rewards)


def require_tabular_fit(ref_logprobs: torch.Tensor, rewards: torch.Tensor, steps: int) -> None:
    """A finite reference log-prob table, finite rewards of its shape, answers >= 2, steps >= 1.

    β, label_smoothing and ipo are checked by dpo_loss, which gets them.
    """
    require_reference_rewards(ref_logprobs, rewards)
    require_finite("ref_logprobs", ref_logprobs)
    require_table("rewards", rewards)
    require_ints(steps=(steps, 1))


# --------------------------------------------------------------------------- models


def require_tabular_policy(n_prompts: int, n_answers: int, logits: torch.Tensor | None) -> None:
    """n_prompts >= 1, n_answers >= 2, and logits (if given) finite float (n_prompts, n_answers)."""
    require_ints(n_prompts=(n_prompts, 1), n_answers=(n_answers, 2))
    if logits is None:
        return
    require_tensor("logits", logits)
    if tuple(logits.shape) != (_integer(n_prompts), _integer(n_answers)):
        raise ValueError(f"logits: expected shape {(n_prompts, n_answers)}, "
                         f"got {tuple(logits.shape)}")
    require_finite("logits", logits)


def require_lm(vocab_size: int, hidden: int, seed: int, dtype: torch.dtype) -> None:
    """vocab_size >= 2, hidden >= 1, a seed in [0, 2**32), dtype float32 or float64."""
    require_model_sizes(seed, vocab_size=(vocab_size, 2), hidden=(hidden, 1))
    if dtype not in FLOATS:
        raise ValueError(f"dtype: expected torch.float32 or torch.float64, got {_got(dtype)}")


def require_tokens(tokens: torch.Tensor, vocab_size: int) -> None:
    """tokens int64 (batch >= 1, seq >= 1) with ids in [0, vocab_size)."""
    require_ids(tokens=tokens)
    if tokens.dim() != 2:
        raise ValueError(f"tokens: expected shape (batch, seq), got {tuple(tokens.shape)}")
    if tokens.min() < 0 or tokens.max() >= vocab_size:
        raise ValueError(f"tokens: expected ids in [0, {vocab_size}), "
                         f"got range [{int(tokens.min())}, {int(tokens.max())}]")


def require_logits_labels(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int,
                          every_row_scored: bool = False) -> None:
    """Finite float logits (batch, seq >= 2, vocab), int64 labels (batch, seq) with ids in
    [0, vocab) or ignore_index.

    every_row_scored: each row must score at least one token (a label != ignore_index after
    the shift).
    """
    require_floats(logits=logits)
    require_ids(labels=labels)
    if logits.dim() != 3 or labels.dim() != 2 or logits.shape[:2] != labels.shape \
            or labels.shape[1] < 2:
        raise ValueError(f"logits, labels: expected shapes (batch, seq >= 2, vocab) and "
                         f"(batch, seq), got {tuple(logits.shape)} and {tuple(labels.shape)}")
    require_finite("logits", logits)
    scored = labels[labels != ignore_index]
    if scored.numel() and (scored.min() < 0 or scored.max() >= logits.shape[-1]):
        raise ValueError(f"labels: expected token ids in [0, {logits.shape[-1]}) or {ignore_index}, "
                         f"got range [{int(scored.min())}, {int(scored.max())}]")
    counts = (labels[:, 1:] != ignore_index).sum(-1)
    if every_row_scored and (counts == 0).any():
        rows = torch.nonzero(counts == 0).flatten().tolist()
        raise ValueError(f"labels: every sequence needs at least one scored token "
                         f"(label != {ignore_index} after the shift), rows {rows} have none")


def require_sequence_logps(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int,
                           average: bool) -> None:
    """Logits and labels (require_logits_labels) scoring a token in every row; average a bool."""
    require_logits_labels(logits, labels, ignore_index, every_row_scored=True)
    require_flags(average=average)


def require_trainable(model: nn.Module) -> None:
    """A torch.nn.Module with at least one parameter that requires gradients."""
    require_module("model", model)
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("model: expected at least one parameter with requires_grad=True")


def require_sequence_grads(model: nn.Module, tokens: torch.Tensor, labels: torch.Tensor,
                           average: bool) -> None:
    """A trainable model, int64 tokens and labels (batch, seq >= 2) of one shape, a bool
    `average` (ids are checked by the model, labels also by sequence_logprobs)."""
    require_trainable(model)
    require_ids(tokens=tokens, labels=labels)
    require_same_shape("tokens, labels", tokens, labels)
    if tokens.dim() != 2 or tokens.shape[1] < 2:
        raise ValueError(f"tokens: expected shape (batch, seq >= 2), got {tuple(tokens.shape)}")
    require_flags(average=average)


def require_grads(grads: Sequence[torch.Tensor | None]) -> None:
    """A non-empty sequence of gradient tensors (no None: pass allow_unused=False)."""
    if not isinstance(grads, (list, tuple)) or len(grads) == 0 \
            or not all(isinstance(g, torch.Tensor) for g in grads):
        shown = [tuple(g.shape) if isinstance(g, torch.Tensor) else g for g in grads] \
            if isinstance(grads, (list, tuple)) else _got(grads)
        raise ValueError(f"grads: expected a non-empty sequence of tensors, got {shown}")


# --------------------------------------------------------------------------- toyworld


def require_world(n_prompts: int, n_answers: int, gen: torch.Generator) -> None:
    """n_prompts >= 1; n_answers a multiple of 3, >= 6; a CPU generator."""
    require_ints(n_prompts=(n_prompts, 1))
    answers = _integer(n_answers)
    if answers is None or answers < 6 or answers % 3:
        raise ValueError(f"n_answers: expected a multiple of 3, >= 6, got {n_answers!r}")
    require_generator(gen)


def require_toy_world(world: object) -> None:
    """A ToyWorld whose features are (prompts, answers, 2) and whose tables are (prompts, answers)."""
    fields = ("features", "true_reward", "ref_logprobs", "labelled")
    if not all(isinstance(getattr(world, f, None), torch.Tensor) for f in fields):
        raise ValueError(f"world: expected a ToyWorld (helpers.toyworld.make_world), "
                         f"got {_got(world)}")
    if world.features.dtype != torch.float64:
        raise ValueError(f"world: expected float64 features (as make_world draws them), got "
                         f"{world.features.dtype}")
    shape = tuple(world.true_reward.shape)
    if world.features.shape != (*shape, 2) or len(shape) != 2 \
            or world.labelled.shape != shape or world.labelled.dtype != torch.bool:
        raise ValueError(f"world: expected features (prompts, answers, 2) and a bool labelled "
                         f"table (prompts, answers), got {tuple(world.features.shape)} and "
                         f"{world.labelled.dtype} {tuple(world.labelled.shape)}")


def require_world_comparisons(world: object, pairs_per_prompt: int, gen: torch.Generator) -> None:
    """A ToyWorld with finite rewards and >= 2 labelled answers a prompt, pairs_per_prompt >= 1,
    a CPU generator."""
    require_toy_world(world)
    require_finite("world", world.true_reward)
    few = world.labelled.sum(-1) < 2
    if few.any():
        raise ValueError(f"world: every prompt needs >= 2 labelled answers to compare, prompts "
                         f"{torch.nonzero(few).flatten().tolist()} have fewer")
    require_ints(pairs_per_prompt=(pairs_per_prompt, 1))
    require_generator(gen)


def require_sampling(model: nn.Module, n: int, length: int, gen: torch.Generator) -> None:
    """A model, n >= 1 sequences of length >= 2, a CPU generator."""
    require_module("model", model)
    require_ints(n=(n, 1), length=(length, 2))
    require_generator(gen)


# --------------------------------------------------------------------------- ppo


def _require_same_finite(**tensors: torch.Tensor) -> None:
    """The named tensors share one shape, are non-empty and hold finite values."""
    for name, x in tensors.items():
        require_tensor(name, x, (*FLOATS, torch.bool))
    require_same_shape(", ".join(tensors), *tensors.values())
    for name, x in tensors.items():
        require_finite(name, x)


def require_ppo_clip(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                     clip_eps: float) -> None:
    """Finite float log-probs (≤ 0) and advantages of one shape, ρ = exp(logps − old_logps)
    within the dtype's range, clip_eps > 0."""
    require_floats(logps=logps, old_logps=old_logps, advantages=advantages)
    _require_same_finite(logps=logps, old_logps=old_logps, advantages=advantages)
    require_logprobs("logps", logps)
    require_logprobs("old_logps", old_logps)
    log_rho = (logps - old_logps).detach()
    require_exp_fits("logps, old_logps", log_rho + advantages.detach().abs().clamp(min=1).log())
    require_positive("clip_eps", clip_eps)


def require_groups(rewards: torch.Tensor, group_size: int, scale: bool, eps: float) -> None:
    """Finite float rewards (batch,) in groups of group_size (>= 2 to scale); scale a bool; eps > 0."""
    require_vector("rewards", rewards)
    require_finite("rewards", rewards)
    require_ints(group_size=(group_size, 1))
    require_flags(scale=scale)
    if rewards.numel() % _integer(group_size):
        raise ValueError(f"group_size: expected a divisor of the batch size {rewards.numel()}, "
                         f"got {group_size}")
    if scale and _integer(group_size) < 2:
        raise ValueError(f"group_size: the group's standard deviation needs >= 2 answers, "
                         f"got {group_size}")
    require_positive("eps", eps)


def require_token_rewards(scores: torch.Tensor, logps: torch.Tensor, ref_logps: torch.Tensor,
                          mask: torch.Tensor, beta: float) -> None:
    """scores (batch,), log-probs (batch, T) ≤ 0, a bool mask (batch, T) scoring a token in
    every row, all finite; β >= 0."""
    require_floats(logps=logps, ref_logps=ref_logps, scores=scores)
    require_tensor("mask", mask, (torch.bool,))
    if logps.dim() != 2:
        raise ValueError(f"logps: expected shape (batch, T), got {tuple(logps.shape)}")
    _require_same_finite(logps=logps, ref_logps=ref_logps, mask=mask)
    if scores.shape != logps.shape[:1]:
        raise ValueError(f"scores: expected shape {tuple(logps.shape[:1])} (one score per row), "
                         f"got {tuple(scores.shape)}")
    require_finite("scores", scores)
    require_logprobs("logps", logps)
    require_logprobs("ref_logps", ref_logps)
    if not mask.any(-1).all():
        rows = torch.nonzero(~mask.any(-1)).flatten().tolist()
        raise ValueError(f"mask: every row needs at least one scored token, rows {rows} have none")
    require_nonnegative("beta", beta)


def require_returns(rewards: torch.Tensor, discount: float) -> None:
    """Finite float rewards (batch, T) and a discount in (0, 1]."""
    require_tensor("rewards", rewards)
    if rewards.dim() != 2:
        raise ValueError(f"rewards: expected shape (batch, T), got {tuple(rewards.shape)}")
    require_finite("rewards", rewards)
    if not (_is_number(discount) and 0 < _real(discount) <= 1):
        raise ValueError(f"discount: expected a number in (0, 1], got {discount!r}")


def require_objective_logits(logits: torch.Tensor, ref_logprobs: torch.Tensor,
                             rewards: torch.Tensor) -> None:
    """Finite float logits, reference log-probs and rewards, (prompts, answers) tables of one
    shape (a softmax policy has mass everywhere, so π_ref must too). β and prompt_probs are
    checked by kl_objective."""
    require_floats(logits=logits, ref_logprobs=ref_logprobs, rewards=rewards)
    if logits.dim() != 2:
        raise ValueError(f"logits: expected a (prompts, answers) table, got {tuple(logits.shape)}")
    _require_same_finite(logits=logits, ref_logprobs=ref_logprobs, rewards=rewards)


# --------------------------------------------------------------------------- dpo_theory


def require_first_order(chosen_grads: torch.Tensor, rejected_grads: torch.Tensor,
                        weights: torch.Tensor, beta: float, lr: float) -> None:
    """The closed-form gradient's inputs (require_closed_form) of one dtype (a matrix product
    needs one), and a step size lr > 0."""
    require_closed_form(weights, chosen_grads, rejected_grads, beta)
    if len({weights.dtype, chosen_grads.dtype, rejected_grads.dtype}) > 1:
        raise ValueError(f"chosen_grads, rejected_grads, weights: expected one dtype, got "
                         f"{chosen_grads.dtype}, {rejected_grads.dtype}, {weights.dtype}")
    require_positive("lr", lr)

"""Property-based tests of the public math helpers (Hypothesis): robust under bad input.

Each property draws a valid call of one helper — random shapes, float32 or float64, scalars of
every kind (Python, numpy, 0-dim torch), non-contiguous tensors, tensors that require grad,
extreme values — and, in about half the examples, corrupts one argument: a list, a numpy array,
None or a string where a tensor belongs, a wrong dtype, NaN or ±inf, an empty tensor, a wrong
shape, values scaled by 1e4, a bool or a NaN where a number belongs, a float where an integer
belongs. The call must then either return results of the documented shape and dtype — finite when
the input is finite, never NaN — or raise a ValueError whose message starts with the names of
its arguments (`name: expected ..., got ...`). Any other exception fails the property, and so
does a ValueError on a valid call.

The domain of "extreme": values up to ±1e6 (±1e10 after scaling), logits and log-probabilities
down to ±1e4, β in [1e-3, 1e3]; exp(log-ratio) is refused beyond the dtype's range.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import (
    bradley_terry,
    data,
    dpo,
    dpo_theory,
    kl,
    models,
    numeric,
    optimum,
    policy_gradient,
    ppo,
    tabular_dpo,
    toyworld,
)

F64, F32, I64 = torch.float64, torch.float32, torch.int64
BIG = 1e6     # largest |value| a valid draw holds
SHARP = 1e4   # largest |logit| and |log-prob|

# --------------------------------------------------------------------------- drawing values


def _floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def _generator(d) -> torch.Generator:
    return torch.Generator().manual_seed(d.draw(st.integers(0, 2**16), label="seed"))


def tensor(d, shape, lo=-BIG, hi=BIG, dtype=None) -> torch.Tensor:
    """A tensor of `shape` with values in [lo, hi], float64 or float32 unless `dtype` is given.

    Values are drawn with a seeded torch generator (a Hypothesis draw a value would make each
    example ~10 times slower): uniform over [lo, hi], uniform over a band a thousandth as wide,
    or each one of the extremes lo, hi, 0, ±1e-300 (clipped into [lo, hi]).
    """
    dtype = dtype or d.draw(st.sampled_from([F64, F32]), label="dtype")
    how = d.draw(st.sampled_from(["uniform", "narrow", "extremes"]))
    gen = _generator(d)
    u = torch.rand(shape, generator=gen, dtype=F64)
    if how == "extremes":
        special = torch.tensor([lo, hi, 0.0, 1e-300, -1e-300], dtype=F64).clamp(lo, hi)
        x = special[torch.randint(len(special), shape, generator=gen)]
    else:
        width = (hi - lo) * (1e-3 if how == "narrow" else 1.0)
        x = lo + width * u
    return x.to(dtype)


def bools(d, shape) -> torch.Tensor:
    return torch.rand(shape, generator=_generator(d)) < d.draw(st.sampled_from([0.0, 0.3, 0.7]))


def size(d, lo=1, hi=3) -> int:
    return d.draw(st.integers(lo, hi))


def logprob_table(d, rows, k, dtype=None, zeros=False) -> torch.Tensor:
    """log π of a (rows, k) table from logits in ±1e4; with zeros, some answers get π = 0 (−inf)."""
    logits = tensor(d, (rows, k), -SHARP, SHARP, F64)
    if zeros:
        drop = bools(d, (rows, k))
        drop &= logits < logits.max(-1, keepdim=True).values  # each row keeps its largest
        logits = logits.masked_fill(drop, -math.inf)
    return torch.log_softmax(logits, -1).to(dtype or d.draw(st.sampled_from([F64, F32])))


def logps(d, shape, lo=-SHARP, dtype=None) -> torch.Tensor:
    """Log-probabilities in [lo, 0]."""
    return tensor(d, shape, lo, 0.0, dtype)


def ids(d, shape, high) -> torch.Tensor:
    return torch.randint(high, shape, generator=_generator(d))


def real(d, value: float):
    """The number `value` as one of the kinds a user may pass."""
    kind = d.draw(st.sampled_from(["float", "np64", "np32", "t64", "t32"]))
    return {"float": float, "np64": np.float64, "np32": np.float32,
            "t64": lambda v: torch.tensor(v, dtype=F64),
            "t32": lambda v: torch.tensor(v, dtype=F32)}[kind](value)


def integer(d, value: int):
    """The integer `value` as one of the kinds a user may pass."""
    kind = d.draw(st.sampled_from(["int", "np64", "np32", "torch"] if value < 2**31 else ["int", "np64"]))
    return {"int": int, "np64": np.int64, "np32": np.int32, "torch": torch.tensor}[kind](value)


def beta(d, low=1e-3):
    return real(d, d.draw(_floats(low, 1e3)))


def vary(d, x: torch.Tensor) -> torch.Tensor:
    """The same values in another valid layout: non-contiguous, or requiring grad."""
    how = d.draw(st.sampled_from(["as is", "strided", "grad"]))
    if how == "strided":
        return torch.stack([x, x], -1)[..., 0]
    if how == "grad" and x.dtype.is_floating_point:
        return x.detach().clone().requires_grad_(True)
    return x


# --------------------------------------------------------------------------- corrupting one


TENSOR_CORRUPTIONS = ["list", "numpy", "number", "None", "string", "int64", "bool", "float16",
                      "bfloat16", "complex", "nan", "inf", "-inf", "empty", "unsqueeze", "flatten",
                      "scale"]
ID_CORRUPTIONS = ["list", "numpy", "None", "float64", "int32", "bool", "negative", "huge",
                  "empty", "unsqueeze"]
NUMBER_CORRUPTIONS = [math.nan, math.inf, -math.inf, -1.0, 0.0, True, False, None, "0.1",
                      [0.1], torch.tensor([0.1, 0.2]), torch.tensor(math.nan), np.float64(math.nan),
                      torch.tensor(True), 1 + 1j]
INT_CORRUPTIONS = [0, -1, 2.0, 2.5, True, None, "3", math.nan, np.float64(2.0),
                   torch.tensor(2.0), torch.tensor([2, 3])]
FLAG_CORRUPTIONS = ["yes", "", 1, 0, None, 0.0, torch.tensor([True, False])]
OTHER_CORRUPTIONS = [None, 0, "x", [1, 2], torch.zeros(2), lambda t: t]


def corrupt_tensor(d, x: torch.Tensor, how: str):
    if how == "list":
        return x.tolist()
    if how == "numpy":
        return x.detach().numpy()
    if how == "number":
        return 1.0
    if how in ("None", "string"):
        return None if how == "None" else "x"
    if how in ("int64", "bool", "float16", "bfloat16", "complex", "float64", "int32"):
        kind = {"int64": torch.int64, "bool": torch.bool, "float16": torch.float16,
                "bfloat16": torch.bfloat16, "complex": torch.complex64, "float64": F64,
                "int32": torch.int32}[how]
        return x.detach().to(kind)
    if how in ("nan", "inf", "-inf", "negative", "huge"):
        y = x.detach().clone()
        value = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "negative": -1,
                 "huge": 10**6}[how]
        i = d.draw(st.integers(0, max(y.numel() - 1, 0)))
        y.view(-1)[i] = value
        return y
    if how == "empty":
        return x[:0] if x.dim() else x.reshape(1)[:0]
    if how == "unsqueeze":
        return x.unsqueeze(0)
    if how == "flatten":
        return x.reshape(-1)
    if how == "scale":
        return x * 1e4
    raise AssertionError(how)


def corrupt(d, kwargs: dict, kinds: dict[str, str]) -> dict:
    """kwargs with one argument replaced by a bad value of its kind.

    A kind is a name below, a list of bad values, or a function (d, kwargs) → a bad value.
    """
    name = d.draw(st.sampled_from(sorted(kinds)), label="corrupted argument")
    kind, value = kinds[name], kwargs[name]
    if callable(kind):
        bad = kind(d, kwargs)
    elif isinstance(kind, list):
        bad = d.draw(st.sampled_from(kind))
    elif kind in ("tensor", "ids") and not isinstance(value, torch.Tensor):  # an optional None
        bad = d.draw(st.sampled_from(OTHER_CORRUPTIONS))
    elif kind == "tensor":
        bad = corrupt_tensor(d, value, d.draw(st.sampled_from(TENSOR_CORRUPTIONS)))
    elif kind == "ids":
        bad = corrupt_tensor(d, value, d.draw(st.sampled_from(ID_CORRUPTIONS)))
    elif kind == "number":
        bad = d.draw(st.sampled_from(NUMBER_CORRUPTIONS))
    elif kind == "int":
        bad = d.draw(st.sampled_from(INT_CORRUPTIONS))
    elif kind == "flag":
        bad = d.draw(st.sampled_from(FLAG_CORRUPTIONS))
    else:
        bad = d.draw(st.sampled_from(OTHER_CORRUPTIONS))
    return {**kwargs, name: bad}


# --------------------------------------------------------------------------- the property


@dataclass(frozen=True)
class Spec:
    """One helper: how to draw a valid call, which arguments to corrupt, what must come back.

    expect(kwargs) → the expected (shape, dtype) of each tensor or number returned, in order
    (dtype None: not checked), or None to check only finiteness.
    """

    fn: Callable
    draw: Callable
    kinds: dict[str, str]
    expect: Callable[[dict], list | None]
    group: str

    @property
    def name(self) -> str:
        return getattr(self.fn, "__qualname__", str(self.fn))


def _leaves(out) -> list:
    """Tensors and numbers in what a helper returned (a module: its parameters and buffers)."""
    if isinstance(out, (torch.Tensor, float, int, np.ndarray)) and not isinstance(out, bool):
        return [out]
    if isinstance(out, torch.nn.Module):
        return list(out.parameters())
    if isinstance(out, toyworld.ToyWorld):
        return [out.features, out.true_reward, out.ref_logprobs, out.labelled]
    if isinstance(out, (tuple, list)):
        return [leaf for item in out for leaf in _leaves(item)]
    if out is None or isinstance(out, torch.Generator):
        return []
    raise AssertionError(f"unexpected result type {type(out)}")


def _as_tensor(leaf) -> torch.Tensor:
    if isinstance(leaf, torch.Tensor):
        return leaf.detach()
    return torch.as_tensor(np.asarray(leaf))


def _finite_input(kwargs: dict) -> bool:
    for value in kwargs.values():
        items = value if isinstance(value, (list, tuple)) else [value]
        for v in items:
            try:
                t = torch.as_tensor(v.detach() if isinstance(v, torch.Tensor) else v)
            except (TypeError, ValueError, RuntimeError):
                continue
            if (t.is_floating_point() or t.is_complex()) and not torch.isfinite(t).all():
                return False
    return True


def _parameters(fn) -> set[str]:
    target = fn.__init__ if inspect.isclass(fn) else fn
    return set(inspect.signature(target).parameters) - {"self"}


def run(spec: Spec, d) -> None:
    kwargs = spec.draw(d)
    valid = d.draw(st.booleans(), label="valid")
    if not valid:
        kwargs = corrupt(d, kwargs, spec.kinds)
    try:
        out = spec.fn(**kwargs)
    except ValueError as e:
        named = str(e).split(":")[0].split(", ")
        assert set(named) <= _parameters(spec.fn), \
            f"{spec.name}: the ValueError names no argument of the function: {e}"
        assert not valid, f"{spec.name} refused a valid call: {e}"
        return
    leaves = [_as_tensor(leaf) for leaf in _leaves(out)]
    for leaf in leaves:
        if leaf.is_floating_point():
            assert not leaf.isnan().any(), f"{spec.name} returned NaN"
            if _finite_input(kwargs):
                assert leaf.isfinite().all(), f"{spec.name} returned ±inf from finite input"
    expected = spec.expect(kwargs)
    if expected is None:
        return
    got = [(tuple(leaf.shape), leaf.dtype) for leaf in leaves]
    assert len(got) == len(expected), f"{spec.name}: {len(got)} results, expected {len(expected)}"
    for (shape, dtype), (want_shape, want_dtype) in zip(got, expected):
        assert shape == tuple(want_shape), f"{spec.name}: shape {shape}, expected {want_shape}"
        assert want_dtype is None or dtype == want_dtype or dtype == F64 and _f64_scalar(kwargs), \
            f"{spec.name}: dtype {dtype}, expected {want_dtype}"


def _f64_scalar(kwargs: dict) -> bool:
    """Whether a number came as a float64 0-dim tensor (torch then promotes a float32 result)."""
    return any(isinstance(v, torch.Tensor) and v.dim() == 0 and v.dtype == F64
               for v in kwargs.values())


def fdt(kwargs: dict, *names: str) -> torch.dtype:
    """The float dtype torch promotes the named float tensors to (float64 if none is one)."""
    dtypes = [kwargs[n].dtype for n in names
              if isinstance(kwargs[n], torch.Tensor) and kwargs[n].dtype in (F32, F64)]
    return F64 if not dtypes or F64 in dtypes else F32


def shape(kwargs: dict, name: str) -> tuple:
    return tuple(kwargs[name].shape)


SPECS: list[Spec] = []


def spec(fn: Callable, kinds: dict[str, str], expect: Callable[[dict], list | None],
         group: str | None = None):
    """Register the decorated draw function as the valid call of fn, in the group of its module."""
    def register(draw: Callable) -> Callable:
        name = group or fn.__module__.removeprefix("helpers.").replace("dpo_theory", "dpo")
        SPECS.append(Spec(fn, draw, kinds, expect, name))
        return draw
    return register


def _keep_global_state(fn: Callable) -> Callable:
    """fn, with python's, numpy's and torch's global RNG states and torch's threads restored."""
    def wrapped(**kwargs):
        states = random.getstate(), np.random.get_state(), torch.get_rng_state()
        threads = torch.get_num_threads()
        try:
            return fn(**kwargs)
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
            torch.set_num_threads(threads)
    wrapped.__signature__ = inspect.signature(fn)
    wrapped.__qualname__ = fn.__qualname__
    wrapped.__module__ = fn.__module__
    return wrapped


# --------------------------------------------------------------------------- fixed models

LM = models.TinyCausalLM(5, 2, seed=0)
LM_REF = models.TinyCausalLM(5, 2, seed=1).requires_grad_(False)
LM_OTHER_VOCAB = models.TinyCausalLM(6, 2, seed=1).requires_grad_(False)
RM = bradley_terry.RewardModel(2, hidden=2, seed=0)
WORLD = toyworld.make_world(2, 6, numeric.generator(0))
WORLD_PAIRS = toyworld.comparisons(WORLD, 2, numeric.generator(1))
MODEL_CORRUPTIONS = {"model": "other"}


def reward_model_forward(features: torch.Tensor) -> torch.Tensor:
    """RewardModel.forward, called the way a notebook calls it."""
    return RM(features)


def lm_forward(tokens: torch.Tensor) -> torch.Tensor:
    """TinyCausalLM.forward, called the way a notebook calls it."""
    return LM(tokens)


def token_batch(d, vocab=5, pairs=False):
    """tokens, labels (batch, seq) as batch_sequences makes them (2N rows with pairs)."""
    n = size(d, 1, 2)
    rows = 2 * n if pairs else n
    prompts = [d.draw(st.lists(st.integers(0, vocab - 1), min_size=1, max_size=2))
               for _ in range(rows)]
    answers = [d.draw(st.lists(st.integers(0, vocab - 1), min_size=1, max_size=3))
               for _ in range(rows)]
    return data.batch_sequences(prompts, answers)


# --------------------------------------------------------------------------- numeric


@spec(_keep_global_state(numeric.seed_everything), {"seed": "int"}, lambda kw: [])
def _(d):
    return {"seed": integer(d, d.draw(st.integers(0, 2**31 - 1)))}


@spec(numeric.generator, {"seed": "int"}, lambda kw: [])
def _(d):
    return {"seed": integer(d, d.draw(st.integers(0, 2**31 - 1)))}


@spec(_keep_global_state(numeric.set_threads), {"n": "int"}, lambda kw: [])
def _(d):
    return {"n": integer(d, d.draw(st.integers(1, 2)))}


@spec(numeric.to_numpy, {"x": "other"}, lambda kw: [(shape(kw, "x"), None)])
def _(d):
    return {"x": vary(d, tensor(d, (size(d, 0, 2), size(d))))}


@spec(numeric.finite_difference, {"f": "other", "x": "tensor", "eps": "number"},
      lambda kw: [(shape(kw, "x"), F64)])
def _(d):
    f = d.draw(st.sampled_from([lambda t: (t**2).sum(), lambda t: torch.sin(t).sum()]))
    x = vary(d, tensor(d, (size(d), size(d)), -1e3, 1e3, F64))
    return {"f": f, "x": x, "eps": real(d, d.draw(_floats(1e-6, 1e-2)))}


# --------------------------------------------------------------------------- bradley_terry


def _reward_pair(d):
    dims = tuple(size(d) for _ in range(size(d, 1, 2)))
    return {"r_chosen": vary(d, tensor(d, dims)), "r_rejected": vary(d, tensor(d, dims))}


PAIR = {"r_chosen": "tensor", "r_rejected": "tensor"}


@spec(bradley_terry.preference_prob, PAIR,
      lambda kw: [(shape(kw, "r_chosen"), fdt(kw, "r_chosen", "r_rejected"))])
def _(d):
    return _reward_pair(d)


@spec(bradley_terry.bradley_terry_loss, PAIR,
      lambda kw: [(shape(kw, "r_chosen"), fdt(kw, "r_chosen", "r_rejected"))])
def _(d):
    return _reward_pair(d)


@spec(bradley_terry.centred_bt_loss, {**PAIR, "center_weight": "number"},
      lambda kw: [((), fdt(kw, "r_chosen", "r_rejected"))])
def _(d):
    return {**_reward_pair(d), "center_weight": real(d, d.draw(_floats(0, 1e3)))}


@spec(bradley_terry.RewardModel, {"n_features": "int", "hidden": "int", "seed": "int"},
      lambda kw: None)
def _(d):
    return {"n_features": integer(d, size(d)), "hidden": integer(d, size(d)),
            "seed": integer(d, d.draw(st.integers(0, 2**32 - 1)))}


@spec(reward_model_forward, {"features": "tensor"}, lambda kw: [(shape(kw, "features")[:-1], F64)],
      group="bradley_terry")
def _(d):
    return {"features": vary(d, tensor(d, (size(d), 2), dtype=F64))}


@spec(bradley_terry.sample_comparisons, {"true_reward": "tensor", "n_pairs": "int", "gen": "other"},
      lambda kw: [((int(kw["n_pairs"]),), I64)] * 2)
def _(d):
    return {"true_reward": tensor(d, (size(d, 2, 4),)), "n_pairs": integer(d, size(d)),
            "gen": numeric.generator(0)}


@spec(bradley_terry.fit_reward_model,
      {"model": "other", "features": "tensor", "chosen": "ids", "rejected": "ids", "steps": "int",
       "lr": "number", "center_weight": "number"},
      lambda kw: [((), None)] * int(kw["steps"]))
def _(d):
    answers, pairs = size(d, 2, 4), size(d)
    return {"model": bradley_terry.RewardModel(2, hidden=2, seed=0),
            "features": tensor(d, (answers, 2), dtype=F64),
            "chosen": ids(d, (pairs,), answers), "rejected": ids(d, (pairs,), answers),
            "steps": integer(d, size(d)), "lr": real(d, d.draw(_floats(1e-3, 1.0))),
            "center_weight": real(d, d.draw(_floats(0, 10)))}


# --------------------------------------------------------------------------- kl


@spec(kl.categorical_kl, {"p_logprobs": "tensor", "q_logprobs": "tensor"},
      lambda kw: [(shape(kw, "p_logprobs")[:1], fdt(kw, "p_logprobs", "q_logprobs"))])
def _(d):
    rows, k = size(d), size(d)
    return {"p_logprobs": vary(d, logprob_table(d, rows, k, zeros=True)),
            "q_logprobs": vary(d, logprob_table(d, rows, k, zeros=True))}


@spec(kl.entropy, {"logprobs": "tensor"},
      lambda kw: [(shape(kw, "logprobs")[:1], fdt(kw, "logprobs"))])
def _(d):
    return {"logprobs": vary(d, logprob_table(d, size(d), size(d), zeros=True))}


SAMPLED = {"policy_logps": "tensor", "ref_logps": "tensor"}


def _sampled(d, gap=SHARP):
    """Log-probs at samples: ref − policy ≤ gap, so that exp(ref − policy) fits when gap ≤ 80."""
    dims = tuple(size(d) for _ in range(size(d, 1, 2)))
    policy = logps(d, dims)
    ref = (policy + tensor(d, dims, -SHARP, gap, policy.dtype)).clamp(max=0)
    return {"policy_logps": vary(d, policy), "ref_logps": vary(d, ref)}


@spec(kl.k1, SAMPLED, lambda kw: [(shape(kw, "policy_logps"), fdt(kw, *SAMPLED))])
def _(d):
    return _sampled(d)


@spec(kl.k3, SAMPLED, lambda kw: [(shape(kw, "policy_logps"), fdt(kw, *SAMPLED))])
def _(d):
    return _sampled(d, gap=80.0)


@spec(kl.mean_ci, {"samples": "tensor", "z": "number"}, lambda kw: [((), None)] * 2)
def _(d):
    return {"samples": vary(d, tensor(d, (size(d, 2, 5),))), "z": real(d, d.draw(_floats(1e-3, 10)))}


@spec(kl.exact_mean_var, {"policy_logprobs": "tensor", "values": "tensor"},
      lambda kw: [(shape(kw, "policy_logprobs")[:1], fdt(kw, "policy_logprobs", "values"))] * 2)
def _(d):
    table = logprob_table(d, size(d), size(d), zeros=True)
    values = tensor(d, tuple(table.shape))
    values = torch.where(table == -math.inf, d.draw(st.sampled_from([math.inf, 0.0])), values)
    return {"policy_logprobs": vary(d, table), "values": vary(d, values.to(values.dtype))}


# --------------------------------------------------------------------------- data


@spec(data.sample_from_table, {"logprobs": "tensor", "n": "int", "gen": "other"},
      lambda kw: [((shape(kw, "logprobs")[0], int(kw["n"])), I64)])
def _(d):
    return {"logprobs": logprob_table(d, size(d), size(d), zeros=True), "n": integer(d, size(d)),
            "gen": numeric.generator(0)}


@spec(data.sample_from_logits, {"logits": "tensor", "shape": "other", "gen": "other"},
      lambda kw: [(tuple(int(n) for n in kw["shape"]), I64)])
def _(d):
    return {"logits": tensor(d, (size(d),), -SHARP, SHARP),
            "shape": tuple(integer(d, size(d)) for _ in range(size(d, 1, 2))),
            "gen": numeric.generator(0)}


def _batch_expect(kw):
    rows = len(kw["prompts"])
    width = max(len(p) + len(a) for p, a in zip(kw["prompts"], kw["answers"]))
    return [((rows, width), I64)] * 2


BAD_ROWS = [torch.tensor([1, 2]), np.array([1, 2]), [1.5], [-1], [], [True], "12", None,
            [torch.tensor(1)]]


def _bad_row(name: str) -> Callable:
    """A corruption of a list of token-id lists: its first row built wrongly, or no list."""
    def bad(d, kwargs):
        if d.draw(st.booleans()):
            return d.draw(st.sampled_from([None, "12", torch.tensor([[1, 2]]), [], 3]))
        return [d.draw(st.sampled_from(BAD_ROWS)), *kwargs[name][1:]]
    return bad


@spec(data.batch_sequences, {"prompts": _bad_row("prompts"), "answers": _bad_row("answers"),
                             "pad_id": "int"}, _batch_expect)
def _(d):
    rows = size(d)
    token_lists = st.lists(st.lists(st.integers(0, 50), min_size=1, max_size=3),
                           min_size=rows, max_size=rows)
    return {"prompts": d.draw(token_lists), "answers": d.draw(token_lists),
            "pad_id": integer(d, d.draw(st.integers(0, 3)))}


@spec(data.random_pairs, {"gen": "other", "n_pairs": "int", "vocab_size": "int",
                          "prompt_len": "other", "answer_len": "other"}, lambda kw: None)
def _(d):
    lo = size(d, 1, 2)
    return {"gen": numeric.generator(0), "n_pairs": integer(d, size(d)),
            "vocab_size": integer(d, size(d, 2, 6)),
            "prompt_len": (integer(d, lo), integer(d, lo + size(d, 0, 2))),
            "answer_len": (integer(d, lo), integer(d, lo + size(d, 1, 2)))}


# --------------------------------------------------------------------------- policy_gradient

POLICY = {"logits": "tensor", "returns": "tensor"}


def _policy(d):
    k = size(d, 2, 4)
    return {"logits": vary(d, tensor(d, (k,), -SHARP, SHARP)), "returns": vary(d, tensor(d, (k,)))}


def _samples(d, k):
    dims = tuple(size(d) for _ in range(size(d, 1, 2)))
    return ids(d, dims, k)


@spec(policy_gradient.expected_return, POLICY, lambda kw: [((), fdt(kw, *POLICY))])
def _(d):
    return _policy(d)


@spec(policy_gradient.exact_gradient, POLICY, lambda kw: [(shape(kw, "logits"), fdt(kw, "logits"))])
def _(d):
    return _policy(d)


@spec(policy_gradient.softmax_score, {"logits": "tensor", "samples": "ids"},
      lambda kw: [((*shape(kw, "samples"), shape(kw, "logits")[0]), fdt(kw, "logits"))])
def _(d):
    policy = _policy(d)
    return {"logits": policy["logits"], "samples": _samples(d, policy["logits"].numel())}


def _with_baseline(d):
    policy = _policy(d)
    samples = _samples(d, policy["logits"].numel())
    kind = d.draw(st.sampled_from(["number", "per sample", "per run"]))
    if kind == "number":
        baseline = real(d, d.draw(_floats(-BIG, BIG)))
    else:
        dims = tuple(samples.shape) if kind == "per sample" else tuple(samples.shape[-1:])
        baseline = tensor(d, dims)
    return {**policy, "samples": samples, "baseline": baseline}


BASELINE = {**POLICY, "samples": "ids", "baseline": "number"}


@spec(policy_gradient.score_function_terms, BASELINE,
      lambda kw: [((*shape(kw, "samples"), shape(kw, "logits")[0]), None)])
def _(d):
    return _with_baseline(d)


@spec(policy_gradient.score_function_estimate, BASELINE,
      lambda kw: [((*shape(kw, "samples")[:-1], shape(kw, "logits")[0]), None)])
def _(d):
    return _with_baseline(d)


@spec(policy_gradient.optimal_baseline, POLICY, lambda kw: [((), fdt(kw, *POLICY))])
def _(d):
    return _policy(d)


@spec(policy_gradient.estimator_variance, {**POLICY, "baseline": "number"},
      lambda kw: [((), None)])
def _(d):
    return {**_policy(d), "baseline": real(d, d.draw(_floats(-BIG, BIG)))}


# --------------------------------------------------------------------------- optimum

OPTIMUM = {"ref_logprobs": "tensor", "rewards": "tensor", "beta": "number"}


def _optimum(d, zeros=True):
    rows, k = size(d), size(d)
    return {"ref_logprobs": vary(d, logprob_table(d, rows, k, zeros=zeros)),
            "rewards": vary(d, tensor(d, (rows, k))), "beta": beta(d)}


@spec(optimum.optimal_policy, OPTIMUM,
      lambda kw: [(shape(kw, "rewards"), fdt(kw, "ref_logprobs", "rewards"))])
def _(d):
    return _optimum(d)


@spec(optimum.log_partition, OPTIMUM,
      lambda kw: [(shape(kw, "rewards")[:1], fdt(kw, "ref_logprobs", "rewards"))])
def _(d):
    return _optimum(d)


@spec(optimum.kl_objective,
      {**OPTIMUM, "policy_logprobs": "tensor", "prompt_probs": "tensor"}, lambda kw: [((), None)])
def _(d):
    problem = _optimum(d)
    rows, k = problem["rewards"].shape
    prompt_probs = torch.softmax(tensor(d, (rows,), -10, 10), -1)
    return {**problem, "policy_logprobs": logprob_table(d, rows, k, zeros=True),
            "prompt_probs": d.draw(st.sampled_from([None, prompt_probs]))}


# --------------------------------------------------------------------------- dpo

FOUR = ("policy_chosen_logps", "policy_rejected_logps", "reference_chosen_logps",
        "reference_rejected_logps")


def _four(d, names=FOUR):
    n = size(d)
    return {name: vary(d, logps(d, (n,))) for name in names}


@spec(dpo.dpo_loss, {**dict.fromkeys(FOUR, "tensor"), "beta": "number",
                     "label_smoothing": "number", "ipo": "flag"},
      lambda kw: [(shape(kw, FOUR[0]), fdt(kw, *FOUR[:2 if kw["reference_free"] else 4])),
                  (shape(kw, FOUR[0]), fdt(kw, *FOUR[::2])),
                  (shape(kw, FOUR[0]), fdt(kw, *FOUR[1::2]))])
def _(d):
    return {**_four(d), "beta": beta(d), "label_smoothing": real(d, d.draw(_floats(0, 0.49))),
            "ipo": d.draw(st.sampled_from([False, True, np.bool_(True)])),
            "reference_free": d.draw(st.booleans())}


@spec(dpo.simpo_loss, {FOUR[0]: "tensor", FOUR[1]: "tensor", "beta": "number", "gamma": "number",
                       "label_smoothing": "number"},
      lambda kw: [(shape(kw, FOUR[0]), fdt(kw, *FOUR[:2]))])
def _(d):
    return {**_four(d, FOUR[:2]), "beta": beta(d, 0.0), "gamma": real(d, d.draw(_floats(0, 1e3))),
            "label_smoothing": real(d, d.draw(_floats(0, 0.49)))}


@spec(dpo.implicit_reward, {"policy_logprobs": "tensor", "ref_logprobs": "tensor", "beta": "number"},
      lambda kw: [(shape(kw, "policy_logprobs"), fdt(kw, "policy_logprobs", "ref_logprobs"))])
def _(d):
    rows, k = size(d), size(d)
    zeros = d.draw(st.booleans())  # −inf in one table only: log(0/0) has no value
    return {"policy_logprobs": logprob_table(d, rows, k, zeros=zeros),
            "ref_logprobs": logprob_table(d, rows, k, zeros=not zeros), "beta": beta(d)}


@spec(dpo.dpo_grad_weight, {**dict.fromkeys(FOUR, "tensor"), "beta": "number"},
      lambda kw: [(shape(kw, FOUR[0]), fdt(kw, *FOUR))])
def _(d):
    return {**_four(d), "beta": beta(d, 0.0)}


@spec(dpo.dpo_logp_grads, {**dict.fromkeys(FOUR, "tensor"), "beta": "number"},
      lambda kw: [(shape(kw, FOUR[0]), fdt(kw, *FOUR))] * 2)
def _(d):
    return {**_four(d), "beta": beta(d, 0.0)}


CLOSED = {"weights": "tensor", "chosen_grads": "tensor", "rejected_grads": "tensor", "beta": "number"}


def _closed_form(d, dtype=None):
    n, p = size(d), size(d)
    return {"weights": vary(d, tensor(d, (n,), 0, 1, dtype)),
            "chosen_grads": vary(d, tensor(d, (n, p), dtype=dtype)),
            "rejected_grads": vary(d, tensor(d, (n, p), dtype=dtype)), "beta": beta(d, 0.0)}


@spec(dpo.dpo_closed_form_grad, CLOSED,
      lambda kw: [(shape(kw, "chosen_grads")[1:], fdt(kw, *list(CLOSED)[:3]))])
def _(d):
    return _closed_form(d)


@spec(dpo.pair_logprobs, {"model": "other", "tokens": "ids", "labels": "ids", "average": "flag"},
      lambda kw: [((shape(kw, "tokens")[0] // 2,), F64)] * 2)
def _(d):
    tokens, labels = token_batch(d, pairs=True)
    return {"model": LM, "tokens": tokens, "labels": labels, "average": d.draw(st.booleans())}


@spec(dpo.batch_dpo_loss, {"policy": "other", "reference": [LM_OTHER_VOCAB, None, "model"],
                           "tokens": "ids", "labels": "ids", "beta": "number", "average": "flag"},
      lambda kw: [((), F64)])
def _(d):
    tokens, labels = token_batch(d, pairs=True)
    return {"policy": LM, "reference": LM_REF, "tokens": tokens, "labels": labels,
            "beta": beta(d), "average": d.draw(st.booleans())}


# --------------------------------------------------------------------------- tabular_dpo


@spec(tabular_dpo.all_pairs, {"n_answers": "int", "device": "other"},
      lambda kw: [((int(kw["n_answers"]) * (int(kw["n_answers"]) - 1),), I64)] * 2)
def _(d):
    return {"n_answers": integer(d, size(d, 2, 5)),
            "device": d.draw(st.sampled_from([None, "cpu", torch.device("cpu")]))}


REWARDS = {"rewards": "tensor"}


def _rewards(d):
    return {"rewards": vary(d, tensor(d, (size(d), size(d, 2, 4))))}


@spec(tabular_dpo.pairwise_preference_probs, REWARDS,
      lambda kw: [((*shape(kw, "rewards"), shape(kw, "rewards")[1]), fdt(kw, "rewards"))])
def _(d):
    return _rewards(d)


@spec(tabular_dpo.preference_entropy, REWARDS, lambda kw: [((), fdt(kw, "rewards"))])
def _(d):
    return _rewards(d)


@spec(tabular_dpo.expected_bt_loss, {"model_rewards": "tensor", "rewards": "tensor"},
      lambda kw: [((), fdt(kw, "model_rewards", "rewards"))])
def _(d):
    rewards = _rewards(d)["rewards"]
    return {"model_rewards": vary(d, tensor(d, tuple(rewards.shape))), "rewards": rewards}


@spec(tabular_dpo.expected_dpo_loss,
      {"policy_logprobs": "tensor", "ref_logprobs": "tensor", "rewards": "tensor", "beta": "number",
       "label_smoothing": "number", "ipo": "flag"}, lambda kw: [((), None)])
def _(d):
    rows, k = size(d), size(d, 2, 3)
    return {"policy_logprobs": logprob_table(d, rows, k), "ref_logprobs": logprob_table(d, rows, k),
            "rewards": tensor(d, (rows, k)), "beta": beta(d),
            "label_smoothing": real(d, d.draw(_floats(0, 0.49))), "ipo": d.draw(st.booleans())}


@spec(tabular_dpo.fit_tabular_dpo,
      {"ref_logprobs": "tensor", "rewards": "tensor", "beta": "number", "steps": "int",
       "label_smoothing": "number", "ipo": "flag"}, lambda kw: None)
def _(d):
    rows, k = size(d, 1, 2), size(d, 2, 3)
    return {"ref_logprobs": logprob_table(d, rows, k),
            "rewards": tensor(d, (rows, k)), "beta": beta(d),
            "steps": integer(d, size(d, 1, 2)),
            "label_smoothing": real(d, d.draw(_floats(0, 0.49))), "ipo": d.draw(st.booleans())}


# --------------------------------------------------------------------------- models


@spec(models.TabularPolicy, {"n_prompts": "int", "n_answers": "int", "logits": "tensor"},
      lambda kw: None)
def _(d):
    rows, k = size(d), size(d, 2, 3)
    logits = d.draw(st.sampled_from([None, "table"]))
    return {"n_prompts": integer(d, rows), "n_answers": integer(d, k),
            "logits": None if logits is None else vary(d, tensor(d, (rows, k), -SHARP, SHARP))}


@spec(models.TinyCausalLM, {"vocab_size": "int", "hidden": "int", "seed": "int", "dtype": "other"},
      lambda kw: None)
def _(d):
    return {"vocab_size": integer(d, size(d, 2, 5)), "hidden": integer(d, size(d, 1, 2)),
            "seed": integer(d, d.draw(st.integers(0, 2**32 - 1))),
            "dtype": d.draw(st.sampled_from([F64, F32]))}


@spec(lm_forward, {"tokens": "ids"}, lambda kw: [((*shape(kw, "tokens"), 5), F64)], group="models")
def _(d):
    return {"tokens": ids(d, (size(d, 1, 2), size(d, 1, 4)), 5)}


def _logits_labels(d, scored=False):
    batch, seq, vocab = size(d), size(d, 2, 4), size(d, 2, 4)
    labels = ids(d, (batch, seq), vocab)
    ignore = bools(d, (batch, seq))
    if scored:
        ignore[:, -1] = False  # every row scores its last token
    labels = labels.masked_fill(ignore, models.IGNORE_INDEX)
    return {"logits": vary(d, tensor(d, (batch, seq, vocab), -SHARP, SHARP)), "labels": labels}


@spec(models.token_logprobs, {"logits": "tensor", "labels": "ids"},
      lambda kw: [((shape(kw, "labels")[0], shape(kw, "labels")[1] - 1), fdt(kw, "logits")),
                  ((shape(kw, "labels")[0], shape(kw, "labels")[1] - 1), torch.bool)])
def _(d):
    return _logits_labels(d)


@spec(models.sequence_logprobs, {"logits": "tensor", "labels": "ids", "average": "flag"},
      lambda kw: [(shape(kw, "labels")[:1], fdt(kw, "logits"))])
def _(d):
    return {**_logits_labels(d, scored=True), "average": d.draw(st.booleans())}


@spec(models.trainable, MODEL_CORRUPTIONS, lambda kw: None)
def _(d):
    return {"model": d.draw(st.sampled_from([LM, LM_REF, RM]))}


@spec(models.flat, {"grads": "other"}, lambda kw: [((sum(g.numel() for g in kw["grads"]),), None)])
def _(d):
    return {"grads": [tensor(d, (size(d), size(d))) for _ in range(size(d))]}


@spec(models.flat_grad, MODEL_CORRUPTIONS,
      lambda kw: [((sum(p.numel() for p in kw["model"].parameters()),), F64)])
def _(d):
    model = models.TabularPolicy(2, 3)
    if d.draw(st.booleans()):
        model.logits.grad = tensor(d, (2, 3), dtype=F64)
    return {"model": d.draw(st.sampled_from([model, bradley_terry.RewardModel(1, 1)]))}


@spec(models.per_sequence_grads, {"model": "other", "tokens": "ids", "labels": "ids",
                                  "average": "flag"},
      lambda kw: [((shape(kw, "tokens")[0], sum(p.numel() for p in LM.parameters())), F64)])
def _(d):
    tokens, labels = token_batch(d)
    return {"model": LM, "tokens": tokens, "labels": labels, "average": d.draw(st.booleans())}


# --------------------------------------------------------------------------- toyworld


@spec(toyworld.true_reward, {"features": "tensor"},
      lambda kw: [(shape(kw, "features")[:-1], fdt(kw, "features"))])
def _(d):
    dims = tuple(size(d) for _ in range(size(d, 0, 2)))
    return {"features": vary(d, tensor(d, (*dims, 2)))}


@spec(toyworld.sft_logprobs, {"features": "tensor"},
      lambda kw: [(shape(kw, "features")[:-1], fdt(kw, "features"))])
def _(d):
    return {"features": vary(d, tensor(d, (size(d), size(d), 2)))}


@spec(toyworld.make_world, {"n_prompts": "int", "n_answers": "int", "gen": "other"},
      lambda kw: [((int(kw["n_prompts"]), int(kw["n_answers"]), 2), F64)]
      + [((int(kw["n_prompts"]), int(kw["n_answers"])), F64)] * 2
      + [((int(kw["n_prompts"]), int(kw["n_answers"])), torch.bool)])
def _(d):
    return {"n_prompts": integer(d, size(d, 1, 2)), "n_answers": integer(d, 3 * size(d, 2, 3)),
            "gen": numeric.generator(0)}


@spec(toyworld.comparisons, {"world": "other", "pairs_per_prompt": "int", "gen": "other"},
      lambda kw: [((2 * int(kw["pairs_per_prompt"]),), I64)] * 2)
def _(d):
    return {"world": WORLD, "pairs_per_prompt": integer(d, size(d)), "gen": numeric.generator(0)}


@spec(toyworld.fit_proxy, {"world": "other", "chosen": "ids", "rejected": "ids", "steps": "int",
                           "lr": "number", "seed": "int"}, lambda kw: [((2, 6), F64)])
def _(d):
    return {"world": WORLD, "chosen": WORLD_PAIRS[0], "rejected": WORLD_PAIRS[1],
            "steps": integer(d, size(d, 1, 2)), "lr": real(d, d.draw(_floats(1e-3, 1.0))),
            "seed": integer(d, d.draw(st.integers(0, 2**32 - 1)))}


@spec(toyworld.sample_sequences, {"model": "other", "n": "int", "length": "int", "gen": "other"},
      lambda kw: [((int(kw["n"]), int(kw["length"])), I64)])
def _(d):
    return {"model": LM_REF, "n": integer(d, size(d, 1, 2)), "length": integer(d, size(d, 2, 3)),
            "gen": numeric.generator(0)}


# --------------------------------------------------------------------------- ppo


@spec(ppo.ppo_clip_loss, {"logps": "tensor", "old_logps": "tensor", "advantages": "tensor",
                          "clip_eps": "number"},
      lambda kw: [(shape(kw, "logps"), fdt(kw, "logps", "old_logps", "advantages"))])
def _(d):
    dims = tuple(size(d) for _ in range(size(d, 0, 2)))
    return {"logps": vary(d, logps(d, dims, -30.0)), "old_logps": vary(d, logps(d, dims, -30.0)),
            "advantages": vary(d, tensor(d, dims)), "clip_eps": real(d, d.draw(_floats(1e-3, 0.9)))}


@spec(ppo.grpo_advantages, {"rewards": "tensor", "group_size": "int", "scale": "flag",
                            "eps": "number"},
      lambda kw: [(shape(kw, "rewards"), fdt(kw, "rewards"))])
def _(d):
    group = size(d, 2, 3)
    return {"rewards": vary(d, tensor(d, (group * size(d),))), "group_size": integer(d, group),
            "scale": d.draw(st.booleans()), "eps": real(d, d.draw(_floats(1e-6, 1.0)))}


@spec(ppo.per_token_rewards, {"scores": "tensor", "logps": "tensor", "ref_logps": "tensor",
                              "mask": "ids", "beta": "number"},
      lambda kw: [(shape(kw, "logps"), None)])
def _(d):
    batch, t = size(d), size(d)
    mask = bools(d, (batch, t))
    mask[:, 0] = True  # every row scores a token
    return {"scores": vary(d, tensor(d, (batch,))), "logps": vary(d, logps(d, (batch, t))),
            "ref_logps": vary(d, logps(d, (batch, t))), "mask": mask, "beta": beta(d, 0.0)}


@spec(ppo.reward_to_go, {"rewards": "tensor", "discount": "number"},
      lambda kw: [(shape(kw, "rewards"), None)])
def _(d):
    return {"rewards": vary(d, tensor(d, (size(d), size(d, 1, 4)))),
            "discount": real(d, d.draw(_floats(1e-3, 1.0)))}


@spec(ppo.kl_objective_gradient, {"logits": "tensor", "ref_logprobs": "tensor", "rewards": "tensor",
                                  "beta": "number", "prompt_probs": "tensor"},
      lambda kw: [(shape(kw, "logits"), None)])
def _(d):
    problem = _optimum(d, zeros=False)
    rows, k = problem["rewards"].shape
    prompt_probs = torch.softmax(tensor(d, (rows,), -10, 10), -1)
    return {**problem, "logits": vary(d, tensor(d, (rows, k), -SHARP, SHARP)),
            "prompt_probs": d.draw(st.sampled_from([None, prompt_probs]))}


# --------------------------------------------------------------------------- dpo_theory


@spec(dpo_theory.first_order_logp_change, {**CLOSED, "lr": "number"},
      lambda kw: [(shape(kw, "weights"), None)] * 2)
def _(d):
    dtype = d.draw(st.sampled_from([F64, F32]))  # a matrix product needs one dtype
    return {**_closed_form(d, dtype), "lr": real(d, d.draw(_floats(1e-3, 1e3)))}


# --------------------------------------------------------------------------- the test


GROUPS = {group: [s for s in SPECS if s.group == group] for group in sorted({s.group for s in SPECS})}


@pytest.mark.parametrize("group", GROUPS)
@settings(deadline=None, database=None)
@given(d=st.data())
def test_valid_input_gives_finite_results_and_bad_input_a_value_error(group, d):
    """One property a module: each example calls one of its helpers (Hypothesis's default 100
    examples a module; one property a helper would take the suite over its time budget)."""
    run(d.draw(st.sampled_from(GROUPS[group]), label="helper"), d)


NO_INPUT = {"device", "freeze_gc"}  # read the environment or set the runtime: no argument to draw


def test_every_public_helper_has_a_property():
    covered = {s.fn for s in SPECS} | {bradley_terry.RewardModel.forward, models.TinyCausalLM.forward}
    names = {getattr(s.fn, "__qualname__", "") for s in SPECS}
    for module in (bradley_terry, data, dpo, dpo_theory, kl, models, numeric, optimum,
                   policy_gradient, ppo, tabular_dpo, toyworld):
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) or (inspect.isclass(obj) and issubclass(obj, torch.nn.Module)):
                assert obj in covered or name in names or name in NO_INPUT, \
                    f"{module.__name__}.{name} has no property"

"""Device choice, dtype, seeding and finite differences for the numeric checks."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import numpy as np
import torch

DTYPE = torch.float64  # numeric checks run in float64 on every device

# The models of this course are tiny: one CPU thread runs them fastest, and it keeps notebooks
# that pytest-xdist executes side by side from oversubscribing the cores.
torch.set_num_threads(1)
_DEVICES = ("auto", "cpu", "cuda")


def device() -> torch.device:
    """The device named by RLHF_DEVICE (`cpu`, `cuda`, `auto`; default `auto`: CUDA if present)."""
    name = os.environ.get("RLHF_DEVICE", "auto").strip().lower() or "auto"
    if name not in _DEVICES:
        raise ValueError(f"RLHF_DEVICE: expected one of {_DEVICES}, got {name!r}")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("RLHF_DEVICE: 'cuda' was asked for but torch sees no CUDA device")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return a CPU torch.Generator seeded with `seed`.

    Draw random numbers on the CPU with it and move them to device(): the data are then the
    same on every machine, with or without a GPU.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return generator(seed)


def generator(seed: int) -> torch.Generator:
    """A CPU torch.Generator seeded with `seed` (draw on the CPU, then move to device())."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def tensor(data, dtype: torch.dtype = DTYPE) -> torch.Tensor:
    """`data` as a tensor of `dtype` (float64 by default) on device()."""
    return torch.as_tensor(data, dtype=dtype, device=device())


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """A detached CPU numpy copy of a tensor (for plotting)."""
    return x.detach().cpu().numpy()


def finite_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                      eps: float = 1e-6) -> torch.Tensor:
    """Central-difference gradient of a scalar function f at x; same shape as x."""
    if eps <= 0:
        raise ValueError(f"eps: expected a number > 0, got {eps!r}")
    x = x.detach().clone()
    grad = torch.zeros_like(x)
    flat, g = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        up = float(f(x))
        flat[i] = old - eps
        down = float(f(x))
        flat[i] = old
        g[i] = (up - down) / (2 * eps)
    return grad


# --------------------------------------------------------------------------- optimisers
# Two small optimisers with torch.optim's update rules and interface (zero_grad, step). They
# exist because the first torch.optim optimiser a process builds imports torch._dynamo, which
# costs about a second: more than the whole fit in most cells of this course.


class Momentum:
    """Gradient descent with momentum, as torch.optim.SGD: v ← μ v + g;  p ← p − lr v."""

    def __init__(self, params, lr: float, momentum: float = 0.9):
        require_positive("lr", lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum: expected a number in [0, 1), got {momentum!r}")
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p, v in zip(self.params, self.velocity):
            if p.grad is not None:
                v.mul_(self.momentum).add_(p.grad)
                p.sub_(self.lr * v)


class Adam:
    """Adam (Kingma & Ba), as torch.optim.Adam with its defaults: bias-corrected moments."""

    def __init__(self, params, lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        require_positive("lr", lr)
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"betas: expected two numbers in [0, 1), got {betas!r}")
        self.params, self.lr, self.betas, self.eps = list(params), lr, betas, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m.mul_(b1).add_(p.grad, alpha=1 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
            denom = (v / (1 - b2**self.t)).sqrt().add_(self.eps)
            p.sub_(self.lr * (m / (1 - b1**self.t)) / denom)


# --------------------------------------------------------------------------- argument checks


def require_finite(name: str, x: torch.Tensor) -> None:
    """ValueError naming `name` if x holds NaN or ±inf."""
    if not torch.isfinite(torch.as_tensor(x)).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")


def require_positive(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite number > 0."""
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
        raise ValueError(f"{name}: expected a finite number > 0, got {value!r}")


def require_nonnegative(name: str, value: float) -> None:
    """ValueError naming `name` unless value is a finite number >= 0."""
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
        raise ValueError(f"{name}: expected a finite number >= 0, got {value!r}")


def require_same_shape(names: str, *xs: torch.Tensor) -> None:
    """ValueError naming the arguments unless all tensors have the same shape."""
    shapes = [tuple(x.shape) for x in xs]
    if len(set(shapes)) != 1:
        raise ValueError(f"{names}: expected the same shape, got {', '.join(map(str, shapes))}")


def require_logprobs(name: str, logps: torch.Tensor, atol: float = 0.0) -> None:
    """ValueError naming `name` unless logps are log-probabilities: no NaN or +inf, all ≤ atol."""
    if torch.isnan(logps).any() or (logps == float("inf")).any():
        raise ValueError(f"{name}: expected log-probabilities, got NaN or +inf")
    if (logps > atol).any():
        raise ValueError(f"{name}: expected log-probabilities <= 0, got max "
                         f"{float(logps.max()):.3g}")


def require_logprob_table(name: str, logps: torch.Tensor, atol: float = 1e-6) -> None:
    """ValueError unless logps (rows, k) are log-probabilities: ≤ 0, no NaN/+inf, rows sum to 1.

    −inf is allowed (probability zero) as long as each row keeps some mass.
    """
    if logps.dim() != 2:
        raise ValueError(f"{name}: expected a (prompts, answers) table, got shape "
                         f"{tuple(logps.shape)}")
    require_logprobs(name, logps, atol)
    total = torch.logsumexp(logps, dim=-1).exp()
    if not torch.allclose(total, torch.ones_like(total), atol=atol, rtol=0):
        raise ValueError(f"{name}: expected each row to sum to 1 in probability, got sums "
                         f"{[round(float(t), 6) for t in total]}")

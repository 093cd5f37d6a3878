"""Device, dtype, threads, seeding and finite differences for the numeric checks.

Nothing here runs at import: threads, seeds and the device are explicit calls, made in each
notebook's setup cell.
"""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Callable

import numpy as np
import torch

from helpers import checks

DTYPE = torch.float64  # numeric checks run in float64 on every device


def set_threads(n: int = 1) -> None:
    """Run torch on n CPU threads (torch.set_num_threads).

    The models of this course are tiny: one thread runs them fastest, and it keeps notebooks
    that pytest-xdist executes side by side from oversubscribing the cores.
    Used in: every notebook's setup cell.
    """
    checks.require_ints(n=(n, 1))
    torch.set_num_threads(int(n))


def freeze_gc() -> None:
    """Leave every object alive now out of later garbage collections (gc.freeze).

    Called at the end of the setup cell, after the imports: the half a million objects that
    torch, sympy and matplotlib create at import live as long as the kernel, and without this
    every full collection walks all of them again (about 0.2 s each time). Objects made later
    are collected as usual.
    Used in: every notebook's setup cell.
    """
    gc.freeze()


def device() -> torch.device:
    """The device named by RLHF_DEVICE (`cpu`, `cuda`, `auto`; default `auto`: CUDA if present).

    Used in: every notebook's setup cell.
    """
    name = os.environ.get("RLHF_DEVICE", "auto").strip().lower() or "auto"
    checks.require_device_name(name)
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch; return a CPU torch.Generator seeded with `seed`.

    Draw random numbers on the CPU with it and move them to device(): the data are then the
    same on every machine, with or without a GPU.
    Used in: every notebook's setup cell.
    """
    checks.require_seed(seed)
    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))
    return torch.Generator().manual_seed(int(seed))


def generator(seed: int) -> torch.Generator:
    """A CPU torch.Generator seeded with `seed` (draw on the CPU, then move to device())."""
    checks.require_seed(seed)
    return torch.Generator().manual_seed(int(seed))


def to_numpy(x: torch.Tensor) -> np.ndarray:
    """A detached CPU numpy copy of a tensor (for plotting)."""
    checks.require_numpy_able("x", x)
    return x.detach().cpu().numpy()


def finite_difference(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                      eps: float = 1e-6) -> torch.Tensor:
    """Central differences (f(x + ε e_i) − f(x − ε e_i)) / 2ε of a scalar f at x; same shape as x.

    x is a finite float64 tensor (in float32 the differences lose half their digits, ~5 % off
    at ε = 1e-6), of any layout; ε > 0 must move every entry of x. f must return a scalar.
    Taught in: 03 §1.
    """
    checks.require_finite_difference(f, x, eps)
    x, h = x.detach().clone(memory_format=torch.contiguous_format), float(eps)  # h: eps as a float
    grad = torch.zeros_like(x)
    flat, g = x.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        up = float(f(x))
        flat[i] = old - h
        down = float(f(x))
        flat[i] = old
        g[i] = (up - down) / (2 * h)
    return grad

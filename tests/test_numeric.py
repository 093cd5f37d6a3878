"""Unit tests of helpers.numeric: device, threads, seeding, finite differences."""

import gc

import numpy as np
import pytest
import torch

from helpers import numeric


def test_device_reads_the_environment(monkeypatch):
    monkeypatch.setenv("RLHF_DEVICE", "cpu")
    assert numeric.device() == torch.device("cpu")
    monkeypatch.setenv("RLHF_DEVICE", "auto")
    assert numeric.device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("RLHF_DEVICE", "tpu")
    with pytest.raises(ValueError, match="RLHF_DEVICE"):
        numeric.device()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU error")
def test_cuda_without_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RLHF_DEVICE", "cuda")
    with pytest.raises(ValueError, match="no CUDA device"):
        numeric.device()


def test_freeze_gc_leaves_the_objects_alive_now_out_of_collections_and_later_ones_in():
    try:
        numeric.freeze_gc()
        assert gc.get_freeze_count() > 0
        later = []
        later.append(later)            # a cycle made after the freeze is still collected
        del later
        assert gc.collect() > 0
    finally:
        gc.unfreeze()


def test_set_threads_sets_torch_threads_and_checks_its_argument():
    before = torch.get_num_threads()
    try:
        numeric.set_threads(2)
        assert torch.get_num_threads() == 2
        numeric.set_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="n: expected an integer >= 1"):
            numeric.set_threads(bad)


def test_seeding_is_reproducible():
    a = torch.randn(3, generator=numeric.seed_everything(7))
    b = torch.randn(3, generator=numeric.seed_everything(7))
    assert torch.equal(a, b)
    assert torch.equal(torch.randn(3, generator=numeric.generator(7)), a)
    with pytest.raises(ValueError, match="seed"):
        numeric.seed_everything(-1)
    with pytest.raises(ValueError, match="seed"):
        numeric.generator(1.5)


def test_finite_difference_matches_autograd():
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)

    def f(v):
        return (torch.sin(v) * v**2).sum()

    (auto,) = torch.autograd.grad(f(x), x)
    fd = numeric.finite_difference(f, x)
    assert torch.allclose(fd, auto, atol=1e-8)
    with pytest.raises(ValueError, match="eps"):
        numeric.finite_difference(f, x, eps=0)


def test_to_numpy_detaches():
    x = torch.ones(2, requires_grad=True)
    assert numeric.to_numpy(x * 2).tolist() == [2.0, 2.0]


# --------------------------------------------------------------------------- bad input (issue 13)


def _cube(v):
    return (v**3).sum()


def test_finite_difference_wants_float64_and_says_why():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    assert torch.allclose(numeric.finite_difference(_cube, x), 3 * x**2, rtol=1e-8, atol=0)
    for bad in (x.float(), x.long(), x.tolist(), x.numpy()):  # float32 was ~5 % off, ints wrong
        with pytest.raises(ValueError, match="x: expected a float64 torch.Tensor"):
            numeric.finite_difference(_cube, bad)
    with pytest.raises(ValueError, match="x: expected finite"):
        numeric.finite_difference(_cube, torch.tensor([1.0, float("nan")], dtype=torch.float64))


def test_finite_difference_checks_eps_and_f():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    for bad in (float("nan"), float("inf"), -1e-6, True, "1e-6", None):
        with pytest.raises(ValueError, match="eps: expected a finite number > 0"):
            numeric.finite_difference(_cube, x, eps=bad)
    with pytest.raises(ValueError, match="eps: expected a step that moves every entry of x"):
        numeric.finite_difference(_cube, x * 1e20, eps=1e-6)  # x ± ε == x: the difference is 0
    with pytest.raises(ValueError, match="f: expected f"):
        numeric.finite_difference(lambda v: v**2, x)  # not a scalar
    with pytest.raises(ValueError, match="f: expected a finite"):
        numeric.finite_difference(lambda v: v.sum() / 0, x)
    with pytest.raises(ValueError, match="f: expected a function"):
        numeric.finite_difference(None, x)


def test_finite_difference_takes_any_layout_and_any_kind_of_eps():
    x = torch.arange(6, dtype=torch.float64).reshape(3, 2).T  # non-contiguous (2, 3)
    assert not x.is_contiguous()
    fd = numeric.finite_difference(_cube, x)
    assert fd.shape == (2, 3) and torch.allclose(fd, 3 * x**2, rtol=1e-7, atol=1e-7)
    plain = numeric.finite_difference(_cube, x, eps=1e-5)
    for eps in (np.float64(1e-5), torch.tensor(1e-5, dtype=torch.float64)):
        assert torch.equal(numeric.finite_difference(_cube, x, eps=eps), plain)
    close = numeric.finite_difference(_cube, x, eps=np.float32(1e-5))  # its float32 value
    assert torch.allclose(close, plain, rtol=1e-6, atol=1e-6)


def test_seeds_of_any_integer_kind_give_the_same_generator_and_bools_are_refused():
    want = torch.randn(3, generator=numeric.generator(3))
    for seed in (np.int64(3), np.int32(3), torch.tensor(3)):
        assert torch.equal(torch.randn(3, generator=numeric.generator(seed)), want)
        assert torch.equal(torch.randn(3, generator=numeric.seed_everything(seed)), want)
    for bad in (True, 3.0, np.float64(3.0), torch.tensor(3.0), 2**32, "3", None):
        with pytest.raises(ValueError, match=r"seed: expected an integer in \[0, 2\*\*32\)"):
            numeric.generator(bad)


def test_to_numpy_wants_a_tensor():
    for bad in ([1.0], np.ones(2), None):
        with pytest.raises(ValueError, match="x: expected a torch.Tensor"):
            numeric.to_numpy(bad)
    with pytest.raises(ValueError, match="x: expected a torch.Tensor of a dtype numpy has"):
        numeric.to_numpy(torch.ones(2, dtype=torch.bfloat16))

"""Unit tests of helpers.numeric: device, threads, seeding, finite differences."""

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

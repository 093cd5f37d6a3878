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


def test_seeding_is_reproducible():
    a = torch.randn(3, generator=numeric.seed_everything(7))
    b = torch.randn(3, generator=numeric.seed_everything(7))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="seed"):
        numeric.seed_everything(-1)
    with pytest.raises(ValueError, match="seed"):
        numeric.generator(1.5)


def test_tensor_is_float64_on_device():
    t = numeric.tensor([1, 2])
    assert t.dtype == torch.float64 and t.device.type == numeric.device().type


def test_finite_difference_matches_autograd():
    x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)

    def f(v):
        return (torch.sin(v) * v**2).sum()

    (auto,) = torch.autograd.grad(f(x), x)
    fd = numeric.finite_difference(f, x)
    assert torch.allclose(fd, auto, atol=1e-8)
    with pytest.raises(ValueError, match="eps"):
        numeric.finite_difference(f, x, eps=0)


def test_require_helpers():
    numeric.require_finite("x", torch.ones(2))
    with pytest.raises(ValueError, match="x: expected finite"):
        numeric.require_finite("x", torch.tensor([1.0, float("nan")]))
    with pytest.raises(ValueError, match="beta"):
        numeric.require_positive("beta", 0.0)
    with pytest.raises(ValueError, match="a, b"):
        numeric.require_same_shape("a, b", torch.ones(2), torch.ones(3))
    good = torch.log(torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64))
    numeric.require_logprob_table("ref", good)
    with pytest.raises(ValueError, match="ref: expected each row to sum to 1"):
        numeric.require_logprob_table("ref", good - 0.1)
    with pytest.raises(ValueError, match="<= 0"):
        numeric.require_logprob_table("ref", good + 0.5)
    with pytest.raises(ValueError, match="table"):
        numeric.require_logprob_table("ref", good[0])


def test_to_numpy_detaches():
    x = torch.ones(2, requires_grad=True)
    assert numeric.to_numpy(x * 2).tolist() == [2.0, 2.0]


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), [
    (numeric.Momentum, torch.optim.SGD, {"lr": 0.01, "momentum": 0.9}),
    (numeric.Adam, torch.optim.Adam, {"lr": 0.05}),
])
def test_optimisers_follow_torch_optim(ours, theirs, kwargs):
    start = torch.tensor([1.5, -2.0, 0.3], dtype=torch.float64)
    paths = []
    for cls in (ours, theirs):
        x = start.clone().requires_grad_(True)
        opt = cls([x], **kwargs)
        for _ in range(25):
            opt.zero_grad()
            ((x - 1) ** 4 + torch.sin(x)).sum().backward()
            opt.step()
        paths.append(x.detach())
    assert torch.allclose(paths[0], paths[1], atol=1e-12), paths
    assert not torch.allclose(paths[0], start)


def test_optimisers_reject_bad_arguments():
    x = torch.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match="lr"):
        numeric.Adam([x], lr=0)
    with pytest.raises(ValueError, match="momentum"):
        numeric.Momentum([x], lr=0.1, momentum=1.0)
    with pytest.raises(ValueError, match="betas"):
        numeric.Adam([x], lr=0.1, betas=(0.9, 1.0))


def test_require_nonnegative():
    numeric.require_nonnegative("beta", 0.0)
    for bad in (-1.0, float("nan"), float("inf"), "1"):
        with pytest.raises(ValueError, match="beta: expected a finite number >= 0"):
            numeric.require_nonnegative("beta", bad)


def test_require_logprobs_any_shape():
    numeric.require_logprobs("lp", torch.tensor([[-1.0, float("-inf")], [0.0, -2.0]]))
    for bad in (torch.tensor([0.5]), torch.tensor([float("nan")]), torch.tensor([float("inf")])):
        with pytest.raises(ValueError, match="lp: expected log-probabilities"):
            numeric.require_logprobs("lp", bad)

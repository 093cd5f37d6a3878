"""Unit tests of helpers.kl against independent references (exact sums, loops, closed forms)."""

import math

import pytest
import torch

from helpers.kl import exact_mean_var, k1, k3, mean_ci, sample_answers
from helpers.numeric import DTYPE, generator
from helpers.rlhf import categorical_kl


def _table(seed: int, rows: int = 3, k: int = 5) -> torch.Tensor:
    return torch.log_softmax(torch.randn(rows, k, generator=generator(seed), dtype=DTYPE), -1)


def test_k1_is_the_log_ratio_and_its_mean_under_pi_is_kl():
    p, q = _table(0), _table(1)
    assert torch.allclose(k1(p, q), torch.log(p.exp() / q.exp()), atol=1e-12)
    assert torch.allclose((p.exp() * k1(p, q)).sum(-1), categorical_kl(p, q), atol=1e-12)


def test_k3_matches_its_formula_is_nonnegative_and_unbiased():
    p, q = _table(2), _table(3)
    rho = q.exp() / p.exp()
    assert torch.allclose(k3(p, q), (rho - 1) - torch.log(rho), atol=1e-12)
    assert (k3(p, q) >= 0).all()
    assert torch.allclose((p.exp() * k3(p, q)).sum(-1), categorical_kl(p, q), atol=1e-12)


def test_k3_is_exactly_zero_when_the_distributions_agree():
    p = _table(4)
    assert torch.equal(k3(p, p), torch.zeros_like(p))


def test_k1_k3_reject_bad_arguments():
    good = torch.log(torch.tensor([0.5, 0.5], dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logps, ref_logps"):
        k1(good, good[:1])
    with pytest.raises(ValueError, match="policy_logps"):
        k3(torch.tensor([0.1, -1.0], dtype=DTYPE), good)
    with pytest.raises(ValueError, match="ref_logps"):
        k1(good, torch.tensor([float("nan"), -1.0], dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logps"):
        k1(torch.tensor([-float("inf"), 0.0], dtype=DTYPE), good)


def test_mean_ci_against_a_loop():
    x = torch.randn(50, generator=generator(5), dtype=DTYPE)
    mean, half = mean_ci(x, z=2.0)
    m = sum(float(v) for v in x) / 50
    s = math.sqrt(sum((float(v) - m) ** 2 for v in x) / 49)
    assert abs(mean - m) < 1e-12 and abs(half - 2.0 * s / math.sqrt(50)) < 1e-12


def test_mean_ci_rejects_bad_arguments():
    with pytest.raises(ValueError, match="samples"):
        mean_ci(torch.ones(1, dtype=DTYPE))
    with pytest.raises(ValueError, match="samples"):
        mean_ci(torch.ones(2, 2, dtype=DTYPE))
    with pytest.raises(ValueError, match="z"):
        mean_ci(torch.ones(3, dtype=DTYPE), z=0.0)


def test_sample_answers_frequencies_and_reproducibility():
    logp = torch.log(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype=DTYPE))
    draws = sample_answers(logp, 4000, generator(6))
    assert draws.shape == (2, 4000)
    freq = torch.stack([(draws == j).to(DTYPE).mean(-1) for j in range(3)], -1)
    assert torch.allclose(freq, logp.exp(), atol=0.03)
    assert torch.equal(draws, sample_answers(logp, 4000, generator(6)))


def test_sample_answers_rejects_bad_arguments():
    with pytest.raises(ValueError, match="logprobs"):
        sample_answers(torch.zeros(2, 3, dtype=DTYPE), 5, generator(0))
    with pytest.raises(ValueError, match="n"):
        sample_answers(_table(0), 0, generator(0))


def test_exact_mean_var_against_a_loop():
    p, values = _table(7, rows=2, k=4), torch.randn(2, 4, generator=generator(8), dtype=DTYPE)
    mean, var = exact_mean_var(p, values)
    for i in range(2):
        w = [float(v) for v in p[i].exp()]
        f = [float(v) for v in values[i]]
        m = sum(a * b for a, b in zip(w, f, strict=True))
        v = sum(a * (b - m) ** 2 for a, b in zip(w, f, strict=True))
        assert abs(float(mean[i]) - m) < 1e-12 and abs(float(var[i]) - v) < 1e-12


def test_exact_mean_var_rejects_bad_arguments():
    with pytest.raises(ValueError, match="policy_logprobs, values"):
        exact_mean_var(_table(0), torch.zeros(3, 4, dtype=DTYPE))
    with pytest.raises(ValueError, match="policy_logprobs"):
        exact_mean_var(torch.zeros(3, 5, dtype=DTYPE), torch.zeros(3, 5, dtype=DTYPE))

"""Gaussian mixtures with exact smoothed scores (:mod:`ipm.distributions.gaussian`): scores as
gradients of log-densities, one σ per particle, closed forms, sampling, argument errors."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.distributions import Gaussian, GaussianMixture, five_gaussians


def random_mixture(k: int, d: int, seed: int, dtype=torch.float64) -> GaussianMixture:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(k, d, d, generator=g, dtype=dtype)
    covs = a @ a.transpose(1, 2) / d + 0.2 * torch.eye(d, dtype=dtype)
    return GaussianMixture(
        torch.rand(k, generator=g, dtype=dtype) + 0.1,
        2 * torch.randn(k, d, generator=g, dtype=dtype),
        covs,
    )


@given(
    k=st.integers(1, 4), d=st.integers(1, 5), seed=st.integers(0, 10_000), sigma=st.floats(0.0, 3.0)
)
def test_smoothed_mixture_score_is_gradient_of_log_density(k, d, seed, sigma):
    mix = random_mixture(k, d, seed)
    x = torch.randn(
        7, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed + 1)
    ).requires_grad_()
    (g,) = torch.autograd.grad(mix.log_prob(x, sigma).sum(), x)
    torch.testing.assert_close(mix.score(x.detach(), sigma), g, rtol=1e-10, atol=1e-12)


@given(k=st.integers(1, 4), d=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_per_particle_sigma_equals_each_particle_at_its_own_level(k, d, seed):
    """score / log_prob with sigma of shape (N,) score particle i under p * k_{sigma_i}: the
    same numbers as the one-level call made for each particle separately (float64)."""
    mix = random_mixture(k, d, seed)
    g = torch.Generator().manual_seed(seed + 1)
    x = 2 * torch.randn(6, d, dtype=torch.float64, generator=g)
    sig = torch.cat(
        [torch.zeros(1, dtype=torch.float64), 3 * torch.rand(5, generator=g, dtype=torch.float64)]
    )
    rows_s = torch.stack([mix.score(x[i : i + 1], float(sig[i]))[0] for i in range(6)])
    rows_l = torch.stack([mix.log_prob(x[i : i + 1], float(sig[i]))[0] for i in range(6)])
    torch.testing.assert_close(mix.score(x, sig), rows_s, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(mix.log_prob(x, sig), rows_l, rtol=1e-10, atol=1e-12)


def test_per_particle_sigma_rejects_bad_levels():
    mix = random_mixture(2, 2, 0)
    x = torch.zeros(3, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match=r"sigma: expected one level per particle, shape \(3,\)"):
        mix.score(x, torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="sigma: expected finite levels >= 0"):
        mix.score(x, torch.tensor([0.1, -1.0, 0.2], dtype=torch.float64))


def test_smoothed_gaussian_matches_closed_form_density():
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    cov = torch.tensor([[2.0, 0.3], [0.3, 0.5]], dtype=torch.float64)
    p = Gaussian(mean, cov)
    x = torch.randn(11, 2, dtype=torch.float64)
    ref = torch.distributions.MultivariateNormal(
        mean, cov + 0.7**2 * torch.eye(2, dtype=torch.float64)
    )
    torch.testing.assert_close(p.log_prob(x, 0.7), ref.log_prob(x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(p.smoothed(0.7).log_prob(x), ref.log_prob(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_mixture_sampling_moments(dtype):
    mix = random_mixture(3, 2, 7, dtype)
    x = mix.sample(200_000, sigma=0.5, generator=torch.Generator().manual_seed(0))
    assert x.dtype == dtype
    w = mix.weights
    mean = (w[:, None] * mix.means).sum(0)
    second = (
        w[:, None, None]
        * (
            mix.covs
            + 0.25 * torch.eye(2, dtype=dtype)
            + mix.means[:, :, None] * mix.means[:, None, :]
        )
    ).sum(0)
    cov = second - mean[:, None] * mean[None]
    torch.testing.assert_close(x.mean(0), mean, atol=0.03, rtol=0)
    torch.testing.assert_close(torch.cov(x.T), cov, atol=0.06, rtol=0)


def test_bad_inputs_name_the_argument():
    mix = five_gaussians()
    with pytest.raises(ValueError, match="x: expected particles of dimension D=2"):
        mix.score(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="sigma"):
        mix.score(torch.zeros(3, 2), sigma=-1.0)
    with pytest.raises(ValueError, match="x: expected finite"):
        mix.log_prob(torch.tensor([[float("nan"), 0.0]]))
    with pytest.raises(TypeError, match="x: expected dtype torch.float32"):
        mix.score(torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="covs: expected positive-definite"):
        GaussianMixture(torch.ones(1), torch.zeros(1, 2), -torch.eye(2)[None])
    with pytest.raises(ValueError, match="radius"):
        five_gaussians(radius=0.0)


@pytest.mark.parametrize("dim", [0, -1])
def test_standard_gaussian_needs_a_positive_dimension(dim):
    with pytest.raises(ValueError, match=f"dim: expected an integer >= 1, got {dim}"):
        Gaussian.standard(dim)

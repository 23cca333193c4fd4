"""The empirical distribution of a sample set, and its Gaussian-kernel smoothing."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_particles, check_positive
from ..kernels.sums import softmax_weighted_mean

__all__ = ["Empirical", "kde_score"]


def kde_score(
    x: Tensor, particles: Tensor, bandwidth: float | Tensor, *, chunk_size: int | None = None
) -> Tensor:
    """Score of the Gaussian kernel density estimate ρ̂ = (1/M) Σ_j N(x_j, h² I).

    ∇ log ρ̂(x) = (Σ_j w_j(x) x_j − x) / h², w(x) = softmax_j(−‖x − x_j‖² / (2h²)).
    This is exactly the score of the smoothed empirical law ρ_M ⋆ k_h; it is the particle
    estimate of ∇ log ρ_t used by the exact deterministic flows (Eq. 9) and by Eq. 19.
    Computed in chunks (no N×M matrix is held in memory); returns (N, D).
    """
    h = check_positive(bandwidth, "bandwidth")
    x = check_particles(x, "x")
    particles = check_particles(particles, "particles", x.shape[1])
    mean = softmax_weighted_mean(x, particles, 1.0 / (2 * h * h), chunk_size=chunk_size)
    return (mean - x) / (h * h)


class Empirical:
    """The empirical law (1/M) Σ_j δ_{x_j} of a sample set x of shape (M, D).

    ``score(x, sigma)`` is the exact score of the smoothed law (1/M) Σ_j N(x_j, σ² I) (needs
    σ > 0); ``sample(n)`` resamples with replacement (plus σ-noise if asked).
    """

    def __init__(self, samples: Tensor):
        self.samples = check_particles(samples, "samples")

    @property
    def dim(self) -> int:
        return self.samples.shape[1]

    @property
    def dtype(self) -> torch.dtype:
        return self.samples.dtype

    @property
    def device(self) -> torch.device:
        return self.samples.device

    def __len__(self) -> int:
        return self.samples.shape[0]

    def to(self, *args, **kwargs) -> Empirical:
        return Empirical(self.samples.to(*args, **kwargs))

    def sample(
        self, n: int, *, sigma: float | Tensor = 0.0, generator: torch.Generator | None = None
    ) -> Tensor:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        s = check_positive(sigma, "sigma", allow_zero=True)
        idx = torch.randint(len(self), (n,), generator=generator, device=self.device)
        x = self.samples[idx]
        if s > 0:
            x = x + s * torch.randn(
                x.shape, dtype=self.dtype, device=self.device, generator=generator
            )
        return x

    def score(self, x: Tensor, sigma: float | Tensor) -> Tensor:
        """∇ log (ρ_M ⋆ k_σ)(x), σ > 0; returns (N, D)."""
        return kde_score(x, self.samples, sigma)

    def log_prob(self, x: Tensor, sigma: float | Tensor) -> Tensor:
        """log (ρ_M ⋆ k_σ)(x), σ > 0; returns (N,)."""
        s = check_positive(sigma, "sigma")
        x = check_particles(x, "x", self.dim)
        mix = _as_mixture(self.samples, s)
        return mix.log_prob(x)


def _as_mixture(samples: Tensor, sigma: float):
    from .gaussian import GaussianMixture

    m, d = samples.shape
    eye = torch.eye(d, dtype=samples.dtype, device=samples.device)
    return GaussianMixture(
        torch.ones(m, dtype=samples.dtype, device=samples.device),
        samples,
        (sigma * sigma * eye).expand(m, d, d).clone(),
    )

"""Where a score ∇log q(x) comes from: exact (analytic), a kernel estimate from particles,
or any callable such as a learned network (Eq. 24: s(x, σ) = (d(x, σ) − x)/σ²).

Every source is called as ``source(x, sigma=None, particles=None)`` and returns (N, D); with
``sigma`` it gives the score of the smoothed law q ⋆ k_σ.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import Tensor

from .._checks import check_positive
from ..distributions.empirical import kde_score

__all__ = [
    "CallableScore",
    "ExactScore",
    "GaussianFitScore",
    "KernelDensityScore",
    "ScoreSource",
    "as_score",
    "silverman_bandwidth",
]


class ScoreSource(ABC):
    """A score ∇log q, optionally of the smoothed q ⋆ k_σ."""

    #: dimension of q when known
    dim: int | None = None
    #: whether the source needs the current particles (a particle estimate of ∇log ρ_t)
    needs_particles: bool = False

    @abstractmethod
    def __call__(
        self, x: Tensor, sigma: float | Tensor | None = None, particles: Tensor | None = None
    ) -> Tensor:
        """The score at x (N, D); ``sigma`` one level or, where the source allows it, one level
        per particle (N,)."""

    def to(self, device) -> ScoreSource:
        """Move what the source holds (networks, distribution parameters) to ``device``."""
        return self


class ExactScore(ScoreSource):
    """The analytic score of a distribution with a ``score(x, sigma)`` method
    (e.g. :class:`~ipm.distributions.GaussianMixture`: exact for every σ, one σ or one per
    particle). Evaluated in the distribution's dtype and returned in x's, so a float64 mixture
    can stand in for a learned float32 score (an oracle data score for Score GAN)."""

    def __init__(self, dist):
        if not callable(getattr(dist, "score", None)):
            raise TypeError(
                f"dist: expected an object with a score(x, sigma) method, got {type(dist).__name__}"
            )
        self.dist = dist
        self.dim = getattr(dist, "dim", None)

    def __call__(self, x, sigma=None, particles=None):
        dtype = getattr(self.dist, "dtype", x.dtype)
        out = self.dist.score(x.to(dtype), 0.0 if sigma is None else sigma)
        return out.to(x.dtype)

    def to(self, device) -> ExactScore:
        if callable(getattr(self.dist, "to", None)):
            self.dist = self.dist.to(device)
        return self

    def __repr__(self) -> str:
        return f"ExactScore({type(self.dist).__name__})"


def silverman_bandwidth(particles: Tensor) -> float:
    """Silverman's rule h = (4/(D+2))^{1/(D+4)} N^{−1/(D+4)} · mean per-axis std."""
    n, d = particles.shape
    std = float(particles.std(0).mean()) if n > 1 else 1.0
    return (4.0 / (d + 2)) ** (1.0 / (d + 4)) * n ** (-1.0 / (d + 4)) * max(std, 1e-12)


class KernelDensityScore(ScoreSource):
    """∇log ρ estimated from the particles by a Gaussian kernel density estimate.

    ∇log ρ̂ is the exact score of ρ_M ⋆ k_h (the particles' empirical law smoothed with
    bandwidth h). With ``sigma`` the estimate of ∇log(ρ ⋆ k_σ) is the score of
    ρ_M ⋆ k_{√(h² + σ²)}; ``bandwidth=0`` then gives the exact score of ρ_M ⋆ k_σ (Eq. 19).

    Args:
        bandwidth: h ≥ 0, or ``"silverman"`` to pick h from the particles at each call.
    """

    needs_particles = True

    def __init__(self, bandwidth: float | str = "silverman"):
        if bandwidth == "silverman":
            self.bandwidth: float | str = "silverman"
        else:
            self.bandwidth = check_positive(bandwidth, "bandwidth", allow_zero=True)

    def __call__(self, x, sigma=None, particles=None):
        if particles is None:
            raise ValueError(
                "particles: a kernel density score needs the current particles, got None"
            )
        h = silverman_bandwidth(particles) if self.bandwidth == "silverman" else self.bandwidth
        s = 0.0 if sigma is None else check_positive(sigma, "sigma", allow_zero=True)
        bw = math.sqrt(h * h + s * s)
        if bw <= 0:
            raise ValueError(
                "bandwidth: the score of an unsmoothed empirical law is undefined; use bandwidth > 0 or sigma > 0"
            )
        return kde_score(x, particles, bw)

    def __repr__(self) -> str:
        return f"KernelDensityScore(bandwidth={self.bandwidth!r})"


class GaussianFitScore(ScoreSource):
    """∇log ρ from a Gaussian fitted to the particles: −Ŝ⁻¹(x − m̂) (Ŝ + σ²I with sigma).

    Exact when ρ_t is Gaussian (e.g. Ornstein–Uhlenbeck flows towards a Gaussian), where a
    kernel estimate would be biased by its bandwidth.
    """

    needs_particles = True

    def __call__(self, x, sigma=None, particles=None):
        if particles is None:
            raise ValueError(
                "particles: a Gaussian-fit score needs the current particles, got None"
            )
        n, d = particles.shape
        if n <= d:
            raise ValueError(
                f"particles: a Gaussian fit in D={d} needs more than {d} particles, got {n}"
            )
        m = particles.mean(0)
        c = particles - m
        cov = c.T @ c / (n - 1)
        if sigma:
            cov = cov + check_positive(sigma, "sigma") ** 2 * torch.eye(
                d, dtype=cov.dtype, device=cov.device
            )
        return -torch.linalg.solve(cov, (x - m).T).T


class CallableScore(ScoreSource):
    """Any callable ``fn(x, sigma) -> (N, D)``, e.g. a trained score network."""

    def __init__(self, fn: Callable[[Tensor, float | None], Tensor], dim: int | None = None):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.dim = dim

    def __call__(self, x, sigma=None, particles=None):
        out = self.fn(x, sigma)
        if not isinstance(out, Tensor) or out.shape != x.shape:
            raise ValueError(
                f"score callable: expected an output of shape {tuple(x.shape)}, got "
                f"{tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__}"
            )
        return out


def as_score(obj) -> ScoreSource:
    """A :class:`ScoreSource` from a source, a distribution with ``score``, or a callable."""
    if isinstance(obj, ScoreSource):
        return obj
    if callable(getattr(obj, "score", None)):
        return ExactScore(obj)
    if callable(obj):
        return CallableScore(obj)
    raise TypeError(
        f"expected a ScoreSource, a distribution with .score or a callable, got {type(obj).__name__}"
    )

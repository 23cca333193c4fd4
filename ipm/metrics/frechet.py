"""Fréchet distance between Gaussian fits of features (FID), with streaming statistics.

FD² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁Σ₂)^{1/2}        (Heusel et al., 2017)

The cross term is computed without the non-symmetric ``sqrtm(Σ₁Σ₂)`` of the reference
implementations: Σ₁Σ₂ is similar to the symmetric PSD matrix S = Σ₁^{1/2} Σ₂ Σ₁^{1/2}
(Σ₁^{1/2} S Σ₁^{-1/2} = Σ₁Σ₂ where Σ₁ is invertible, and by continuity otherwise), so
tr (Σ₁Σ₂)^{1/2} = Σ_i √λ_i(S), two symmetric eigendecompositions in float64. Rank-deficient
covariances (fewer samples than features) need no ε-regularisation; eigenvalues at round-off
level (|λ| ≤ D·ε·max|λ|, ε the float64 epsilon) are taken as 0, so the null space of a
rank-deficient covariance adds no √(round-off) terms.

:class:`FeatureStats` accumulates the mean and covariance of features batch by batch in float64
(shifted sums, so no cancellation from a large mean), so FID over 50,000 samples never holds
more than one batch of features in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from .._checks import check_particles

__all__ = ["FeatureStats", "GaussianFit", "frechet_distance", "fid_from_features"]


@dataclass(frozen=True)
class GaussianFit:
    """Mean (D,) and covariance (D, D) of a feature set, float64, with the sample count."""

    mean: np.ndarray
    cov: np.ndarray
    n: int

    def __post_init__(self):
        d = self.mean.shape
        if self.mean.ndim != 1 or self.cov.shape != (d[0], d[0]):
            raise ValueError(
                f"GaussianFit: expected mean (D,) and cov (D, D), got {self.mean.shape} and "
                f"{self.cov.shape}"
            )
        if not (np.isfinite(self.mean).all() and np.isfinite(self.cov).all()):
            raise ValueError("GaussianFit: mean or covariance holds NaN/inf")

    def save(self, path: str | Path) -> None:
        """Write ``mean``, ``cov`` and ``n`` to an ``.npz`` file (a reference-statistics cache)."""
        np.savez(Path(path), mean=self.mean, cov=self.cov, n=np.int64(self.n))

    @classmethod
    def load(cls, path: str | Path) -> GaussianFit:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"feature statistics: no file {path}")
        with np.load(path) as f:
            return cls(f["mean"].astype(np.float64), f["cov"].astype(np.float64), int(f["n"]))


def _psd_eigenvalues(w: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric PSD matrix with those at round-off level set to 0."""
    tol = w.size * np.finfo(np.float64).eps * float(np.abs(w).max(initial=0.0))
    return np.where(w > tol, w, 0.0)


def _sym_sqrt(a: np.ndarray) -> np.ndarray:
    """Square root of a symmetric PSD matrix by eigendecomposition (round-off eigenvalues → 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(_psd_eigenvalues(w))) @ v.T


def frechet_distance(a: GaussianFit, b: GaussianFit) -> float:
    """FD² between the Gaussians N(μ_a, Σ_a) and N(μ_b, Σ_b) (the quantity called FID), ≥ 0.

    Symmetric in (a, b) up to round-off; 0 for equal fits.
    """
    if a.mean.shape != b.mean.shape:
        raise ValueError(
            f"frechet_distance: feature dimensions differ ({a.mean.shape[0]} vs "
            f"{b.mean.shape[0]}): the two fits come from different feature spaces"
        )
    diff = a.mean - b.mean
    r = _sym_sqrt(a.cov)
    s = r @ b.cov @ r
    eig = np.linalg.eigvalsh((s + s.T) / 2)
    cross = float(np.sqrt(_psd_eigenvalues(eig)).sum())
    fd = float(diff @ diff) + float(np.trace(a.cov)) + float(np.trace(b.cov)) - 2.0 * cross
    return max(fd, 0.0)


class FeatureStats:
    """Streaming mean and (unbiased) covariance of feature batches (N, D), in float64.

    Sums are taken about a shift (the first batch's mean): Σ(x − c) and Σ(x − c)(x − c)ᵀ,
    so a large common offset does not cancel catastrophically in the covariance.
    """

    def __init__(self, dim: int):
        if int(dim) < 1:
            raise ValueError(f"FeatureStats: dim must be ≥ 1, got {dim}")
        self.dim = int(dim)
        self.n = 0
        self._shift: Tensor | None = None
        self._sum = torch.zeros(self.dim, dtype=torch.float64)
        self._outer = torch.zeros(self.dim, self.dim, dtype=torch.float64)

    def update(self, features: Tensor) -> FeatureStats:
        f = check_particles(features, "features", self.dim).detach().to("cpu", torch.float64)
        if self._shift is None:
            self._shift = f.mean(0)
        c = f - self._shift
        self._sum += c.sum(0)
        self._outer += c.T @ c
        self.n += f.shape[0]
        return self

    def fit(self) -> GaussianFit:
        if self.n < 2:
            raise ValueError(
                f"FeatureStats: need at least 2 samples for a covariance, got {self.n}"
            )
        m = self._sum / self.n
        cov = (self._outer - self.n * torch.outer(m, m)) / (self.n - 1)
        return GaussianFit((m + self._shift).numpy(), cov.numpy(), self.n)


def fid_from_features(x: Tensor, y: Tensor) -> float:
    """FD² between the Gaussian fits of two feature sets (N, D) and (M, D)."""
    x = check_particles(x, "x")
    y = check_particles(y, "y", x.shape[1])
    return frechet_distance(
        FeatureStats(x.shape[1]).update(x).fit(), FeatureStats(y.shape[1]).update(y).fit()
    )

"""Kernel Inception Distance (Bińkowski et al., 2018): unbiased MMD² of features under the cubic
polynomial kernel k(x, y) = (xᵀy / D + 1)³, averaged over random subsets.

Unlike FID, KID is an unbiased estimator: its expectation does not depend on the sample count,
and it is 0 in expectation for equal laws (single estimates can be negative).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_particles, check_positive_int

__all__ = ["KID", "kid", "polynomial_mmd2_unbiased"]


@dataclass(frozen=True)
class KID:
    """Mean and std of the unbiased MMD² over ``subsets`` subsets of ``subset_size`` points."""

    mean: float
    std: float
    subsets: int
    subset_size: int


def polynomial_mmd2_unbiased(x: Tensor, y: Tensor, degree: int = 3) -> Tensor:
    """Unbiased MMD² with k(x, y) = (xᵀy / D + 1)^degree (diagonals dropped), in float64."""
    x = check_particles(x, "x").double()
    y = check_particles(y, "y", x.shape[1]).to(x)
    m, n, d = x.shape[0], y.shape[0], x.shape[1]
    if m < 2 or n < 2:
        raise ValueError(f"polynomial_mmd2_unbiased: need ≥ 2 points per set, got {m} and {n}")
    kxx = (x @ x.T / d + 1) ** degree
    kyy = (y @ y.T / d + 1) ** degree
    kxy = (x @ y.T / d + 1) ** degree
    sxx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    syy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return sxx + syy - 2 * kxy.mean()


def kid(
    x: Tensor,
    y: Tensor,
    *,
    subsets: int = 100,
    subset_size: int = 1000,
    generator: torch.Generator | None = None,
) -> KID:
    """KID between feature sets x (N, D) and y (M, D); subsets of min(subset_size, N, M) points."""
    x = check_particles(x, "x")
    y = check_particles(y, "y", x.shape[1])
    check_positive_int(subsets, "subsets")
    size = min(check_positive_int(subset_size, "subset_size"), x.shape[0], y.shape[0])
    vals = []
    for _ in range(subsets):
        i = torch.randperm(x.shape[0], generator=generator)[:size]
        j = torch.randperm(y.shape[0], generator=generator)[:size]
        vals.append(polynomial_mmd2_unbiased(x[i], y[j]))
    v = torch.stack(vals)
    std = float(v.std()) if subsets > 1 else 0.0
    return KID(float(v.mean()), std, subsets, size)

"""Latent interpolations for Gaussian priors (Leśniak et al., 2018; the paper's Appendix C.3).

For z₀, z₁ ~ N(0, I_D) and t ∈ [0, 1]:

- ``linear``: (1 − t) z₀ + t z₁ (its midpoints are too short: ‖z‖ shrinks by up to √2);
- ``spherical``: slerp on the great circle through z₀, z₁ (norms interpolated linearly);
- ``cauchy_linear``: each coordinate mapped to a standard Cauchy variable by
  c = tan(π(Φ(z) − ½)), interpolated linearly there (a linear mix of independent Cauchy
  variables with weights summing to 1 is again standard Cauchy, so every point keeps the
  prior's law), and mapped back by Φ⁻¹;
- ``spherical_cauchy_linear``: the direction by slerp of the unit vectors, the norm by the
  Cauchy-linear rule applied to the χ_D-distributed radius (F_χ then the Cauchy quantile).

All take z0, z1 (N, D) and ts (T,), and return (N, T, D).
"""

from __future__ import annotations

import math

import torch
from scipy import stats
from torch import Tensor

__all__ = ["INTERPOLATIONS", "interpolate"]

INTERPOLATIONS = ("linear", "spherical", "cauchy_linear", "spherical_cauchy_linear")
_EPS = 1e-12


def _slerp(u0: Tensor, u1: Tensor, ts: Tensor) -> Tensor:
    """Great-circle interpolation of unit vectors u0, u1 (N, D) → (N, T, D)."""
    cos = (u0 * u1).sum(-1).clamp(-1 + 1e-7, 1 - 1e-7)
    om = torch.arccos(cos)[:, None, None]  # (N, 1, 1)
    t = ts[None, :, None]
    so = torch.sin(om)
    return (torch.sin((1 - t) * om) / so) * u0[:, None] + (torch.sin(t * om) / so) * u1[:, None]


def _to_cauchy(u: Tensor) -> Tensor:
    """Uniform (0, 1) → standard Cauchy."""
    return torch.tan(math.pi * (u.clamp(_EPS, 1 - _EPS) - 0.5))


def _from_cauchy(c: Tensor) -> Tensor:
    return torch.arctan(c) / math.pi + 0.5


def interpolate(z0: Tensor, z1: Tensor, ts: Tensor, method: str = "linear") -> Tensor:
    if z0.shape != z1.shape or z0.ndim != 2:
        raise ValueError(f"z0, z1: expected equal shapes (N, D), got {z0.shape} and {z1.shape}")
    ts = ts.to(z0)
    if ts.ndim != 1 or ts.min() < 0 or ts.max() > 1:
        raise ValueError(f"ts: expected a vector of times in [0, 1], got {ts}")
    t = ts[None, :, None]
    if method == "linear":
        return (1 - t) * z0[:, None] + t * z1[:, None]
    if method == "cauchy_linear":
        normal = torch.distributions.Normal(torch.zeros((), dtype=z0.dtype), 1.0)
        c0, c1 = _to_cauchy(normal.cdf(z0)), _to_cauchy(normal.cdf(z1))
        c = (1 - t) * c0[:, None] + t * c1[:, None]
        return normal.icdf(_from_cauchy(c).clamp(_EPS, 1 - _EPS))
    r0, r1 = z0.norm(dim=1), z1.norm(dim=1)
    dirs = _slerp(z0 / (r0[:, None] + _EPS), z1 / (r1[:, None] + _EPS), ts)
    if method == "spherical":
        r = (1 - ts[None]) * r0[:, None] + ts[None] * r1[:, None]
        return dirs * r[..., None]
    if method == "spherical_cauchy_linear":
        chi = stats.chi(z0.shape[1])
        to_c = lambda r: _to_cauchy(torch.as_tensor(chi.cdf(r.double().cpu().numpy())))  # noqa: E731
        c = (1 - ts[None].double().cpu()) * to_c(r0)[:, None] + ts[None].double().cpu() * to_c(r1)[
            :, None
        ]
        u = _from_cauchy(c).clamp(_EPS, 1 - _EPS).numpy()
        r = torch.as_tensor(chi.ppf(u)).to(z0)
        return dirs * r[..., None]
    raise ValueError(f"method: expected one of {INTERPOLATIONS}, got {method!r}")

"""Time grids (float64, as in NVlabs/edm): uniform, and EDM's polynomial σ grid (Eq. 28 on a
uniform u, :func:`ipm.schedules.edm_sigma_from_uniform`)."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_positive, check_positive_int
from ..schedules import edm_sigma_from_uniform

__all__ = ["edm_grid", "uniform_grid"]


def uniform_grid(t0: float, t1: float, n_steps: int, *, device=None) -> Tensor:
    """n_steps + 1 equally spaced times from t0 to t1 (either direction), float64."""
    n_steps = check_positive_int(n_steps, "n_steps")
    for name, v in (("t0", t0), ("t1", t1)):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError(f"{name}: expected a real number, got {type(v).__name__}")
    if t0 == t1:
        raise ValueError(f"t1: expected t1 != t0, got t0 = t1 = {t0}")
    return torch.linspace(float(t0), float(t1), n_steps + 1, dtype=torch.float64, device=device)


def edm_grid(
    n_steps: int,
    sigma_min: float = 0.002,
    sigma_max: float = 80.0,
    rho: float = 7.0,
    *,
    append_zero: bool = True,
    device=None,
) -> Tensor:
    """EDM's noise levels σ_i = (σ_max^{1/ρ} + i/(n−1)(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, i < n.

    ``n_steps`` is EDM's ``num_steps``: n levels from σ_max down to σ_min, then σ_n = 0 when
    ``append_zero`` (n solver steps; Heun then costs 2n − 1 evaluations). float64, decreasing.
    """
    n = check_positive_int(n_steps, "n_steps")
    smin = check_positive(sigma_min, "sigma_min")
    smax = check_positive(sigma_max, "sigma_max")
    rho = check_positive(rho, "rho")
    if smin >= smax:
        raise ValueError(f"sigma_min: expected sigma_min < sigma_max = {smax}, got {smin}")
    if n == 1:
        sig = torch.tensor([smax], dtype=torch.float64, device=device)
    else:
        i = torch.arange(n, dtype=torch.float64, device=device)
        sig = edm_sigma_from_uniform(i / (n - 1), smin, smax, rho)
    if append_zero:
        sig = torch.cat([sig, sig.new_zeros(1)])
    elif n == 1:
        raise ValueError("n_steps: without append_zero a grid needs n_steps >= 2")
    return sig

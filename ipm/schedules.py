"""Noise schedules: the laws of σ used to train denoisers, and the forward diffusion of DMMD.

* :func:`edm_sigma_from_uniform` — σ = (σ_max^{1/ρ} + u(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for u ∈ [0, 1]
  (Eq. 28; Karras et al. 2022, Eq. 5): with u ~ U[0, 1], the σ law of Score GAN and the SD flow;
  on u = i/(n − 1), EDM's sampling grid (:func:`ipm.solvers.edm_grid`).
* :func:`lognormal_sigma` — ln σ ~ N(P_mean, P_std²), EDM's training law (Karras et al. 2022).
* :func:`vp_schedule` — the cosine variance-preserving diffusion x_t = α_t x + σ_t ε.
"""

from __future__ import annotations

import math

from torch import Tensor

__all__ = ["edm_sigma_from_uniform", "lognormal_sigma", "vp_schedule"]


def edm_sigma_from_uniform(u: Tensor | float, sigma_min: float, sigma_max: float, rho: float):
    """σ = (σ_max^{1/ρ} + u (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ for u ∈ [0, 1] (Eq. 28; Karras Eq. 5)."""
    a, b = sigma_max ** (1 / rho), sigma_min ** (1 / rho)
    return (a + u * (b - a)) ** rho


def lognormal_sigma(n: Tensor, p_mean: float, p_std: float) -> Tensor:
    """σ = exp(P_mean + P_std·n) for standard normal draws n: EDM's training noise levels."""
    return (p_mean + p_std * n).exp()


def vp_schedule(t: Tensor) -> tuple[Tensor, Tensor]:
    """(α_t, σ_t) = (cos(πt/2), sin(πt/2)): x_t = α_t x + σ_t ε, α_t² + σ_t² = 1; t = 1 is
    pure N(0, I) noise (the forward diffusion of DMMD, Galashov et al. 2024)."""
    a = 0.5 * math.pi * t
    return a.cos(), a.sin()

"""Entropy flow (Table 2): F(ρ) = E_ρ log ρ → h_ρ = −log ρ, ∇h = −∇log ρ."""

from __future__ import annotations

from .base import Flow
from .scores import KernelDensityScore, ScoreSource, as_score

__all__ = ["Entropy"]


class Entropy(Flow):
    """∇h = −∇log ρ_t: particles spread out (the negative-entropy functional decreases).

    Args:
        model: score of ρ_t; default a Gaussian-kernel estimate from the particles.
    """

    def __init__(self, model: ScoreSource | None = None):
        self.model = KernelDensityScore() if model is None else as_score(model)

    def _field(self, x, t, particles):
        return -self.model(x, particles=particles)

    def __repr__(self) -> str:
        return f"Entropy({self.model!r})"

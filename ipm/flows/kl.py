"""Forward KL and f-divergence flows (Table 2)."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Flow
from .scores import KernelDensityScore, ScoreSource, as_score

__all__ = ["FDivergence", "FDivergenceKind", "ForwardKL", "analytic_log_ratio"]


class ForwardKL(Flow):
    """Forward KL, F(ρ) = E_ρ log(ρ/p) → h_ρ = −log(ρ/p), ∇h = ∇log p − ∇log ρ (Table 2).

    Args:
        target: score of p (a distribution, a :class:`ScoreSource` or a callable).
        model: score of ρ_t; default a Gaussian-kernel estimate from the particles.
    """

    def __init__(self, target, model: ScoreSource | None = None):
        self.target = as_score(target)
        self.model = KernelDensityScore() if model is None else as_score(model)
        self.dim = self.target.dim

    def _field(self, x, t, particles):
        return self.target(x) - self.model(x, particles=particles)

    def __repr__(self) -> str:
        return f"ForwardKL({self.target!r}, {self.model!r})"


class FDivergenceKind(str, Enum):
    """D_f(ρ‖p) = E_p f(ρ/p); each member gives f'(r) as a function of log r (stable)."""

    KL = "kl"  # f(r) = r log r            → KL(ρ‖p); f'(r) = log r + 1
    REVERSE_KL = "reverse_kl"  # f(r) = −log r → KL(p‖ρ); f'(r) = −1/r
    JENSEN_SHANNON = "js"  # f(r) = ½[r log r − (r+1) log((r+1)/2)]; f'(r) = ½ log(2r/(r+1))
    CHI2 = "chi2"  # f(r) = (r − 1)² (Pearson χ²(ρ‖p)); f'(r) = 2(r − 1)

    def f_prime(self, log_r: Tensor) -> Tensor:
        if self is FDivergenceKind.KL:
            return log_r + 1
        if self is FDivergenceKind.REVERSE_KL:
            return -torch.exp(-log_r)
        if self is FDivergenceKind.JENSEN_SHANNON:
            return 0.5 * (
                torch.log(torch.tensor(2.0, dtype=log_r.dtype)) + log_r - F.softplus(log_r)
            )
        return 2 * (torch.exp(log_r) - 1)


def analytic_log_ratio(rho, p) -> Callable[[Tensor, Tensor], Tensor]:
    """log(ρ/p)(x) from two distributions with ``log_prob`` (ignores the particles)."""

    def log_ratio(x: Tensor, particles: Tensor) -> Tensor:
        return rho.log_prob(x) - p.log_prob(x)

    return log_ratio


class FDivergence(Flow):
    """f-divergence F(ρ) = E_p f(ρ/p) → h_ρ = −f'(ρ/p) (Table 2), ∇h by autograd in x.

    Args:
        kind: which f (see :class:`FDivergenceKind`).
        log_ratio: ``log_ratio(x, particles) -> (N,)`` estimate of log(ρ_t/p)(x), differentiable
            in x: analytic (:func:`analytic_log_ratio`) or an estimator (e.g. a classifier's
            logit, Finding 5).
    """

    def __init__(self, kind: FDivergenceKind | str, log_ratio: Callable[[Tensor, Tensor], Tensor]):
        try:
            self.kind = FDivergenceKind(kind)
        except ValueError:
            choices = ", ".join(repr(k.value) for k in FDivergenceKind)
            raise ValueError(f"kind: expected one of {choices}, got {kind!r}") from None
        if not callable(log_ratio):
            raise TypeError(f"log_ratio: expected a callable, got {type(log_ratio).__name__}")
        self.log_ratio = log_ratio

    def h(self, x: Tensor, particles: Tensor) -> Tensor:
        """h_ρ(x) = −f'(ρ/p)(x), shape (N,)."""
        return -self.kind.f_prime(self.log_ratio(x, particles))

    def _field(self, x, t, particles):
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            h = self.h(xg, particles.detach())
            if h.shape != (x.shape[0],):
                raise ValueError(
                    f"log_ratio: expected an output of shape ({x.shape[0]},), got {tuple(h.shape)}"
                )
            (g,) = torch.autograd.grad(h.sum(), xg)
        return g

    def __repr__(self) -> str:
        return f"FDivergence({self.kind.value!r})"

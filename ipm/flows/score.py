"""Score-based diffusion as particle models (Finding 3): NCSN, EDM, the α-family, and the
score difference (Eq. 4–9, 19, 21, 26).

Time conventions.
* NCSN / Langevin (Eq. 4, 6, 9 left): t is the Langevin time; σ(t) is a constant or a
  callable schedule.
* EDM (Eq. 7, 8, 9 right, 21): the time variable *is* σ, with σ(t) = t as in Karras et al.,
  and generation integrates from σ_max down to σ_min on a decreasing grid. With the paper's
  errata (read σ' as |σ'|), dt > 0 in paper time is dσ = −|dσ| here, so e.g. Eq. 8
  dx = |σ'|σ ∇log p_σ dt reads dx/dσ = −σ ∇log p_σ(x), and a noise term √(2|σ'|σ) dW has
  variance 2σ|dσ|: diffusion g(σ) = √(2σ) per unit |dσ|.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from .._checks import check_positive
from .base import Flow
from .scores import KernelDensityScore, ScoreSource, as_score

__all__ = [
    "EDMFamily",
    "EDMFlow",
    "EDMProbabilityFlow",
    "Langevin",
    "NCSNFlow",
    "NoisedField",
    "ScoreDifference",
]


def _sigma_of(sigma, t, who: str):
    """σ of a flow: its constant, its schedule σ(t), or t itself (``sigma=None``). t may be one
    time per particle, shape (N,) (one σ per particle, as Eq. 27 draws them)."""
    if sigma is None:
        if t is None:
            raise ValueError(f"t: {who} reads σ from the time t; got t=None")
        if isinstance(t, Tensor) and t.ndim == 1:
            if not bool((t > 0).all()) or not bool(torch.isfinite(t).all()):
                raise ValueError(f"t (= sigma): expected finite values > 0, got {t}")
            return t
        return check_positive(t, "t (= sigma)")
    if callable(sigma):
        if t is None:
            raise ValueError(f"t: {who} has a σ schedule σ(t); got t=None")
        return check_positive(sigma(t), "sigma(t)")
    return check_positive(sigma, "sigma")


def _column(s):
    """A per-particle σ (N,) as a column (N, 1) that scales rows; a number as it is."""
    return s[:, None] if isinstance(s, Tensor) else s


class Langevin(Flow):
    """Langevin dynamics dx = ∇log[p ⋆ k_σ](x) dt + √2 dW (Eq. 4; Eq. 6 with σ > 0).

    Stochastic: simulate with :class:`~ipm.solvers.EulerMaruyama`. ``sigma`` is a constant,
    a schedule t ↦ σ(t), or 0 for the unsmoothed Eq. 4.
    """

    def __init__(self, data_score, sigma: float | Callable[[float], float] = 0.0):
        self.data_score = as_score(data_score)
        self.dim = self.data_score.dim
        self.sigma = sigma if callable(sigma) else check_positive(sigma, "sigma", allow_zero=True)

    def _s(self, t):
        return self.sigma(t) if callable(self.sigma) else self.sigma

    def _field(self, x, t, particles):
        return self.data_score(x, self._s(t))

    def diffusion(self, t):
        return math.sqrt(2.0)

    @property
    def stochastic(self) -> bool:
        return True


class NCSNFlow(Flow):
    """Exact deterministic equivalent of Eq. 6 (Eq. 9, left): dx/dt = ∇log[(p ⋆ k_σ)/ρ_t](x).

    A PM with h = log[p ⋆ k_σ] − log ρ_t (a forward-KL flow), T = ∞. ∇log ρ_t comes from
    ``model_score`` (default: a Gaussian-kernel estimate from the particles).
    """

    def __init__(
        self,
        data_score,
        sigma: float | Callable[[float], float],
        model_score: ScoreSource | None = None,
    ):
        self.data_score = as_score(data_score)
        self.model_score = KernelDensityScore() if model_score is None else as_score(model_score)
        self.dim = self.data_score.dim
        self.sigma = sigma if callable(sigma) else check_positive(sigma, "sigma", allow_zero=True)

    def _field(self, x, t, particles):
        s = self.sigma(t) if callable(self.sigma) else self.sigma
        return self.data_score(x, s) - self.model_score(x, particles=particles)


class EDMProbabilityFlow(Flow):
    """EDM probability-flow ODE (Eq. 8) in σ-time: dx/dσ = −σ ∇log[p ⋆ k_σ](x).

    Valid when ρ_σ = p ⋆ k_σ exactly (it ignores the particles).
    """

    def __init__(self, data_score):
        self.data_score = as_score(data_score)
        self.dim = self.data_score.dim

    def _field(self, x, t, particles):
        s = _sigma_of(None, t, "EDMProbabilityFlow")
        return -_column(s) * self.data_score(x, s)


class EDMFamily(Flow):
    """The α-family sharing the marginals of Eq. 7 and Eq. 9 (Eq. 21), in σ-time:

        dx = −σ [2∇log(p ⋆ k_σ) − (1 − α)∇log ρ_σ] dσ + √(2ασ) dW_{|σ|}.

    α = 1 is the EDM SDE (Eq. 7, no ∇log ρ needed); α = 0 is the exact deterministic flow
    (Eq. 9, right). Note: the paper's Eq. 21 prints the ∇log ρ_t coefficient as −ασ'σ; with it
    α = 1 would not be Eq. 7 nor α = 0 Eq. 9. The Fokker–Planck equation of the SDE above,
    ∂ρ = −∇·(ρ[b − D∇log ρ]) with D = ασ'σ, gives the common velocity σ'σ(2∇log p_σ − ∇log ρ)
    of Eq. 9 for every α only with the coefficient −(1 − α)σ'σ, which we implement (and which
    agrees with the paper's text: α = 1 is Eq. 7 and α = 0 is Eq. 9).
    """

    def __init__(self, data_score, alpha: float, model_score: ScoreSource | None = None):
        if (
            isinstance(alpha, bool)
            or not isinstance(alpha, (int, float))
            or not 0.0 <= alpha <= 1.0
        ):
            raise ValueError(f"alpha: expected a number in [0, 1], got {alpha!r}")
        self.alpha = float(alpha)
        self.data_score = as_score(data_score)
        self.dim = self.data_score.dim
        if self.alpha < 1.0:
            self.model_score = (
                KernelDensityScore() if model_score is None else as_score(model_score)
            )
        else:
            self.model_score = None

    def _field(self, x, t, particles):
        s = _sigma_of(None, t, "EDMFamily")
        v = 2.0 * self.data_score(x, s)
        if self.model_score is not None:
            v = v - (1.0 - self.alpha) * self.model_score(x, particles=particles)
        return -_column(s) * v

    def diffusion(self, t):
        s = _sigma_of(None, t, "EDMFamily")
        if isinstance(s, Tensor):
            raise ValueError("t: the SDE's diffusion takes one σ for all particles")
        return math.sqrt(2.0 * self.alpha * s)

    @property
    def stochastic(self) -> bool:
        return self.alpha > 0


class EDMFlow(EDMFamily):
    """Exact deterministic equivalent of the EDM SDE (Eq. 9, right), in σ-time:
    dx/dσ = −σ [2∇log(p ⋆ k_σ) − ∇log ρ_σ](x); the α = 0 member of :class:`EDMFamily`.
    A PM with h = σ'σ(2 log[p ⋆ k_σ] − log ρ_t), T < ∞.
    """

    def __init__(self, data_score, model_score: ScoreSource | None = None):
        super().__init__(data_score, 0.0, model_score)


class ScoreDifference(Flow):
    """Score GAN / SD flow field (Eq. 19, generalised in Eq. 26):

        h_ρ = μ_p log[p ⋆ k_σ] − μ_ρ log[ρ_t ⋆ k_σ],
        ∇h = μ_p ∇log(p ⋆ k_σ) − μ_ρ ∇log(ρ_t ⋆ k_σ).

    With μ_p = μ_ρ = 1 this is the score-difference (SD) flow of Weber (2023), the steepest
    descent of KL(ρ ⋆ k_σ ‖ p ⋆ k_σ). ``sigma=None`` reads σ from t, one σ for all particles
    or one per particle (t of shape (N,), as Eq. 27 draws σ ~ p_σ per sample, Eq. 28).
    ``model_score`` defaults to the exact score of the particles' empirical law smoothed by σ
    (one σ for all particles).
    """

    def __init__(
        self,
        data_score,
        model_score: ScoreSource | None = None,
        sigma: float | None = None,
        *,
        mu_p: float = 1.0,
        mu_rho: float = 1.0,
    ):
        self.data_score = as_score(data_score)
        self.model_score = KernelDensityScore(0.0) if model_score is None else as_score(model_score)
        self.dim = self.data_score.dim
        self.sigma = None if sigma is None else check_positive(sigma, "sigma")
        self.mu_p = check_positive(mu_p, "mu_p", allow_zero=True)
        self.mu_rho = check_positive(mu_rho, "mu_rho", allow_zero=True)

    def _field(self, x, t, particles):
        s = _sigma_of(self.sigma, t, "ScoreDifference")
        return self.mu_p * self.data_score(x, s) - self.mu_rho * self.model_score(x, s, particles)


class NoisedField(Flow):
    """A flow's field taken at noised points and scaled by a power of the noise level:

        v(x) = σ^k ∇h(x + σε; σ),   one (σ, ε) per particle, drawn before the step.

    k = 1 is the practical Score GAN target of Eq. 27, σ (μ_p s^p − μ_ρ s^ρ)(g(z) + σε, σ), for a
    :class:`ScoreDifference` with σ read from t; k = 2 is the SD flow's move in the form of
    Weber (2023), σ²(∇log p̃_σ − ∇log q̃_σ)(y + σε) = D_p − D_q, a difference of denoisers.

    Args:
        flow: a flow whose time is σ (``flow.field(x, sigma)`` with one σ per particle).
        sigma: (N,) noise levels; eps: (N, D) standard normal draws.
        power: k.
    """

    def __init__(self, flow: Flow, sigma: Tensor, eps: Tensor, *, power: int = 1):
        if not isinstance(flow, Flow):
            raise TypeError(f"flow: expected an ipm.flows.Flow, got {type(flow).__name__}")
        if sigma.ndim != 1 or eps.ndim != 2 or eps.shape[0] != sigma.shape[0]:
            raise ValueError(
                f"sigma, eps: expected shapes (N,) and (N, D), got {tuple(sigma.shape)} and "
                f"{tuple(eps.shape)}"
            )
        self.flow, self.sigma, self.eps, self.power = flow, sigma, eps, int(power)
        self.dim = flow.dim

    def _field(self, x, t, particles):
        s = self.sigma
        v = self.flow.field(x + s[:, None] * self.eps, s, particles)
        return (s if self.power == 1 else s**self.power)[:, None] * v

"""Particle models (Definition 1): x_0 ~ π, dx_t = ∇h_{ρ_t}(x_t) dt (Eq. 1)."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_particles, check_positive_int
from ..flows.base import Flow
from ..solvers.integrate import SolverResult

__all__ = ["ParticleModel"]


class ParticleModel:
    """A PM: a flow (what h_ρ is) × a solver (how particles move) × a prior π = ρ_0.

    The law ρ_t is represented by the particles themselves: the velocity of particle x_i is
    ``flow.field(x_i, t, particles=x)``. A stochastic flow (Langevin, EDM SDE) needs
    :class:`~ipm.solvers.EulerMaruyama`.

    Args:
        flow: the field ∇h_ρ.
        solver: an :class:`~ipm.solvers.Euler`, :class:`~ipm.solvers.Heun` or
            :class:`~ipm.solvers.EulerMaruyama` holding its time grid.
        prior: anything with ``sample(n, generator=...)`` (e.g. a Gaussian); only needed by
            :meth:`sample`.
    """

    def __init__(self, flow: Flow, solver, prior=None):
        if not isinstance(flow, Flow):
            raise TypeError(f"flow: expected an ipm.flows.Flow, got {type(flow).__name__}")
        if isinstance(solver, Tensor):
            raise TypeError(
                f"solver: expected an ipm.solvers solver, got a tensor of shape "
                f"{tuple(solver.shape)}; for a time grid, pass Euler(grid) (or Heun, EulerMaruyama)"
            )
        if not callable(getattr(solver, "solve", None)):
            raise TypeError(
                f"solver: expected an ipm.solvers solver (Euler, Heun, EulerMaruyama), got {type(solver).__name__}"
            )
        if flow.stochastic and not getattr(solver, "stochastic", False):
            raise ValueError(
                f"solver: {type(flow).__name__} is a stochastic flow (an SDE); use EulerMaruyama, "
                f"got {type(solver).__name__}"
            )
        if prior is not None and not callable(getattr(prior, "sample", None)):
            raise TypeError(f"prior: expected an object with sample(n), got {type(prior).__name__}")
        self.flow, self.solver, self.prior = flow, solver, prior

    def velocity(self, x: Tensor, t: float | None) -> Tensor:
        """∇h_{ρ_t}(x) with ρ_t the empirical law of x."""
        return self.flow.field(x, t, particles=x)

    def evolve(
        self,
        x0: Tensor,
        *,
        generator: torch.Generator | None = None,
        stop: Tensor | None = None,
    ) -> SolverResult:
        """Move particles x0 (N, D) along the flow over the solver's grid; with ``stop`` (N,)
        integers, particle j only for its first stop_j steps (Euler, for flows that do not
        couple particles: the discriminator flow)."""
        x0 = check_particles(x0, "x0", self.flow.dim)
        kw = {} if stop is None else {"stop": stop}
        return self.solver.solve(
            self.velocity, x0, diffusion=self.flow.diffusion, generator=generator, **kw
        )

    def step(self, x: Tensor, t: float | Tensor | None, dt: float) -> Tensor:
        """One solver step of size dt from time t (a time per particle (N,), or one for all)."""
        if not callable(getattr(self.solver, "step", None)):
            raise TypeError(
                f"solver: {type(self.solver).__name__} takes no single steps; use Euler"
            )
        return self.solver.step(self.velocity, check_particles(x, "x", self.flow.dim), t, dt)

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """Draw n particles from the prior and return where the flow takes them, (n, D)."""
        check_positive_int(n, "n")
        if self.prior is None:
            raise ValueError("prior: sample(n) needs a prior; pass prior= or call evolve(x0)")
        return self.evolve(self.prior.sample(n, generator=generator), generator=generator).x

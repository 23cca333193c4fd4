"""ODE and SDE integrators for particle models: Euler, Heun, Euler–Maruyama.

A velocity is a callable ``velocity(x, t) -> (N, D)``; grids are 1-D tensors of times (any
direction; dt = t_{k+1} − t_k may be negative, as on EDM's decreasing σ grid). The state is
kept in the dtype of x0; times are float64.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .._checks import check_finite, check_particles

__all__ = ["Euler", "EulerMaruyama", "Heun", "SolverResult", "euler", "euler_maruyama", "heun"]

Velocity = Callable[[Tensor, float], Tensor]
Diffusion = Callable[[float], float]


@dataclass(frozen=True)
class SolverResult:
    """Result of an integration.

    Attributes:
        x: (N, D) particles at the last time.
        times: (K + 1,) float64 grid that was integrated over.
        trajectory: (K + 1, N, D) particles at every grid time, or None if not recorded.
        nfe: number of velocity evaluations.
    """

    x: Tensor
    times: Tensor
    trajectory: Tensor | None = None
    nfe: int = 0


def _check_grid(grid: object) -> Tensor:
    if not isinstance(grid, Tensor) or grid.ndim != 1 or grid.numel() < 2:
        raise ValueError(
            f"grid: expected a 1-D tensor of at least 2 times, got "
            f"{tuple(grid.shape) if isinstance(grid, Tensor) else type(grid).__name__}"
        )
    grid = grid.to(torch.float64)
    check_finite(grid, "grid")
    d = grid[1:] - grid[:-1]
    if not (bool((d > 0).all()) or bool((d < 0).all())):
        raise ValueError("grid: expected strictly monotone times")
    return grid


def _steps(grid: Tensor, progress: bool, desc: str):
    ts = grid.tolist()
    it = range(len(ts) - 1)
    if progress:
        it = tqdm(it, desc=desc, leave=False)
    for k in it:
        yield ts[k], ts[k + 1]


def _velocity(velocity: Velocity, x: Tensor, t: float, k: int) -> Tensor:
    v = velocity(x, t)
    if v.shape != x.shape:
        raise ValueError(
            f"velocity: expected an output of shape {tuple(x.shape)}, got {tuple(v.shape)}"
        )
    if not bool(torch.isfinite(v).all()):
        raise ValueError(f"velocity: NaN or inf in the field at step {k} (t = {t:.6g})")
    return v


def euler(
    velocity: Velocity, x0: Tensor, grid: Tensor, *, record: bool = False, progress: bool = False
) -> SolverResult:
    """Explicit Euler: x_{k+1} = x_k + (t_{k+1} − t_k) v(x_k, t_k). Order 1."""
    x = check_particles(x0, "x0").clone()
    grid = _check_grid(grid)
    traj = [x.clone()] if record else None
    for k, (t, tn) in enumerate(_steps(grid, progress, "euler")):
        x = x + (tn - t) * _velocity(velocity, x, t, k)
        if record:
            traj.append(x.clone())
    return SolverResult(x, grid, torch.stack(traj) if record else None, nfe=grid.numel() - 1)


def heun(
    velocity: Velocity,
    x0: Tensor,
    grid: Tensor,
    *,
    euler_last_step: bool = False,
    record: bool = False,
    progress: bool = False,
) -> SolverResult:
    """Heun's method (explicit trapezoid, EDM Algorithm 1). Order 2.

    x̃ = x_k + h v(x_k, t_k); x_{k+1} = x_k + h/2 [v(x_k, t_k) + v(x̃, t_{k+1})].
    ``euler_last_step`` skips the correction on the last step (EDM does this when the grid
    ends at σ = 0, where the field is undefined).
    """
    x = check_particles(x0, "x0").clone()
    grid = _check_grid(grid)
    traj = [x.clone()] if record else None
    nfe = 0
    n = grid.numel() - 1
    for k, (t, tn) in enumerate(_steps(grid, progress, "heun")):
        h = tn - t
        v = _velocity(velocity, x, t, k)
        nfe += 1
        x_pred = x + h * v
        if euler_last_step and k == n - 1:
            x = x_pred
        else:
            v2 = _velocity(velocity, x_pred, tn, k)
            nfe += 1
            x = x + (0.5 * h) * (v + v2)
        if record:
            traj.append(x.clone())
    return SolverResult(x, grid, torch.stack(traj) if record else None, nfe=nfe)


def euler_maruyama(
    velocity: Velocity,
    diffusion: Diffusion,
    x0: Tensor,
    grid: Tensor,
    *,
    generator: torch.Generator | None = None,
    record: bool = False,
    progress: bool = False,
) -> SolverResult:
    """Euler–Maruyama for dx = v(x, t) dt + g(t) dW: x_{k+1} = x_k + h v + g(t_k) √|h| ξ_k.

    ξ_k ~ N(0, I). On a decreasing grid the noise still has variance g² |h| (the paper's
    errata: read σ' as |σ'|).
    """
    x = check_particles(x0, "x0").clone()
    grid = _check_grid(grid)
    traj = [x.clone()] if record else None
    for k, (t, tn) in enumerate(_steps(grid, progress, "euler-maruyama")):
        h = tn - t
        x = x + h * _velocity(velocity, x, t, k)
        g = float(diffusion(t))
        if g != 0.0:
            noise = torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=generator)
            x = x + (g * abs(h) ** 0.5) * noise
        if record:
            traj.append(x.clone())
    return SolverResult(x, grid, torch.stack(traj) if record else None, nfe=grid.numel() - 1)


@dataclass(frozen=True)
class _GridSolver:
    """A solver bound to its time grid; ``solve(velocity, x0, diffusion, generator)``."""

    grid: Tensor
    record: bool = False
    progress: bool = False
    stochastic: ClassVar[bool] = False

    def __post_init__(self):
        object.__setattr__(self, "grid", _check_grid(self.grid))


@dataclass(frozen=True)
class Euler(_GridSolver):
    """Euler on a fixed grid (see :func:`euler`)."""

    def solve(
        self, velocity: Velocity, x0: Tensor, diffusion: Diffusion | None = None, generator=None
    ) -> SolverResult:
        return euler(velocity, x0, self.grid, record=self.record, progress=self.progress)


@dataclass(frozen=True)
class Heun(_GridSolver):
    """Heun on a fixed grid (see :func:`heun`)."""

    euler_last_step: bool = field(default=False, kw_only=True)

    def solve(
        self, velocity: Velocity, x0: Tensor, diffusion: Diffusion | None = None, generator=None
    ) -> SolverResult:
        return heun(
            velocity,
            x0,
            self.grid,
            euler_last_step=self.euler_last_step,
            record=self.record,
            progress=self.progress,
        )


@dataclass(frozen=True)
class EulerMaruyama(_GridSolver):
    """Euler–Maruyama on a fixed grid (see :func:`euler_maruyama`)."""

    stochastic: ClassVar[bool] = True

    def solve(
        self, velocity: Velocity, x0: Tensor, diffusion: Diffusion | None = None, generator=None
    ) -> SolverResult:
        return euler_maruyama(
            velocity,
            diffusion or (lambda t: 0.0),
            x0,
            self.grid,
            generator=generator,
            record=self.record,
            progress=self.progress,
        )

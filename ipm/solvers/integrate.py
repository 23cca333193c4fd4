"""ODE and SDE integrators for particle models: Euler, Heun, Euler–Maruyama, and annealed
Euler over noise levels.

A velocity is a callable ``velocity(x, t) -> (N, D)``; grids are 1-D tensors of times (any
direction; dt = t_{k+1} − t_k may be negative, as on EDM's decreasing σ grid). The state is
kept in the dtype of x0; times are float64. Euler also moves each particle up to its own step
(``stop``), takes single steps at one time per particle (:func:`euler_step`), and clamps the
state after each step (``clamp``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .._checks import check_finite, check_particles

__all__ = [
    "AnnealedEuler",
    "Euler",
    "EulerMaruyama",
    "Heun",
    "SolverResult",
    "annealed_euler",
    "euler",
    "euler_maruyama",
    "euler_step",
    "heun",
]

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


def _velocity(velocity: Velocity, x: Tensor, t: float | Tensor | None, k: int) -> Tensor:
    v = velocity(x, t)
    if v.shape != x.shape:
        raise ValueError(
            f"velocity: expected an output of shape {tuple(x.shape)}, got {tuple(v.shape)}"
        )
    if not bool(torch.isfinite(v).all()):
        when = (
            f"t = {t:.6g}"
            if isinstance(t, float)
            else "per-particle t"
            if t is not None
            else "t = None"
        )
        raise ValueError(f"velocity: NaN or inf in the field at step {k} ({when})")
    return v


def _randn_like(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """N(0, I) draws shaped like x, made on the generator's device (a CPU generator serves
    particles on any device)."""
    dev = generator.device if generator is not None else x.device
    return torch.randn(x.shape, dtype=x.dtype, device=dev, generator=generator).to(x.device)


def _clamped(x: Tensor, clamp: tuple[float, float] | None) -> Tensor:
    return x if clamp is None else x.clamp(*clamp)


def euler_step(
    velocity: Velocity,
    x: Tensor,
    t: float | Tensor | None,
    h: float,
    *,
    clamp: tuple[float, float] | None = None,
) -> Tensor:
    """One explicit Euler step x + h v(x, t), then clamped to [lo, hi] if ``clamp`` is given.
    ``t`` is one time or one time per particle (N,)."""
    x = check_particles(x, "x")
    return _clamped(x + h * _velocity(velocity, x, t, 0), clamp)


def _check_stop(stop: object, n_particles: int, n_steps: int) -> Tensor:
    if (
        not isinstance(stop, Tensor)
        or stop.shape != (n_particles,)
        or stop.is_floating_point()
        or (n_particles and (int(stop.min()) < 0 or int(stop.max()) > n_steps))
    ):
        raise ValueError(
            f"stop: expected ({n_particles},) integers in [0, {n_steps}], got "
            f"{stop if not isinstance(stop, Tensor) else tuple(stop.shape)}"
        )
    return stop


def _euler_until(velocity, x0: Tensor, grid: Tensor, stop: Tensor, clamp, progress) -> SolverResult:
    """Euler where particle j takes only its first stop_j steps. Sorted by stop, the particles
    still moving at step s are a prefix of the batch, so each step evaluates the velocity on
    the moving particles only (Σ_j stop_j rows in all). Valid for velocities that do not couple
    particles (each row's velocity depends on that row alone)."""
    ts = grid.tolist()
    n = len(ts) - 1
    stop = _check_stop(stop, x0.shape[0], n)
    order = torch.argsort(stop, descending=True, stable=True)
    x = x0[order].clone()
    # moving[s] = #{j : stop_j > s}, one host transfer for the whole loop
    moving = torch.bincount(stop, minlength=n + 1).flip(0).cumsum(0).flip(0)[1:].tolist()
    nfe = 0
    steps = tqdm(moving, desc="euler", leave=False) if progress else moving
    for s, m in enumerate(steps):
        if m == 0:
            break
        x[:m] = _clamped(x[:m] + (ts[s + 1] - ts[s]) * _velocity(velocity, x[:m], ts[s], s), clamp)
        nfe += 1
    out = torch.empty_like(x)
    out[order] = x
    return SolverResult(out, grid, None, nfe=nfe)


def euler(
    velocity: Velocity,
    x0: Tensor,
    grid: Tensor,
    *,
    stop: Tensor | None = None,
    clamp: tuple[float, float] | None = None,
    record: bool = False,
    progress: bool = False,
) -> SolverResult:
    """Explicit Euler: x_{k+1} = x_k + (t_{k+1} − t_k) v(x_k, t_k). Order 1.

    ``stop`` (N,) integers: particle j stops after stop_j steps (a per-particle horizon; see
    :func:`_euler_until`; not with ``record``). ``clamp`` (lo, hi): the state is clamped after
    every step.
    """
    x = check_particles(x0, "x0").clone()
    grid = _check_grid(grid)
    if stop is not None:
        if record:
            raise ValueError("record: a trajectory with per-particle stops is ragged; use one")
        return _euler_until(velocity, x, grid, stop, clamp, progress)
    traj = [x.clone()] if record else None
    for k, (t, tn) in enumerate(_steps(grid, progress, "euler")):
        x = _clamped(x + (tn - t) * _velocity(velocity, x, t, k), clamp)
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
            x = x + (g * abs(h) ** 0.5) * _randn_like(x, generator)
        if record:
            traj.append(x.clone())
    return SolverResult(x, grid, torch.stack(traj) if record else None, nfe=grid.numel() - 1)


def annealed_euler(
    velocity: Velocity,
    x0: Tensor,
    levels: Tensor,
    steps: int,
    step_size: float,
    *,
    noise: Callable[[float], float] | None = None,
    generator: torch.Generator | None = None,
    record: bool = False,
    progress: bool = False,
) -> SolverResult:
    """Annealed Euler over noise levels: for each level t_ℓ in order, ``steps`` Euler steps of
    size ``step_size`` with the velocity at t_ℓ, then x ← x + noise(t_ℓ) ξ, ξ ~ N(0, I), where
    ``noise`` gives a non-zero scale. The sampler of noise-adaptive flows: DMMD's MMD gradient
    flow over decreasing noise levels (Galashov et al. 2024); with a noise draw every step it
    is NCSN's annealed Langevin dynamics (Song & Ermon 2019).

    The trajectory (if recorded) holds x0 and the particles after each level: (L + 1, N, D).
    """
    x = check_particles(x0, "x0").clone()
    levels = _check_levels(levels)
    traj = [x.clone()] if record else None
    it = levels.tolist()
    for k, t in enumerate(tqdm(it, desc="annealed euler", leave=False) if progress else it):
        for _ in range(steps):
            x = x + step_size * _velocity(velocity, x, t, k)
        g = 0.0 if noise is None else float(noise(t))
        if g != 0.0:
            x = x + g * _randn_like(x, generator)
        if record:
            traj.append(x.clone())
    return SolverResult(x, levels, torch.stack(traj) if record else None, nfe=len(it) * steps)


def _check_levels(levels: object) -> Tensor:
    if not isinstance(levels, Tensor) or levels.ndim != 1 or levels.numel() < 1:
        raise ValueError(
            f"levels: expected a 1-D tensor of at least one level, got "
            f"{tuple(levels.shape) if isinstance(levels, Tensor) else type(levels).__name__}"
        )
    return check_finite(levels.to(torch.float64), "levels")


@dataclass(frozen=True)
class _Solver:
    """A solver bound to its discretisation: ``solve(velocity, x0, diffusion, generator, stop)``
    runs its integrator; ``record`` keeps the trajectory, ``progress`` shows a bar."""

    stochastic: ClassVar[bool] = False
    #: whether the solver moves each particle up to its own step (``stop``)
    stops: ClassVar[bool] = False

    def solve(
        self,
        velocity: Velocity,
        x0: Tensor,
        diffusion: Diffusion | None = None,
        generator: torch.Generator | None = None,
        stop: Tensor | None = None,
    ) -> SolverResult:
        if stop is not None and not self.stops:
            raise ValueError(f"stop: per-particle horizons need Euler, got {type(self).__name__}")
        flags = {"record": self.record, "progress": self.progress}
        return self._integrate(velocity, x0, diffusion, generator, stop, flags)


@dataclass(frozen=True)
class _GridSolver(_Solver):
    """A solver on a fixed time grid."""

    grid: Tensor
    record: bool = False
    progress: bool = False

    def __post_init__(self):
        object.__setattr__(self, "grid", _check_grid(self.grid))


@dataclass(frozen=True)
class Euler(_GridSolver):
    """Euler on a fixed grid (see :func:`euler`); ``clamp`` (lo, hi) bounds the state."""

    clamp: tuple[float, float] | None = field(default=None, kw_only=True)
    stops: ClassVar[bool] = True

    def _integrate(self, velocity, x0, diffusion, generator, stop, flags):
        return euler(velocity, x0, self.grid, stop=stop, clamp=self.clamp, **flags)

    def step(self, velocity: Velocity, x: Tensor, t: float | Tensor | None, h: float) -> Tensor:
        """One step of size h at time t (one per particle, or one for all): :func:`euler_step`."""
        return euler_step(velocity, x, t, h, clamp=self.clamp)


@dataclass(frozen=True)
class Heun(_GridSolver):
    """Heun on a fixed grid (see :func:`heun`)."""

    euler_last_step: bool = field(default=False, kw_only=True)

    def _integrate(self, velocity, x0, diffusion, generator, stop, flags):
        return heun(velocity, x0, self.grid, euler_last_step=self.euler_last_step, **flags)


@dataclass(frozen=True)
class EulerMaruyama(_GridSolver):
    """Euler–Maruyama on a fixed grid (see :func:`euler_maruyama`)."""

    stochastic: ClassVar[bool] = True

    def _integrate(self, velocity, x0, diffusion, generator, stop, flags):
        g = diffusion or (lambda t: 0.0)
        return euler_maruyama(velocity, g, x0, self.grid, generator=generator, **flags)


@dataclass(frozen=True)
class AnnealedEuler(_Solver):
    """Annealed Euler over noise levels (see :func:`annealed_euler`): ``steps`` steps of size
    ``step_size`` at each level, then noise of scale ``noise(t)``."""

    levels: Tensor
    steps: int
    step_size: float
    noise: Callable[[float], float] | None = None
    record: bool = False
    progress: bool = False

    def __post_init__(self):
        object.__setattr__(self, "levels", _check_levels(self.levels))
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ValueError(f"steps: expected an integer >= 1, got {self.steps!r}")

    def _integrate(self, velocity, x0, diffusion, generator, stop, flags):
        args = (self.levels, self.steps, self.step_size)
        return annealed_euler(velocity, x0, *args, noise=self.noise, generator=generator, **flags)

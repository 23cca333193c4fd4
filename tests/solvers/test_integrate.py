"""The integrators (:mod:`ipm.solvers.integrate`): orders, OU moments, per-particle stops,
clamps, single steps, annealed Euler."""

import math

import numpy as np
import pytest
import torch

from ipm.solvers import (
    AnnealedEuler,
    Euler,
    EulerMaruyama,
    Heun,
    edm_grid,
    euler,
    euler_maruyama,
    heun,
    uniform_grid,
)
from tests.helpers import DT

A = torch.tensor([[-1.0, 2.0], [-2.0, -0.5]], dtype=DT)


def exact(x0, t):
    return x0 @ torch.linalg.matrix_exp(A * t).T


def velocity(x, t):
    return x @ A.T


def fitted_order(method):
    x0 = torch.tensor([[1.0, 0.5], [-0.3, 2.0]], dtype=DT)
    hs, errs = [], []
    for n in (10, 20, 40, 80, 160):
        res = method(velocity, x0, uniform_grid(0.0, 1.0, n))
        hs.append(1.0 / n)
        errs.append((res.x - exact(x0, 1.0)).norm().item())
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


def test_euler_is_order_one_and_heun_order_two():
    assert abs(fitted_order(euler) - 1.0) <= 0.15
    assert abs(fitted_order(heun) - 2.0) <= 0.15


def test_backward_grid_and_recording():
    x0 = torch.randn(3, 2, dtype=DT)
    res = heun(velocity, x0, uniform_grid(1.0, 0.0, 200), record=True)
    torch.testing.assert_close(res.x, exact(x0, -1.0), rtol=1e-4, atol=1e-4)
    assert res.trajectory.shape == (201, 3, 2) and res.nfe == 400
    torch.testing.assert_close(res.trajectory[0], x0)
    torch.testing.assert_close(res.trajectory[-1], res.x)
    assert res.times.dtype == torch.float64


def test_euler_maruyama_ornstein_uhlenbeck_moments():
    # dx = −x dt + √2 dW from x0 = 3: mean 3e^{−t}, variance 1 − e^{−2t}
    x0 = torch.full((200_000, 1), 3.0, dtype=DT)
    t = 1.0
    res = euler_maruyama(
        lambda x, s: -x,
        lambda s: math.sqrt(2.0),
        x0,
        uniform_grid(0, t, 400),
        generator=torch.Generator().manual_seed(0),
    )
    assert abs(res.x.mean().item() - 3 * math.exp(-t)) < 0.02
    assert abs(res.x.var().item() - (1 - math.exp(-2 * t))) < 0.02


def test_solver_objects_and_bad_inputs():
    x0 = torch.randn(4, 2, dtype=DT)
    torch.testing.assert_close(
        Euler(uniform_grid(0, 1, 5)).solve(velocity, x0).x,
        euler(velocity, x0, uniform_grid(0, 1, 5)).x,
    )
    torch.testing.assert_close(
        Heun(uniform_grid(0, 1, 5)).solve(velocity, x0).x,
        heun(velocity, x0, uniform_grid(0, 1, 5)).x,
    )
    assert EulerMaruyama(uniform_grid(0, 1, 5)).stochastic
    with pytest.raises(ValueError, match="n_steps: expected an integer >= 1"):
        uniform_grid(0, 1, 0)
    with pytest.raises(TypeError, match="n_steps"):
        uniform_grid(0, 1, 2.5)
    with pytest.raises(ValueError, match="sigma_min: expected a finite number > 0"):
        edm_grid(5, sigma_min=0.0)
    with pytest.raises(ValueError, match="sigma_min: expected sigma_min < sigma_max"):
        edm_grid(5, sigma_min=50.0, sigma_max=40.0)
    with pytest.raises(ValueError, match="rho"):
        edm_grid(5, rho=-7)
    with pytest.raises(ValueError, match="grid: expected strictly monotone"):
        euler(velocity, x0, torch.tensor([0.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="x0: expected finite"):
        euler(velocity, torch.full((2, 2), float("inf"), dtype=DT), uniform_grid(0, 1, 2))
    with pytest.raises(ValueError, match="velocity: NaN or inf in the field at step 0"):
        euler(lambda x, t: x * float("nan"), x0, uniform_grid(0, 1, 2))
    with pytest.raises(ValueError, match=r"velocity: expected an output of shape \(4, 2\)"):
        euler(lambda x, t: x[:, :1], x0, uniform_grid(0, 1, 2))


def test_euler_with_per_particle_stops_is_the_full_trajectory_at_each_stop():
    """Particle j moved only for its first stop_j steps sits where the full Euler trajectory
    is after stop_j steps; the velocity is evaluated on the moving particles only."""
    x0 = torch.randn(30, 2, dtype=DT, generator=torch.Generator().manual_seed(0))
    grid = uniform_grid(0.0, 1.0, 7)
    traj = euler(velocity, x0, grid, record=True).trajectory
    stop = torch.randint(8, (30,), generator=torch.Generator().manual_seed(1))
    rows = []

    def counting(x, t):
        rows.append(x.shape[0])
        return velocity(x, t)

    res = euler(counting, x0, grid, stop=stop)
    torch.testing.assert_close(res.x, traj[stop, torch.arange(30)], rtol=0, atol=1e-13)
    assert sum(rows) == int(stop.sum()) and res.nfe == int(stop.max())
    with pytest.raises(ValueError, match="stop"):
        euler(velocity, x0, grid, stop=torch.full((30,), 8))
    with pytest.raises(ValueError, match="stop"):
        Heun(grid).solve(velocity, x0, stop=stop)


def test_euler_clamps_after_every_step_and_single_steps_take_one_time_per_particle():
    x0 = torch.tensor([[0.9, -0.9], [0.1, 0.2]], dtype=DT)
    push = lambda x, t: torch.ones_like(x)  # noqa: E731
    res = euler(push, x0, uniform_grid(0.0, 1.0, 4), clamp=(-1.0, 1.0))
    torch.testing.assert_close(res.x, torch.tensor([[1.0, 0.1], [1.0, 1.0]], dtype=DT))
    t = torch.tensor([0.0, 0.5], dtype=DT)
    by_row = lambda x, t: x * t[:, None]  # noqa: E731
    got = Euler(uniform_grid(0.0, 1.0, 2)).step(by_row, x0, t, 0.1)
    torch.testing.assert_close(got, x0 + 0.1 * x0 * t[:, None])


def test_annealed_euler_takes_steps_per_level_then_injects_noise():
    """Per level t: k steps x ← x + h(−x + t) (so x → t geometrically), then noise g(t)·ξ."""
    levels = torch.tensor([2.0, 1.0, 0.5], dtype=DT)
    x0 = torch.zeros(4, 1, dtype=DT)
    drift = lambda x, t: t - x  # noqa: E731
    res = AnnealedEuler(levels, 3, 0.5, record=True).solve(drift, x0)
    x = x0.clone()
    for t in levels.tolist():
        for _ in range(3):
            x = x + 0.5 * (t - x)
    torch.testing.assert_close(res.x, x)
    assert res.nfe == 9 and res.trajectory.shape == (4, 4, 1)
    noisy = AnnealedEuler(levels, 3, 0.5, noise=lambda t: 0.1 * t).solve(
        drift, x0, generator=torch.Generator().manual_seed(0)
    )
    g = torch.Generator().manual_seed(0)
    x = x0.clone()
    for t in levels.tolist():
        for _ in range(3):
            x = x + 0.5 * (t - x)
        x = x + 0.1 * t * torch.randn(x.shape, dtype=DT, generator=g)
    torch.testing.assert_close(noisy.x, x)

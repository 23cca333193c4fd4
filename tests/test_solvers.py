import math

import numpy as np
import pytest
import torch

from ipm.solvers import (
    Euler,
    EulerMaruyama,
    Heun,
    edm_grid,
    euler,
    euler_maruyama,
    heun,
    uniform_grid,
)

DT = torch.float64
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


def test_edm_grid_matches_karras_formula():
    g = edm_grid(7, 0.002, 40.0, 7.0)
    assert g.shape == (8,) and g.dtype == torch.float64 and g[-1] == 0
    i = torch.arange(7, dtype=DT)
    ref = (40.0 ** (1 / 7) + i / 6 * (0.002 ** (1 / 7) - 40.0 ** (1 / 7))) ** 7
    torch.testing.assert_close(g[:-1], ref)
    res = heun(lambda x, t: -x / max(t, 1e-9), torch.ones(1, 1, dtype=DT), g, euler_last_step=True)
    assert res.nfe == 2 * 7 - 1


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

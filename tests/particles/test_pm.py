"""Particle models (Definition 1)."""

import pytest
import torch

import ipm
from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import EDMFamily, SquaredMMD
from ipm.kernels import RBF
from ipm.solvers import Euler, EulerMaruyama, Heun, uniform_grid
from tests.helpers import DT


def test_pm_moves_particles_towards_data():
    torch.manual_seed(0)
    p = five_gaussians()
    k = RBF(1.0, normalized=False)
    data, test = p.sample(500), p.sample(500)
    pm = ipm.ParticleModel(
        SquaredMMD(k, data), Euler(uniform_grid(0, 60, 60)), Gaussian.standard(2)
    )
    x = pm.sample(500)
    from ipm.flows import mmd2

    assert mmd2(x, test, k) < 0.1 * mmd2(Gaussian.standard(2).sample(500), test, k)


def test_stochastic_flow_requires_euler_maruyama():
    p = five_gaussians(dtype=DT)
    with pytest.raises(ValueError, match="solver: EDMFamily is a stochastic flow"):
        ipm.ParticleModel(EDMFamily(p, 1.0), Heun(uniform_grid(1, 0.1, 3)))
    pm = ipm.ParticleModel(EDMFamily(p, 1.0), EulerMaruyama(uniform_grid(2.0, 0.5, 5)))
    out = pm.evolve(torch.zeros(3, 2, dtype=DT), generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(out.x).all() and out.x.abs().sum() > 0


def test_a_time_grid_where_a_solver_belongs_and_empty_particle_sets_are_named():
    flow = SquaredMMD(RBF(1.0), torch.randn(10, 2))
    with pytest.raises(TypeError, match=r"solver: .*tensor of shape \(6,\); .*Euler\(grid\)"):
        ipm.ParticleModel(flow, uniform_grid(0, 1, 5))
    pm = ipm.ParticleModel(flow, Euler(uniform_grid(0, 1, 5)))
    with pytest.raises(ValueError, match=r"x0: expected at least one particle, got shape \(0, 2\)"):
        pm.evolve(torch.zeros(0, 2))
    with pytest.raises(ValueError, match="data: expected at least one particle"):
        SquaredMMD(RBF(1.0), torch.zeros(0, 2))
    with pytest.raises(ValueError, match="x: expected at least one particle"):
        flow.field(torch.zeros(0, 2), None, particles=torch.zeros(0, 2))

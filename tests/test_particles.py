import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import ipm
from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import EDMFamily, ExactScore, ForwardKL, SquaredMMD
from ipm.generators import MLP, ParticleTable
from ipm.kernels import RBF, Identity
from ipm.ntk import ntk_operator
from ipm.particles import FrozenNTK, SteinFlow, stein_field, svgd_field
from ipm.solvers import Euler, EulerMaruyama, Heun, euler, uniform_grid

DT = torch.float64


@given(
    n=st.integers(1, 40),
    lr=st.floats(1e-4, 10.0),
    seed=st.integers(0, 1000),
    bw=st.floats(0.3, 3.0),
)
def test_free_particle_int_pm_is_pm_euler_step(n, lr, seed, bw):
    """Finding 4: with NTK = identity, one SGD step with lr η is the PM Euler step, dt = η/N."""
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, 2, generator=g, dtype=DT)
    flow = SquaredMMD(RBF(bw), torch.randn(30, 2, generator=g, dtype=DT) + 2.0)
    table = ParticleTable(x0)
    model = ipm.InteractingParticleModel(flow, table, torch.optim.SGD(table.parameters(), lr=lr))
    model.step(table.latents())
    pm_step = euler(
        lambda x, t: flow.field(x, t, particles=x), x0, torch.tensor([0.0, lr / n], dtype=DT)
    ).x
    assert (table.theta.detach() - pm_step).abs().max().item() <= 1e-12


def test_int_pm_displacement_is_ntk_operator_to_first_order():
    torch.manual_seed(0)
    flow = SquaredMMD(RBF(1.0), five_gaussians(dtype=DT).sample(200))
    gen = MLP(4, 2, width=32, depth=2).to(DT)
    z = torch.randn(64, 4, dtype=DT)
    theta = {k: v.detach().clone() for k, v in gen.named_parameters()}
    x0 = gen(z).detach()
    pred = ntk_operator(gen, z, flow.field(x0), mean=True)
    errs = []
    for lr in (1e-2, 1e-3):
        gen.load_state_dict(theta)
        m = ipm.InteractingParticleModel(flow, gen, torch.optim.SGD(gen.parameters(), lr=lr))
        m.step(z)
        disp = gen(z).detach() - x0
        errs.append(((disp - lr * pred).norm() / (lr * pred).norm()).item())
    assert errs[1] < errs[0] / 5 and errs[1] < 1e-2  # relative error O(η)


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


def test_stein_flow_identity_kernel_and_frozen_ntk():
    torch.manual_seed(0)
    p = five_gaussians(dtype=DT)
    flow = SquaredMMD(RBF(1.0), p.sample(100))
    x = torch.randn(12, 2, dtype=DT)
    # Identity kernel: the Stein flow is the plain field scaled by 1/N
    torch.testing.assert_close(SteinFlow(flow, Identity()).field(x), flow.field(x) / 12)
    # A frozen NTK kernel: the Stein field is the NTK operator applied to the field (Eq. 18)
    gen = MLP(3, 2, width=16, depth=2).to(DT)
    z = torch.randn(12, 3, dtype=DT)
    xz = gen(z).detach()
    frozen = FrozenNTK(gen, z)
    torch.testing.assert_close(
        stein_field(frozen, xz, flow.field(xz)), ntk_operator(gen, z, flow.field(xz), mean=True)
    )


def test_svgd_is_stein_flow_of_kl_in_expectation():
    # With ρ = N(0, I) known, E_ρ[k ∇log ρ] = −E_ρ[∇k]: SVGD equals the Stein flow of the
    # exact forward-KL field, up to Monte-Carlo error.
    torch.manual_seed(0)
    p = Gaussian(torch.tensor([1.0, -1.0], dtype=DT), 0.5)
    rho = Gaussian.standard(2, dtype=DT)
    pts = rho.sample(20_000)
    x = torch.randn(5, 2, dtype=DT)
    k = RBF(1.0)
    stein = stein_field(k, x, ForwardKL(p, ExactScore(rho)).field(pts), pts)
    torch.testing.assert_close(svgd_field(k, x, p, pts), stein, atol=5e-3, rtol=0)


def test_int_pm_bad_inputs():
    p = five_gaussians()
    flow = SquaredMMD(RBF(1.0), p.sample(20))
    gen = MLP(3, 4, width=8, depth=1)
    m = ipm.InteractingParticleModel(
        flow, gen, lambda ps: torch.optim.SGD(ps, lr=0.1), latent=Gaussian.standard(3)
    )
    with pytest.raises(
        ValueError,
        match="generator: output of shape \\(5, 4\\).*differs from the data's dimension D=2",
    ):
        m.step(n=5)
    with pytest.raises(ValueError, match="n: pass latents z or a batch size n"):
        m.step()
    with pytest.raises(TypeError, match="flow: expected an ipm.flows.Flow"):
        ipm.InteractingParticleModel("mmd", gen, torch.optim.SGD(gen.parameters(), lr=0.1))
    nan_gen = MLP(3, 2, width=8, depth=1)
    with torch.no_grad():
        nan_gen[0].weight.fill_(float("nan"))
    m = ipm.InteractingParticleModel(
        flow, nan_gen, lambda ps: torch.optim.SGD(ps, lr=0.1), latent=Gaussian.standard(3)
    )
    with pytest.raises(ValueError, match="generator output: expected finite"):
        m.step(n=4)
    with pytest.raises(ValueError, match="noise: expected a finite number >= 0"):
        ipm.InteractingParticleModel(flow, gen, lambda ps: torch.optim.SGD(ps, lr=0.1), noise=-1.0)
    with pytest.raises(TypeError, match="x0: expected a torch.Tensor"):
        ipm.ParticleModel(flow, Euler(uniform_grid(0, 1, 2))).evolve([[0.0, 0.0]])
    with pytest.raises(ValueError, match="x0: expected particles of dimension D=2"):
        ipm.ParticleModel(flow, Euler(uniform_grid(0, 1, 2))).evolve(torch.zeros(3, 5))

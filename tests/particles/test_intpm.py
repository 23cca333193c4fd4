"""Interacting particle models (Definition 2): free particles are a PM (Finding 4), one step moves
the particles by the NTK operator (Eq. 12–14), bad inputs are named."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import ipm
from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import SquaredMMD
from ipm.generators import MLP, ParticleTable
from ipm.kernels import RBF
from ipm.ntk import ntk_operator
from ipm.solvers import Euler, euler, uniform_grid
from tests.helpers import DT


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


def test_a_latent_law_of_another_width_than_the_generators_input_is_named():
    flow = SquaredMMD(RBF(1.0), torch.randn(10, 2))
    sgd = lambda p: torch.optim.SGD(p, lr=0.1)  # noqa: E731
    for gen, where in [
        (
            torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2)),
            "Linear",
        ),
        (MLP(3, 2, 8, 1), "in_dim"),
    ]:
        with pytest.raises(
            ValueError,
            match=f"latent: draws of width 5, but the generator takes 3 inputs .*{where}",
        ):
            ipm.InteractingParticleModel(flow, gen, sgd, Gaussian.standard(5))
        ipm.InteractingParticleModel(flow, gen, sgd, Gaussian.standard(3)).step(
            n=4
        )  # the right width trains

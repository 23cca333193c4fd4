"""The Discriminator Flow (Algorithm 3): its training trajectories are the Euler flow, for every
schedule, and its prior is π = N(m·1, s² I)."""

import torch

from ipm.models import (
    DiscriminatorFlowModel,
)
from tests.helpers import DT, build, sgd, step_context


def test_discriminator_flow_training_trajectory_is_the_euler_flow():
    cfg, m = build("discr_flow")
    d = m.networks["discriminator"].double()
    x0 = torch.randn(10, 2, dtype=DT)
    traj = m.simulate(x0)
    n = cfg.model.flow_steps
    x = x0.clone()
    for i in range(n):
        assert torch.allclose(traj[i], x, atol=1e-12)
        xg = x.detach().requires_grad_(True)
        c = m.loss.fns.c(d(xg, torch.full((10,), i / n, dtype=DT))[:, 0]).sum()
        (gr,) = torch.autograd.grad(c, xg)
        x = x - (cfg.model.eta / n) * gr  # x_{(i+1)/N} = x_{i/N} − (η/N) ∇(c∘f)
    assert traj.shape == (n, 10, 2)


def test_truncated_simulation_is_the_paper_trajectory_at_each_particles_time():
    """simulate_to stops particle j after stop_j steps: x_{stop_j/N} of the full trajectory."""
    cfg, m = build("discr_flow")
    m.networks["discriminator"].double()
    x0 = torch.randn(40, 2, dtype=DT)
    traj = m.simulate(x0)
    stop = torch.randint(cfg.model.flow_steps, (40,), generator=torch.Generator().manual_seed(1))
    got = m.simulate_to(x0, stop)
    assert torch.allclose(got, traj[stop, torch.arange(40)], atol=1e-12)
    assert not torch.allclose(got, traj[-1, :])  # the times differ, so do the positions


def test_persistent_schedule_advances_each_particle_one_euler_step():
    cfg, m = build("discr_flow", schedule="persistent")
    d = m.networks["discriminator"].double()
    opt = sgd(m)
    ctx = step_context()
    n, eta = cfg.model.flow_steps, cfg.model.eta
    m.train_step(ctx, opt)  # first step: particles at staggered steps 0 … N−1, then advanced
    for _ in range(3):
        x, i = m.traj.clone(), m.steps.clone()
        m.train_step(ctx, opt)  # the update, then one Euler step with the updated discriminator
        xg = x.requires_grad_(True)
        c = m.loss.fns.c(d(xg, i.to(DT) / n)[:, 0]).sum()
        (gr,) = torch.autograd.grad(c, xg)
        moved = i + 1 < n
        expect = x.detach() - (eta / n) * gr
        assert torch.allclose(m.traj[moved], expect[moved], atol=1e-12)
        assert torch.equal(m.steps[moved], i[moved] + 1)
        assert (m.steps[~moved] == 0).all() and bool((~moved).any())
    assert sorted(m.steps.tolist()) == sorted(((torch.arange(m.batch_size) + 4) % n).tolist())


def test_discriminator_flow_starts_from_its_prior_in_training_and_sampling():
    """π = N(m·1, s² I): the particles restarted at t = 0 (persistent schedule) and the samples
    stopped after zero field evaluations are draws of π, and its score is −(x − m)/s²."""
    cfg, m = build("discr_flow", schedule="persistent", prior_mean=-1.0, prior_std=0.25)
    m.networks["discriminator"].double()
    opt, ctx = sgd(m), step_context()
    restarted = []
    for _ in range(cfg.model.flow_steps):  # every particle restarts once
        m.train_step(ctx, opt)
        restarted.append(m.traj[m.steps == 0])  # restarted from π after reaching t = 1
    x0 = torch.cat(restarted)
    assert x0.shape[0] >= m.batch_size
    assert abs(float(x0.mean()) + 1) < 0.05 and abs(float(x0.std()) - 0.25) < 0.05
    pm = m.particle_model()
    z = pm.prior.sample(20000, generator=torch.Generator().manual_seed(0))
    assert abs(float(z.mean()) + 1) < 0.01 and abs(float(z.std()) - 0.25) < 0.01
    x = torch.randn(5, 2, dtype=DT, requires_grad=True)
    (g,) = torch.autograd.grad(pm.prior.log_prob(x).sum(), x)
    assert torch.allclose(pm.prior.score(x.detach()), g)
    assert torch.allclose(g, -(x.detach() + 1) / 0.0625)
    # with η = 0 nothing moves: the samples are π's draws
    cfg0, m0 = build("discr_flow", prior_mean=-1.0, prior_std=0.25, eta=1e-300)
    out = m0.sample(4000, generator=torch.Generator().manual_seed(1)).x
    assert abs(float(out.mean()) + 1) < 0.02 and abs(float(out.std()) - 0.25) < 0.02


def test_schedules_simulate_once_per_update_per_k_updates_or_never(monkeypatch):
    """paper: one (truncated) simulation per update; multi_time: one per k; persistent: only
    the first (its particles then move one Euler step per update)."""
    calls = {"full": 0, "trunc": 0}
    full, trunc = DiscriminatorFlowModel.simulate, DiscriminatorFlowModel.simulate_to

    def count_full(self, x0):
        calls["full"] += 1
        return full(self, x0)

    def count_trunc(self, x0, stop):
        calls["trunc"] += 1
        return trunc(self, x0, stop)

    monkeypatch.setattr(DiscriminatorFlowModel, "simulate", count_full)
    monkeypatch.setattr(DiscriminatorFlowModel, "simulate_to", count_trunc)
    expected = {"multi_time": (3, 0), "paper": (0, 12), "persistent": (0, 1)}
    for schedule, want in expected.items():
        _, m = build("discr_flow", schedule=schedule, times_per_trajectory=4)
        for net in m.networks.values():
            net.double()
        opt, ctx = sgd(m), step_context()
        calls.update(full=0, trunc=0)
        for _ in range(12):
            m.train_step(ctx, opt)
        assert (calls["full"], calls["trunc"]) == want, schedule

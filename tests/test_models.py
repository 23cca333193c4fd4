"""The four models are compositions of core pieces; their updates match the paper's equations."""

import torch
from test_engine import tiny

from ipm.engine import config_from_dict
from ipm.flows import DenoiserScore, EDMDenoiser, ExactScore
from ipm.models import (
    EDM,
    GAN,
    DiscriminatorFlowModel,
    ScoreGAN,
    StepContext,
    build_model,
)

DT = torch.float64


def _ctx(seed=0, data=None):
    data = data or (lambda n, g: torch.randn(n, 2, generator=g))
    return StepContext(torch.Generator().manual_seed(seed), data, torch.device("cpu"), DT)


def _sgd(model):
    return {n: torch.optim.SGD(ps, lr=1e-2) for n, (ps, _) in model.optimizer_specs().items()}


def _build(name, inputs=None, **kw):
    torch.manual_seed(0)
    cfg = config_from_dict(tiny(name, **kw))
    return cfg, build_model(cfg, 2, **(inputs or {}))


def test_edm_preconditioning_limits():
    torch.manual_seed(0)
    den = EDMDenoiser(2, 0.5, width=16, depth=2, activation="relu", embedding=8).double()
    x = torch.randn(5, 2, dtype=DT)
    # σ → 0: c_skip → 1, c_out → 0, so D(x, σ) → x (the data are their own denoised value)
    assert torch.allclose(den(x, 1e-8), x, atol=1e-7)
    # the score is (D − x)/σ² (Eq. 24)
    s = torch.tensor(0.7, dtype=DT)
    assert torch.allclose(DenoiserScore(den)(x, s), (den(x, s) - x) / 0.49)


def test_gan_intpm_step_equals_backprop_of_the_generator_loss():
    """Eq. 25: the surrogate −g(z)ᵀ sg(∇h) with h = −c∘f has the gradient of E[c∘f(g(z))]."""
    cfg, m = _build("gan")
    for net in m.networks.values():
        net.double()
    gen, disc = m.networks["generator"], m.networks["discriminator"]
    z = torch.randn(16, 8, dtype=DT)
    loss = m.loss.fns.c(disc(gen(z))[:, 0]).mean()
    ref = torch.autograd.grad(loss, list(gen.parameters()))
    from ipm import InteractingParticleModel

    opt = torch.optim.SGD(gen.parameters(), lr=0.0)
    InteractingParticleModel(m.flow(), gen, opt).step(z)
    # the surrogate averages over the batch: E over z of c∘f, as in the GAN loss
    got = [p.grad for p in gen.parameters()]
    assert max(float((a - b).abs().max()) for a, b in zip(got, ref)) < 1e-12


def _score_gan_one_step(edm_dir, frozen: str, seed: int, **kw):
    """A float64 Score GAN (K = 1) with SGD, ``frozen`` at lr 0; one train_step is taken.
    Returns the model, the other network's parameters before and after the step, and a
    context rewound to the step's first draw (to replay it)."""
    from ipm.engine.trainer import load_data_score

    data_score = {"data_score": load_data_score(edm_dir, (2,))}
    _, m = _build("score_gan", data_score, edm_checkpoint=str(edm_dir), score_steps=1, **kw)
    for net in [*m.networks.values(), m.data_score.denoiser]:
        net.double()
    opt = _sgd(m)
    opt[frozen].param_groups[0]["lr"] = 0.0
    trained = "gen_score" if frozen == "generator" else "generator"
    before = [p.detach().clone() for p in m.networks[trained].parameters()]
    ctx = _ctx(seed)
    state = ctx.rng.get_state()
    m.train_step(ctx, opt)
    after = [p.detach().clone() for p in m.networks[trained].parameters()]
    ctx.rng.set_state(state)
    return m, before, after, ctx


def test_score_gan_score_step_is_eq_23_unweighted_by_default(tmp_path):
    """One score step with SGD(lr) descends E‖d(x + σε, σ) − x‖², x = g(z), σ from Eq. 28
    (the official code's loss); ``score_loss: edm`` weights it by λ(σ)."""
    from ipm.engine import train

    train(config_from_dict(tiny("edm", steps=2)), tmp_path / "edm")
    moved = {}
    for weighting in ("plain", "edm"):
        m, phi0, after, ctx = _score_gan_one_step(
            tmp_path / "edm", "generator", 5, score_loss=weighting
        )
        den = m.networks["gen_score"]
        b = m.batch_size
        with torch.no_grad():
            x = m.networks["generator"](ctx.randn(b, 8))
        sigma, noise = m.draw_sigma(ctx, b), ctx.randn(b, 2)
        with torch.no_grad():
            for p, p0 in zip(den.parameters(), phi0):
                p.copy_(p0)
        sq = ((den(x + sigma[:, None] * noise, sigma) - x) ** 2).sum(1)
        if weighting == "edm":
            sq = sq * (sigma**2 + 0.25) / (sigma * 0.5) ** 2
        grads = torch.autograd.grad(sq.mean(), list(den.parameters()))
        want = [p0 - 1e-2 * g for p0, g in zip(phi0, grads)]
        assert max(float((a - w).abs().max()) for a, w in zip(after, want)) < 1e-12
        moved[weighting] = after
    # the two weightings give different updates (the check can tell them apart)
    assert max(float((a - b).abs().max()) for a, b in zip(moved["plain"], moved["edm"])) > 1e-6


def test_score_gan_generator_update_is_eq_27(tmp_path):
    """One generator step with SGD(lr) changes θ by lr · ∇θ mean[σ g(z)ᵀ sg(s^p − s^ρ)]."""
    from ipm.engine import train

    edm_cfg = config_from_dict(tiny("edm", steps=2))
    train(edm_cfg, tmp_path / "edm")
    m, theta0, after, ctx = _score_gan_one_step(tmp_path / "edm", "gen_score", 3)
    gen = m.networks["generator"]
    b = m.batch_size
    ctx.randn(b, 8), m.draw_sigma(ctx, b), ctx.randn(b, 2)  # the score step's draws
    z = ctx.randn(b, 8)
    sigma, eps = m.draw_sigma(ctx, b), ctx.randn(b, 2)
    with torch.no_grad():
        for p, p0 in zip(gen.parameters(), theta0):
            p.copy_(p0)
        x = gen(z)
        xt = x + sigma[:, None] * eps
        s2 = sigma[:, None] ** 2
        d_data, d_gen = m.data_score.denoiser, m.networks["gen_score"]
        v = sigma[:, None] * ((d_data(xt, sigma) - xt) / s2 - (d_gen(xt, sigma) - xt) / s2)
    obj = (gen(z) * v).sum(1).mean()
    grads = torch.autograd.grad(obj, list(gen.parameters()))
    m2 = [p0 + 1e-2 * g for p0, g in zip(theta0, grads)]  # ascent on Eq. 27's objective
    err = max(float((p - q).abs().max()) for p, q in zip(after, m2))
    assert err < 1e-12


def test_score_gan_with_the_exact_data_score(tmp_path):
    """An exact score replaces the EDM: the score difference is the mixture's exact smoothed
    score at each particle's own σ minus the generated score, and a training step runs."""
    from ipm.distributions import five_gaussians

    dist = five_gaussians(radius=3.0, std=0.5).to(DT)
    cfg = config_from_dict(tiny("score_gan", edm_checkpoint="unused", score_steps=1))
    torch.manual_seed(0)
    m = ScoreGAN(cfg.model, 2, cfg.train.batch_size, data_score=ExactScore(dist))
    for net in m.networks.values():
        net.double()
    x = 3 * torch.randn(6, 2, dtype=DT)
    sigma = torch.tensor([0.1, 0.3, 1.0, 2.0, 5.0, 10.0], dtype=DT)
    exact = torch.stack([dist.score(x[i : i + 1], float(sigma[i]))[0] for i in range(6)])
    with torch.no_grad():
        got = m.flow().field(x, sigma)
        d_gen = m.networks["gen_score"]
        want = exact - (d_gen(x, sigma) - x) / sigma[:, None] ** 2
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
    out = m.train_step(_ctx(1), _sgd(m))
    assert torch.isfinite(out["particles"]).all()


def test_gan_logged_generator_loss_is_the_pointwise_loss_of_the_batch():
    """g_loss comes from the field's own forward pass: E[c∘f(g(z))] of the generated batch."""
    _, m = _build("gan")
    for net in m.networks.values():
        net.double()
    out = m.train_step(_ctx(), _sgd(m))
    with torch.no_grad():
        want = m.loss.fns.c(m.networks["discriminator"](out["particles"])[:, 0]).mean()
    assert torch.allclose(out["g_loss"], want, atol=1e-12)


def test_discriminator_sees_fake_and_real_as_in_separate_passes():
    """One stacked pass gives f(fake), f(real) and their gradients as two passes would; with
    BatchNorm (train mode) each batch keeps its own statistics."""
    from ipm.models.gan import discriminate

    torch.manual_seed(0)
    fake, real = torch.randn(16, 2, dtype=DT), torch.randn(16, 2, dtype=DT) + 3
    for bn in (False, True):
        d = torch.nn.Sequential(
            torch.nn.Linear(2, 32),
            *([torch.nn.BatchNorm1d(32)] if bn else []),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(32, 1),
        ).to(DT)
        ff, fr = discriminate(d, fake, real)
        g1 = torch.autograd.grad(ff.mean() - fr.mean(), list(d.parameters()))
        sf, sr = d(fake)[:, 0], d(real)[:, 0]
        g2 = torch.autograd.grad(sf.mean() - sr.mean(), list(d.parameters()))
        assert torch.allclose(ff, sf, atol=1e-12) and torch.allclose(fr, sr, atol=1e-12)
        assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g1, g2))


def test_discriminator_flow_training_trajectory_is_the_euler_flow():
    cfg, m = _build("discr_flow")
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
    cfg, m = _build("discr_flow")
    m.networks["discriminator"].double()
    x0 = torch.randn(40, 2, dtype=DT)
    traj = m.simulate(x0)
    stop = torch.randint(cfg.model.flow_steps, (40,), generator=torch.Generator().manual_seed(1))
    got = m.simulate_to(x0, stop)
    assert torch.allclose(got, traj[stop, torch.arange(40)], atol=1e-12)
    assert not torch.allclose(got, traj[-1, :])  # the times differ, so do the positions


def test_persistent_schedule_advances_each_particle_one_euler_step():
    cfg, m = _build("discr_flow", schedule="persistent")
    d = m.networks["discriminator"].double()
    opt = _sgd(m)
    ctx = _ctx()
    n, eta = cfg.model.flow_steps, cfg.model.eta
    m.train_step(ctx, opt)  # first step: particles at staggered steps 0 … N−1, then advanced
    for _ in range(3):
        x, i = m._traj.clone(), m._steps.clone()
        m.train_step(ctx, opt)  # the update, then one Euler step with the updated discriminator
        xg = x.requires_grad_(True)
        c = m.loss.fns.c(d(xg, i.to(DT) / n)[:, 0]).sum()
        (gr,) = torch.autograd.grad(c, xg)
        moved = i + 1 < n
        expect = x.detach() - (eta / n) * gr
        assert torch.allclose(m._traj[moved], expect[moved], atol=1e-12)
        assert torch.equal(m._steps[moved], i[moved] + 1)
        assert (m._steps[~moved] == 0).all() and bool((~moved).any())
    assert sorted(m._steps.tolist()) == sorted(((torch.arange(m.batch_size) + 4) % n).tolist())


def test_discriminator_flow_starts_from_its_prior_in_training_and_sampling():
    """π = N(m·1, s² I): the particles restarted at t = 0 (persistent schedule) and the samples
    stopped after zero field evaluations are draws of π, and its score is −(x − m)/s²."""
    cfg, m = _build("discr_flow", schedule="persistent", prior_mean=-1.0, prior_std=0.25)
    m.networks["discriminator"].double()
    opt, ctx = _sgd(m), _ctx()
    restarted = []
    for _ in range(cfg.model.flow_steps):  # every particle restarts once
        m.train_step(ctx, opt)
        restarted.append(m._traj[m._steps == 0])  # restarted from π after reaching t = 1
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
    cfg0, m0 = _build("discr_flow", prior_mean=-1.0, prior_std=0.25, eta=1e-300)
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
        _, m = _build("discr_flow", schedule=schedule, times_per_trajectory=4)
        for net in m.networks.values():
            net.double()
        opt, ctx = _sgd(m), _ctx()
        calls.update(full=0, trunc=0)
        for _ in range(12):
            m.train_step(ctx, opt)
        assert (calls["full"], calls["trunc"]) == want, schedule


def test_models_state_their_composition():
    for cls in (EDM, GAN, ScoreGAN, DiscriminatorFlowModel):
        assert "×" in cls.composition
    assert EDM.is_particle_model and DiscriminatorFlowModel.is_particle_model
    assert not GAN.is_particle_model

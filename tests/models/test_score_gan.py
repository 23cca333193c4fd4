"""Score GAN (Algorithm 1): its score step is Eq. 23 and its generator step Eq. 27."""

import torch

from ipm.engine import config_from_dict
from ipm.flows import ExactScore
from ipm.models import (
    ScoreGAN,
)
from tests.helpers import DT, build, sgd, step_context, tiny


def _score_gan_one_step(edm_dir, frozen: str, seed: int, **kw):
    """A float64 Score GAN (K = 1) with SGD, ``frozen`` at lr 0; one train_step is taken.
    Returns the model, the other network's parameters before and after the step, and a
    context rewound to the step's first draw (to replay it)."""
    from ipm.engine.trainer import load_data_score

    data_score = {"data_score": load_data_score(edm_dir, (2,))}
    _, m = build("score_gan", data_score, edm_checkpoint=str(edm_dir), score_steps=1, **kw)
    for net in [*m.networks.values(), m.data_score.denoiser]:
        net.double()
    opt = sgd(m)
    opt[frozen].param_groups[0]["lr"] = 0.0
    trained = "gen_score" if frozen == "generator" else "generator"
    before = [p.detach().clone() for p in m.networks[trained].parameters()]
    ctx = step_context(seed)
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
    out = m.train_step(step_context(1), sgd(m))
    assert torch.isfinite(out["particles"]).all()

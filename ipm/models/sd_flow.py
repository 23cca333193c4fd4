"""The score-difference (SD) flow of Weber (2023) with learned denoisers.

Weber shows that moving source samples y ~ q along the score difference ∇log p(y) − ∇log q(y)
is the direction of steepest descent of KL(q‖p), and that it suffices to align the *proxies*
p̃ = p ⋆ N(0, σ²I) and q̃ = q ⋆ N(0, σ²I) (aligned proxies ⇔ aligned originals). With a denoiser
per proxy, Tweedie's formula ∇log p̃(ỹ) = (D_p(ỹ, σ) − ỹ)/σ² (Eq. 24) turns the proxy score
difference into a difference of denoisers:

    σ² (∇log p̃ − ∇log q̃)(ỹ) = D_p(ỹ, σ) − D_q(ỹ, σ).

This is Eq. 19 of Franceschi et al. (2023) (μ_p = μ_ρ = 1; :class:`~ipm.flows.ScoreDifference`
of two :class:`~ipm.flows.DenoiserScore`), taken at noised points and scaled by σ²
(:class:`~ipm.flows.NoisedField` with k = 2). Both denoisers are learned: D_p on data, D_q on the
current particles, re-trained as the particles move (as the generated score is in Score GAN).
Each training step:

0. (the first ``warmup`` steps train the denoisers only)
1. ``data_steps`` denoising-score-matching steps (Eq. 23) of D_p on data;
2. ``score_steps`` steps of D_q on the current particles (or generator samples);
3. the flow step, σ drawn by Eq. 28, ỹ = y + σε:
   - ``variant="particles"`` (a PM): one Euler step y ← y + η (D_p(ỹ, σ) − D_q(ỹ, σ)) of the moved
     particles, clamped to [−clip, clip] if ``clip`` > 0;
   - ``variant="generator"`` (an Int-PM): one generator step on the loss −g(z)ᵀ sg(v) with the
     same v = D_p(ỹ, σ) − D_q(ỹ, σ) (Eq. 25).

Composition: flow = score difference (Eq. 19) of two learned denoisers × no generator (the pool
of particles) or a generator.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import InteractingParticleModel
from ..config.models import SDFlowConfig
from ..flows import DenoiserScore, EDMDenoiser, NoisedField, ScoreDifference
from ..nets.build import denoiser_body, generator_net
from ..solvers import euler_step
from .base import GenerativeModel, SampleOutput, StepContext, denoising_step, noise_sigma

__all__ = ["SDFlow"]


class SDFlow(GenerativeModel):
    config = SDFlowConfig
    optimizers = {"data_den": "optim", "source_den": "optim", "generator": "g_optim"}
    state = ("step", "particles")

    def __init__(self, cfg: SDFlowConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__(cfg, shape, batch_size)
        for name in ("data_den", "source_den"):
            body = denoiser_body(cfg.net, self.shape, cfg.embedding_dim, key="model.net")
            self.networks[name] = EDMDenoiser(self.dim, cfg.noise.sigma_data, body=body)
        if cfg.variant == "generator":
            self.networks["generator"] = generator_net(
                cfg.generator, cfg.latent_dim, self.shape, key="model.generator"
            )
            self.sampling_networks = ("generator",)
        self.particles: Tensor | None = None  # the pool (variant "particles"), (M, D)
        self.step = 0  # training steps done (the flow starts after cfg.warmup)

    def flow(self) -> ScoreDifference:
        """∇log p̃_σ − ∇log q̃_σ from the two denoisers (Eq. 19), σ read from t."""
        data, source = self.networks["data_den"], self.networks["source_den"]
        return ScoreDifference(DenoiserScore(data), DenoiserScore(source))

    def _source_batch(self, ctx: StepContext, b: int) -> Tensor:
        if self.cfg.variant == "generator":
            with torch.no_grad():
                return self.net("generator")(ctx.randn(b, self.cfg.latent_dim))
        return self.particles[ctx.randint(self.particles.shape[0], b)]

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        if c.variant == "particles" and self.particles is None:
            if ctx.world > 1:
                raise ValueError("model.variant: the particle pool of sd_flow is single-process")
            pool = torch.randn(c.n_particles, self.dim, generator=ctx.rng, dtype=ctx.dtype)
            self.particles = pool.to(ctx.device)
        for _ in range(c.data_steps):
            d_loss = denoising_step(
                opt["data_den"], self.net("data_den"), ctx.data_batch(b), ctx, c
            )
        for _ in range(c.score_steps):
            s_loss = denoising_step(
                opt["source_den"], self.net("source_den"), self._source_batch(ctx, b), ctx, c
            )
        out = {"data_loss": d_loss, "source_loss": s_loss}
        self.step += 1
        if self.step <= c.warmup:  # denoisers only: D_p learns the data, D_q the initial source
            return out
        if c.variant == "generator":
            z = ctx.randn(b, c.latent_dim)
            sigma, eps = noise_sigma(c.noise, ctx.rand(b)), ctx.randn(b, self.dim)
            field = NoisedField(self.flow(), sigma, eps, power=2)
            step = InteractingParticleModel(field, self.net("generator"), opt["generator"]).step(z)
            out["particles"] = step.x
            return out
        m = self.particles.shape[0]
        if c.move_batch and c.move_batch < m:
            idx = torch.randint(m, (c.move_batch,), generator=ctx.rng).to(ctx.device)
        else:
            idx = torch.arange(m, device=ctx.device)
        n = idx.shape[0]
        sigma = noise_sigma(c.noise, torch.rand(n, generator=ctx.rng, dtype=ctx.dtype)).to(
            ctx.device
        )
        eps = torch.randn(n, self.dim, generator=ctx.rng, dtype=ctx.dtype).to(ctx.device)
        field = NoisedField(self.flow(), sigma, eps, power=2)
        clamp = (-c.clip, c.clip) if c.clip > 0 else None
        with torch.no_grad():
            y = euler_step(field.field, self.particles[idx], None, c.eta, clamp=clamp)
        self.particles[idx] = y
        out["particles"] = y
        return out

    @property
    def max_samples(self) -> int | None:
        return self.cfg.n_particles if self.cfg.variant == "particles" else None

    def sample(self, n, *, generator=None, nfe=None, record=False) -> SampleOutput:
        if self.cfg.variant == "generator":
            return super().sample(n, generator=generator)
        if self.particles is None:
            raise ValueError("sd_flow: no particles yet (train the model first)")
        m = self.particles.shape[0]
        if n > m:
            raise ValueError(
                f"n: the particle pool holds {m} particles (model.n_particles), asked for {n}"
            )
        idx = torch.randperm(m, generator=generator)[:n].to(self.particles.device)
        return SampleOutput(self.particles[idx].clone(), 0, None)

    def field(self, x: Tensor) -> Tensor:
        """(D_p − D_q)(x, σ_min)/σ_min² = the proxy score difference at the smallest σ."""
        with torch.no_grad():
            return self.flow().field(x, self.cfg.noise.sigma_min)

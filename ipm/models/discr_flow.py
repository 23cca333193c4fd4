"""Discriminator Flow (§4.2, Algorithm 3): a GAN without a generator.

Composition: flow = :class:`~ipm.flows.DiscriminatorFlow` of one time-conditioned discriminator
f(x, t), dx = −η ∇(c∘f)(x, t) dt on t ∈ [0, 1] (Eq. 20) × no generator; solver = Euler on N
uniform steps from π = N(m·1, s² I) (``prior_mean`` m, ``prior_std`` s; the paper's N(0, I) by
default).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import ParticleModel
from ..config.models import DiscrFlowConfig
from ..distributions import IsotropicGaussian
from ..flows import DiscriminatorFlow, GANLoss, discriminator_objective
from ..nets.build import discriminator_net
from ..solvers import Euler, uniform_grid
from .base import GenerativeModel, SampleOutput, StepContext, descend, penalty

__all__ = ["DiscriminatorFlowModel"]


class DiscriminatorFlowModel(GenerativeModel):
    config = DiscrFlowConfig
    sampling_networks = ("discriminator",)
    is_particle_model = True
    optimizers = {"discriminator": "optim"}
    state = ("traj", "age", "steps")

    def __init__(self, cfg: DiscrFlowConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__(cfg, shape, batch_size)
        self.networks["discriminator"] = discriminator_net(
            cfg.net,
            self.shape,
            time_embedding=cfg.time_embedding,
            time_scale=cfg.time_scale,
            key="model.net",
        )
        self.loss = GANLoss(cfg.loss)
        # "multi_time": the cached trajectory (N, B, D) and how many updates used it;
        # "persistent": the particles (B, D) and their step indices (B,) (age stays 0)
        self.traj: Tensor | None = None
        self.age: int | None = None
        self.steps: Tensor | None = None

    def flow(self) -> DiscriminatorFlow:
        return DiscriminatorFlow(self.networks["discriminator"], self.loss, time_conditioned=True)

    def particle_model(self, steps: int | None = None, stop: int | None = None, record=False):
        """Euler on ``steps`` uniform steps of [0, 1] (default N), stopped after ``stop`` steps."""
        steps = steps or self.cfg.flow_steps
        grid = uniform_grid(0.0, 1.0, steps)
        if stop:
            grid = grid[: stop + 1]
        prior = self.prior()
        return ParticleModel(self.cfg.eta * self.flow(), Euler(grid, record=record), prior)

    def prior(self) -> IsotropicGaussian:
        """π = N(prior_mean·1, prior_std² I)."""
        return IsotropicGaussian(self.dim, self.cfg.prior_std, mean=self.cfg.prior_mean)

    def _prior_like(self, z: Tensor) -> Tensor:
        """Standard normal draws ``z`` mapped to π."""
        return self.cfg.prior_mean + self.cfg.prior_std * z

    def simulate(self, x0: Tensor) -> Tensor:
        """Positions x_{i/N}, i = 0 … N−1, of the training flow from x0: (N, B, D)."""
        res = self.particle_model(record=True).evolve(x0)
        return res.trajectory[:-1].detach()

    def simulate_to(self, x0: Tensor, stop: Tensor) -> Tensor:
        """x_{stop_j/N} of particle j's Euler flow from x0_j: the paper's trajectory (Algorithm
        3) simulated only as far as each particle's training time, Σ_j stop_j ≈ B·N/2 field
        rows instead of B·N (the flow does not couple particles). Returns (B, D)."""
        return self.particle_model().evolve(x0.detach(), stop=stop).x

    def _fake_batch(self, ctx: StepContext) -> tuple[Tensor, Tensor, Tensor | None]:
        """Fake particles, their step indices i (t = i/N), and the last trajectory's end."""
        b, c, n = self.batch_size, self.cfg, self.cfg.flow_steps
        if c.schedule == "paper":
            x0, i = self._prior_like(ctx.randn(b, self.dim)), ctx.randint(n, b)
            return self.simulate_to(x0, i), i, None
        if c.schedule == "multi_time":
            if self.traj is None or self.age >= c.times_per_trajectory:
                self.traj, self.age = self.simulate(self._prior_like(ctx.randn(b, self.dim))), 0
            self.age += 1
            i = ctx.randint(n, b)
            return self.traj[i, torch.arange(i.shape[0], device=i.device)], i, self.traj[-1]
        # persistent: B particles at staggered steps, each advanced one step per update
        if self.traj is None:
            i = ctx.local(torch.arange(b) % n)
            x0 = self._prior_like(ctx.randn(b, self.dim))
            self.traj, self.steps, self.age = self.simulate_to(x0, i), i, 0
        return self.traj, self.steps, None

    def _advance(self, ctx: StepContext) -> None:
        """Persistent schedule: one Euler step of every particle at its own time with the
        updated discriminator; particles that reach t = 1 restart from fresh noise at t = 0."""
        n = self.cfg.flow_steps
        # drawn every step: a fixed RNG stream
        noise = self._prior_like(ctx.randn(self.batch_size, self.dim))
        t = self.steps.to(self.traj.dtype) / n
        x = self.particle_model().step(self.traj, t, 1.0 / n)
        nxt = self.steps + 1
        done = nxt >= n
        self.traj = torch.where(done[:, None], noise, x.detach())
        self.steps = torch.where(done, torch.zeros_like(nxt), nxt)

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        fake, i, end = self._fake_batch(ctx)
        real = ctx.data_batch(b)
        u = ctx.rand(b)
        t = i.to(fake.dtype) / c.flow_steps
        d = self.net("discriminator")
        obj = discriminator_objective(self.loss, d(fake, t)[:, 0], d(real, t)[:, 0])
        loss = -obj
        if c.gp.weight > 0:
            loss = loss + penalty(c.gp, lambda x: d(x, t)[:, 0], real, fake, u)
        loss = descend(opt["discriminator"], loss)
        if c.schedule == "persistent":
            self._advance(ctx)
        return {"d_loss": loss, "particles": fake if end is None else end}

    def sample(self, n, *, generator=None, nfe=None, record=False, stop=None) -> SampleOutput:
        stop = stop if stop is not None else (self.cfg.sample_stop or None)
        pm = self.particle_model(nfe, stop, record)
        dev = self.device
        x0 = self._prior_like(torch.randn(n, self.dim, generator=generator)).to(dev)
        res = pm.evolve(x0)
        return SampleOutput(res.x.detach(), res.nfe, res.trajectory)

    def field(self, x: Tensor) -> Tensor:
        return self.cfg.eta * self.flow().field(x, 1.0 - 1.0 / self.cfg.flow_steps)

    def generator_loss(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            f = self.networks["discriminator"](x, 1.0 - 1.0 / self.cfg.flow_steps)[:, 0]
            return self.loss.fns.c(f)

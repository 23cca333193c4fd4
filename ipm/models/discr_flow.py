"""Discriminator Flow (§4.2, Algorithm 3): a GAN without a generator.

Composition: flow = :class:`~ipm.flows.DiscriminatorFlow` of one time-conditioned discriminator
f(x, t), dx = −η ∇(c∘f)(x, t) dt on t ∈ [0, 1] (Eq. 20) × no generator; solver = Euler on N
uniform steps from π = N(0, I).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import ParticleModel
from ..config import DiscrFlowConfig
from ..distributions import Gaussian
from ..flows import DiscriminatorFlow, GANLoss, discriminator_objective
from ..generators import TimeConditionedMLP
from ..solvers import Euler, uniform_grid
from .base import GenerativeModel, SampleOutput, StepContext, init_network
from .gan import gradient_penalty, penalty_points

__all__ = ["DiscriminatorFlowModel"]


class DiscriminatorFlowModel(GenerativeModel):
    name = "discr_flow"
    composition = "discriminator flow −η∇(c∘f)(x, t) (20) × no generator"
    sampling_networks = ("discriminator",)
    is_particle_model = True

    def __init__(self, cfg: DiscrFlowConfig, dim: int, batch_size: int = 128):
        super().__init__()
        self.cfg, self.dim, self.batch_size = cfg, dim, batch_size
        n = cfg.net
        self.networks["discriminator"] = TimeConditionedMLP(
            dim,
            1,
            width=n.width,
            depth=n.depth,
            activation_name=n.activation,
            embedding=cfg.time_embedding,
            scale=cfg.time_scale,
        )
        init_network(self.networks["discriminator"], n)
        self.loss = GANLoss(cfg.loss)
        self._traj: Tensor | None = None  # cached trajectory (schedule "multi_time")
        self._age = 0

    def optimizer_specs(self):
        return {
            "discriminator": (list(self.networks["discriminator"].parameters()), self.cfg.optim)
        }

    def flow(self) -> DiscriminatorFlow:
        return DiscriminatorFlow(self.networks["discriminator"], self.loss, time_conditioned=True)

    def particle_model(self, steps: int | None = None, stop: int | None = None, record=False):
        """Euler on ``steps`` uniform steps of [0, 1] (default N), stopped after ``stop`` steps."""
        steps = steps or self.cfg.flow_steps
        grid = uniform_grid(0.0, 1.0, steps)
        if stop:
            grid = grid[: stop + 1]
        prior = Gaussian.standard(self.dim)
        return ParticleModel(self.cfg.eta * self.flow(), Euler(grid, record=record), prior)

    def simulate(self, x0: Tensor) -> Tensor:
        """Positions x_{i/N}, i = 0 … N−1, of the training flow from x0: (N, B, D)."""
        res = self.particle_model(record=True).evolve(x0)
        return res.trajectory[:-1].detach()

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        k = c.times_per_trajectory if c.schedule == "multi_time" else 1
        x0 = ctx.randn(b, self.dim) if (self._traj is None or self._age >= k) else None
        if x0 is not None:
            self._traj, self._age = self.simulate(x0), 0
        self._age += 1
        traj = self._traj
        n_steps = traj.shape[0]
        i = ctx.randint(n_steps, b)
        real = ctx.data_batch(b)
        u = ctx.rand(b)
        fake = traj[i, torch.arange(traj.shape[1], device=traj.device)]
        t = i.to(fake.dtype) / n_steps
        d = self.net("discriminator")
        obj = discriminator_objective(self.loss, d(fake, t)[:, 0], d(real, t)[:, 0])
        loss = -obj
        if c.gp_weight > 0:
            pts = penalty_points("interpolates", real, fake, u)
            loss = loss + c.gp_weight * gradient_penalty(lambda x: d(x, t)[:, 0], pts)
        opt["discriminator"].zero_grad(set_to_none=True)
        loss.backward()
        opt["discriminator"].step()
        return {"d_loss": loss.detach(), "particles": traj[-1]}

    def extra_state(self) -> dict[str, Tensor]:
        if self._traj is None:
            return {}
        return {"traj": self._traj.cpu(), "age": torch.tensor(self._age)}

    def load_extra_state(self, state: dict[str, Tensor]) -> None:
        if "traj" in state:
            dev = next(self.networks["discriminator"].parameters()).device
            self._traj, self._age = state["traj"].to(dev), int(state["age"])

    def sample(self, n, *, generator=None, nfe=None, record=False, stop=None) -> SampleOutput:
        stop = stop if stop is not None else (self.cfg.sample_stop or None)
        pm = self.particle_model(nfe, stop, record)
        dev = next(self.networks["discriminator"].parameters()).device
        x0 = torch.randn(n, self.dim, generator=generator).to(dev)
        res = pm.evolve(x0)
        return SampleOutput(res.x.detach(), res.nfe, res.trajectory)

    def field(self, x: Tensor) -> Tensor:
        return self.cfg.eta * self.flow().field(x, 1.0 - 1.0 / self.cfg.flow_steps)

    def generator_loss(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            f = self.networks["discriminator"](x, 1.0 - 1.0 / self.cfg.flow_steps)[:, 0]
            return self.loss.fns.c(f)

"""GANs as interacting particle models (Findings 5–6).

Composition: flow = :class:`~ipm.flows.DiscriminatorFlow`, the field −∇(c∘f) of the trained
discriminator (Eq. 16, 20; trained by Eq. 15 with the gradient penalty
:func:`~ipm.flows.gradient_penalty`) × a generator trained as an Int-PM on it (the surrogate
loss of Eq. 25, whose gradient is that of the generator loss E_z[c∘f(g(z))]).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .. import InteractingParticleModel
from ..config.models import GANConfig
from ..flows import DiscriminatorFlow, GANLoss, discriminator_objective
from ..nets.build import discriminator_net, generator_net
from .base import GenerativeModel, StepContext, descend, penalty

__all__ = ["GAN"]


def discriminate(d, fake: Tensor, real: Tensor) -> tuple[Tensor, Tensor]:
    """(f(fake), f(real)). Without batch-dependent layers (BatchNorm), one forward pass on the
    stacked batch: the same values, one weight gradient per layer instead of two to add, and
    larger matrix products. With BatchNorm, two passes, so that each batch keeps its own
    statistics."""
    if any(isinstance(m, _BatchNorm) for m in d.modules()):
        return d(fake)[:, 0], d(real)[:, 0]
    f = d(torch.cat([fake, real]))[:, 0]
    return f[: fake.shape[0]], f[fake.shape[0] :]


class GAN(GenerativeModel):
    config = GANConfig
    sampling_networks = ("generator",)
    optimizers = {"generator": "g_optim", "discriminator": "d_optim"}

    def __init__(self, cfg: GANConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__(cfg, shape, batch_size)
        self.networks["generator"] = generator_net(
            cfg.generator, cfg.latent_dim, self.shape, key="model.generator"
        )
        self.networks["discriminator"] = discriminator_net(
            cfg.discriminator, self.shape, key="model.discriminator"
        )
        self.loss = GANLoss(cfg.loss)

    def flow(self) -> DiscriminatorFlow:
        d = self.networks["discriminator"]
        return DiscriminatorFlow(lambda x: d(x)[:, 0], self.loss)

    def discriminator_step(self, ctx: StepContext, opt, fake: Tensor) -> Tensor:
        """One ascent step on E_ρ[a∘f] − E_p[b∘f] − λ R(f) (Eq. 15)."""
        b = self.batch_size
        real = ctx.data_batch(b)
        u = ctx.rand(b)
        d = self.net("discriminator")
        obj = discriminator_objective(self.loss, *discriminate(d, fake, real))
        loss = -obj
        if self.cfg.gp.weight > 0:
            loss = loss + penalty(self.cfg.gp, lambda x: d(x)[:, 0], real, fake, u)
        return descend(opt["discriminator"], loss)

    def train_step(self, ctx: StepContext, opt) -> dict:
        b = self.batch_size
        gen = self.net("generator")
        for _ in range(self.cfg.d_steps):
            with torch.no_grad():
                fake = gen(ctx.randn(b, self.cfg.latent_dim))
            d_loss = self.discriminator_step(ctx, opt, fake)
        intpm = InteractingParticleModel(self.flow(), gen, opt["generator"])
        step = intpm.step(ctx.randn(b, self.cfg.latent_dim))
        g_loss = -step.h.mean()  # E[c∘f(g(z))], from the field's own forward pass
        return {"d_loss": d_loss, "g_loss": g_loss, "particles": step.x}

    def field(self, x: Tensor) -> Tensor:
        return self.flow().field(x)

    def generator_loss(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return self.loss.fns.c(self.networks["discriminator"](x)[:, 0])

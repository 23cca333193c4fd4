"""Diffusion-MMD gradient flow, DMMD (Galashov, De Bortoli & Gretton, arXiv 2405.06780).

A particle model whose h_ρ is a *noise-adaptive* squared MMD: at noise level t the kernel is
k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩, the linear kernel on a learned, noise-conditional feature map φ
(the paper's scalable choice of base kernel). In the framework this is the squared-MMD flow of
Table 2 (:class:`~ipm.flows.SquaredMMD`) with a learned kernel — a discriminator flow trained
without a generator and without adversarial training.

Training (no particles involved): along a forward diffusion x_t = α_t x + σ_t ε, here the cosine
variance-preserving schedule α_t = cos(πt/2), σ_t = sin(πt/2) (t = 1: pure N(0, I) noise), φ is
trained to *maximise* the unbiased MMD²_{k_t}(P, P_t) between clean data and data noised at
level t, with a gradient penalty on the witness and an ℓ2 penalty on the features:

    max_φ  E_t[ MMD²_u(X, X_t; k_t) ] − λ_gp E[(‖∇f_t(z)‖ − 1)²] − λ_2 E‖φ‖²,
    f_t(z) = ⟨φ(z, t), μ_t(X_t) − μ_t(X)⟩ (the witness), z on segments between X and X_t.

Sampling (the noise-adaptive MMD gradient flow): particles Z ~ N(0, I); for levels
t = 1 → t_min, ``steps_per_level`` Euler steps of the Wasserstein gradient flow of ½MMD²_{k_t}
towards the clean data, z ← z − η ∇_z⟨φ(z, t), μ_t(Z) − μ_t(X_ref)⟩ (μ: mean features; the data
mean from ``reference`` clean points kept with the model), optionally with noise injection.
Equation numbers of arXiv 2405.06780 could not be checked offline; the formulas above are the
ones implemented.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..config import DMMDConfig
from .base import GenerativeModel, SampleOutput, StepContext, as_shape
from .networks import discriminator_net

__all__ = ["DMMD", "linear_mmd2_unbiased", "vp_schedule"]


def vp_schedule(t: Tensor) -> tuple[Tensor, Tensor]:
    """(α_t, σ_t) = (cos(πt/2), sin(πt/2)): x_t = α_t x + σ_t ε, α_t² + σ_t² = 1."""
    a = 0.5 * math.pi * t
    return a.cos(), a.sin()


def linear_mmd2_unbiased(fa: Tensor, fb: Tensor) -> Tensor:
    """Unbiased MMD² with the linear kernel ⟨φa, φb⟩, batched over leading dims.

    fa: (..., n, F), fb: (..., m, F) → (...,):
    [‖Σa‖² − Σ‖a‖²]/(n(n−1)) + [‖Σb‖² − Σ‖b‖²]/(m(m−1)) − 2⟨Σa, Σb⟩/(nm).
    """
    n, m = fa.shape[-2], fb.shape[-2]
    sa, sb = fa.sum(-2), fb.sum(-2)
    aa = ((sa * sa).sum(-1) - (fa * fa).sum((-1, -2))) / (n * (n - 1))
    bb = ((sb * sb).sum(-1) - (fb * fb).sum((-1, -2))) / (m * (m - 1))
    return aa + bb - 2 * (sa * sb).sum(-1) / (n * m)


class DMMD(GenerativeModel):
    name = "dmmd"
    composition = "noise-adaptive squared-MMD flow, learned linear kernel on φ(x, t) × no generator"
    sampling_networks = ("features",)
    is_particle_model = True

    def __init__(self, cfg: DMMDConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__()
        self.shape = as_shape(shape)
        self.cfg, self.dim, self.batch_size = cfg, math.prod(self.shape), batch_size
        levels = cfg.levels_per_step
        if batch_size % levels or batch_size // levels < 2:
            raise ValueError(
                f"model.levels_per_step: train.batch_size = {batch_size} must split into "
                f"{levels} groups of at least 2"
            )
        self.networks["features"] = discriminator_net(
            cfg.net,
            self.shape,
            time_embedding=cfg.time_embedding,
            time_scale=cfg.time_scale,
            out=cfg.features,
            key="model.net",
        )
        self.reference: Tensor | None = None  # clean data for the sampling-time mean embedding

    def optimizer_specs(self):
        return {"features": (list(self.networks["features"].parameters()), self.cfg.optim)}

    def phi(self, x: Tensor, t: Tensor | float, net=None) -> Tensor:
        return (net or self.networks["features"])(x, t)

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        if self.reference is None:  # drawn once, from the global stream (same on every rank)
            self.reference = ctx.data(c.reference, ctx.rng).to(ctx.dtype).to(ctx.device)
        levels, k = c.levels_per_step, b // c.levels_per_step
        x, x2 = ctx.data_batch(b), ctx.data_batch(b)
        if ctx.world > 1:  # the MMD couples the rows of a level: one process sees them all
            raise ValueError("dmmd: distributed training is not supported yet")
        t = c.t_min + (1 - c.t_min) * ctx.rand(levels)
        t_rows = t.repeat_interleave(k)
        eps, u = ctx.randn(b, self.dim), ctx.rand(b)
        alpha, sigma = vp_schedule(t_rows)
        xt = alpha[:, None] * x2 + sigma[:, None] * eps
        net = self.net("features")
        fx, fy = self.phi(x, t_rows, net), self.phi(xt, t_rows, net)
        mmd2 = linear_mmd2_unbiased(fx.view(levels, k, -1), fy.view(levels, k, -1))
        loss = -mmd2.mean()
        if c.gp_weight > 0:
            w = fy.view(levels, k, -1).mean(1) - fx.view(levels, k, -1).mean(1)  # (L, F)
            z = (u[:, None] * x + (1 - u[:, None]) * xt).detach().requires_grad_(True)
            f = (self.phi(z, t_rows, net) * w.repeat_interleave(k, 0)).sum(1)
            (g,) = torch.autograd.grad(f.sum(), z, create_graph=True)
            loss = loss + c.gp_weight * ((g.norm(dim=1) - 1) ** 2).mean()
        if c.l2_weight > 0:
            loss = loss + c.l2_weight * ((fx * fx).sum(1).mean() + (fy * fy).sum(1).mean())
        opt["features"].zero_grad(set_to_none=True)
        loss.backward()
        opt["features"].step()
        return {"loss": loss.detach(), "mmd2": mmd2.detach().mean(), "particles": xt.detach()}

    def levels(self, n_levels: int | None = None) -> Tensor:
        """The sampling levels t = 1 → t_min."""
        return torch.linspace(1.0, self.cfg.t_min, n_levels or self.cfg.flow_levels)

    def witness_grad(self, z: Tensor, t: float, mu_data: Tensor) -> Tensor:
        """∇_z⟨φ(z, t), μ_t(Z) − μ_t(X)⟩ with μ_t(Z) the particles' mean features (held fixed)."""
        with torch.enable_grad():
            z = z.detach().requires_grad_(True)
            fz = self.phi(z, t)
            w = (fz.mean(0) - mu_data).detach()
            (g,) = torch.autograd.grad((fz * w).sum(), z)
        return g

    def sample(self, n, *, generator=None, nfe=None, record=False) -> SampleOutput:
        c = self.cfg
        if self.reference is None:
            raise ValueError("dmmd: no reference data yet (train the model first)")
        dev = self.reference.device
        steps = c.steps_per_level
        n_levels = c.flow_levels if nfe is None else max(1, nfe // steps)
        z = torch.randn(n, self.dim, generator=generator).to(dev)
        traj = [z.cpu()] if record else None
        for t in self.levels(n_levels).tolist():
            with torch.no_grad():
                mu = torch.cat([self.phi(r, t) for r in self.reference.split(4096)]).mean(0)
            for _ in range(steps):
                z = z - c.eta * self.witness_grad(z, t, mu)
            if c.noise_injection > 0 and t > c.t_min:
                _, s = vp_schedule(torch.tensor(t))
                z = z + c.noise_injection * float(s) * torch.randn(z.shape, generator=generator).to(
                    dev
                )
            if record:
                traj.append(z.detach().cpu())
        return SampleOutput(z.detach(), n_levels * steps, torch.stack(traj) if record else None)

    def field(self, x: Tensor) -> Tensor:
        """−∇ witness at t_min (towards the data), for figures."""
        with torch.no_grad():
            mu = self.phi(self.reference, self.cfg.t_min).mean(0)
        return -self.witness_grad(x, self.cfg.t_min, mu)

    def extra_state(self) -> dict[str, Tensor]:
        return {} if self.reference is None else {"reference": self.reference.cpu()}

    def load_extra_state(self, state: dict[str, Tensor]) -> None:
        if "reference" in state:
            dev = next(self.networks["features"].parameters()).device
            self.reference = state["reference"].to(dev)

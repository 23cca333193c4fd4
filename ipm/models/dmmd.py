"""Diffusion-MMD gradient flow, DMMD (Galashov, De Bortoli & Gretton 2024).

A particle model whose h_ρ is a *noise-adaptive* squared MMD: at noise level t the kernel is
k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩, the linear kernel on a learned, noise-conditional feature map φ
(the scalable choice of base kernel of Galashov et al.). In the framework this is the
squared-MMD flow of Table 2 (:class:`~ipm.flows.SquaredMMD`) with a learned kernel
(:class:`~ipm.kernels.FeatureKernel`) — a discriminator flow trained without a generator and
without adversarial training.

Training (no particles involved): along a forward diffusion x_t = α_t x + σ_t ε, the cosine
variance-preserving schedule α_t = cos(πt/2), σ_t = sin(πt/2) (:func:`~ipm.schedules.vp_schedule`;
t = 1: pure N(0, I) noise), φ is trained to *maximise* the unbiased MMD²_{k_t}(P, P_t) between
clean data and data noised at level t, with a gradient penalty on the witness and an ℓ2 penalty
on the features:

    max_φ  E_t[ MMD²_u(X, X_t; k_t) ] − λ_gp E[(‖∇f_t(z)‖ − 1)²] − λ_2 E‖φ‖²,
    f_t(z) = ⟨φ(z, t), μ_t(X_t) − μ_t(X)⟩ (the witness), z on segments between X and X_t.

Sampling (the noise-adaptive MMD gradient flow, :class:`~ipm.solvers.AnnealedEuler`): particles
Z ~ N(0, I); for levels t = 1 → t_min, ``steps_per_level`` Euler steps of size η of the squared-MMD
flow of k_t towards ``reference`` clean points kept with the model, z ← z + η ∇⟨φ(z, t),
μ_t(X_ref) − μ_t(Z)⟩ (μ: mean features), then optionally noise of scale
``noise_injection``·σ_t.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from .. import ParticleModel
from ..config.models import DMMDConfig
from ..flows import SquaredMMD, linear_mmd2_unbiased
from ..kernels import FeatureKernel
from ..nets.build import discriminator_net
from ..schedules import vp_schedule
from ..solvers import AnnealedEuler
from .base import GenerativeModel, SampleOutput, StepContext, descend, penalty

__all__ = ["DMMD"]


class DMMD(GenerativeModel):
    config = DMMDConfig
    sampling_networks = ("features",)
    is_particle_model = True
    optimizers = {"features": "optim"}
    state = ("reference",)

    def __init__(self, cfg: DMMDConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__(cfg, shape, batch_size)
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
        if c.gp.weight > 0:
            w = fy.view(levels, k, -1).mean(1) - fx.view(levels, k, -1).mean(1)  # (L, F)
            w_rows = w.repeat_interleave(k, 0)
            witness = lambda z: (self.phi(z, t_rows, net) * w_rows).sum(1)  # noqa: E731
            loss = loss + penalty(c.gp, witness, x, xt, u)
        if c.l2_weight > 0:
            loss = loss + c.l2_weight * ((fx * fx).sum(1).mean() + (fy * fy).sum(1).mean())
        loss = descend(opt["features"], loss)
        return {"loss": loss, "mmd2": mmd2.detach().mean(), "particles": xt.detach()}

    def levels(self, n_levels: int | None = None) -> Tensor:
        """The sampling levels t = 1 → t_min."""
        return torch.linspace(1.0, self.cfg.t_min, n_levels or self.cfg.flow_levels)

    def flow(self) -> SquaredMMD:
        """The squared-MMD flow towards the reference data with the learned kernel k_t."""
        if self.reference is None:
            raise ValueError("dmmd: no reference data yet (train the model first)")
        return SquaredMMD(FeatureKernel(self.networks["features"]), self.reference)

    def noise_scale(self, t: float) -> float:
        """The noise injected after level t: ``noise_injection``·σ_t (none after the last)."""
        c = self.cfg
        if c.noise_injection <= 0 or t <= c.t_min:
            return 0.0
        _, s = vp_schedule(torch.tensor(t))
        return c.noise_injection * float(s)

    def particle_model(self, n_levels: int | None = None, record: bool = False) -> ParticleModel:
        c = self.cfg
        solver = AnnealedEuler(
            self.levels(n_levels), c.steps_per_level, c.eta, self.noise_scale, record=record
        )
        return ParticleModel(self.flow(), solver)

    def sample(self, n, *, generator=None, nfe=None, record=False) -> SampleOutput:
        c = self.cfg
        pm = self.particle_model(None if nfe is None else max(1, nfe // c.steps_per_level), record)
        z = torch.randn(n, self.dim, generator=generator).to(self.reference.device)
        res = pm.evolve(z, generator=generator)
        return SampleOutput(res.x.detach(), res.nfe, res.trajectory)

    def field(self, x: Tensor) -> Tensor:
        """The flow's field at t_min (towards the data), for figures."""
        return self.flow().field(x, self.cfg.t_min)

    def field_norms(self, levels: Tensor, n: int = 256, generator=None) -> Tensor:
        """‖∇h_t(z)‖ of the flow at each level t in ``levels`` (L,), for z the first ``n``
        reference points noised to t, x_t = α_t x + σ_t ε, with those points as the particles:
        the field the sampler meets at level t when its particles are distributed as P_t.
        Returns (L, n).

        The gradient penalty holds the trained witness's gradient near 1 only as far as it
        outweighs the linear-kernel MMD², which grows as s² in the features' scale s against
        the penalty's s⁴: maximising s²M − λ(s²g − 1)² gives ‖∇f‖ = 1 + (M/g)/(2λ) with M/g at
        most W1(P, P_t), so a weak penalty lets the field grow to about W1/(2λ)."""
        flow = self.flow()
        x = self.reference[:n]
        eps = torch.randn(x.shape, generator=generator).to(x)
        rows = []
        for t in levels.tolist():
            alpha, sigma = vp_schedule(torch.tensor(t))
            xt = float(alpha) * x + float(sigma) * eps
            rows.append(flow.field(xt, t).detach().norm(dim=1))
        return torch.stack(rows)

    def extra_figures(self, out: Path, step: int) -> None:
        """figures/field_norms.png: the field's norm against the noise level (median and
        10–90% band), beside 1, the gradient penalty's target (see :meth:`field_norms`)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        levels = torch.linspace(1.0, self.cfg.t_min, 20)
        norms = self.field_norms(levels, generator=torch.Generator().manual_seed(0)).cpu()
        q = torch.quantile(norms.double(), torch.tensor([0.1, 0.5, 0.9], dtype=torch.double), 1)
        fig, ax = plt.subplots(figsize=(5, 3.4))
        ax.fill_between(levels, q[0], q[2], alpha=0.3, label="10–90%")
        ax.plot(levels, q[1], marker=".", label="median")
        ax.axhline(1.0, color="k", lw=0.8, ls="--", label="penalty's target")
        ax.set(
            xlabel="noise level t",
            ylabel="‖∇h_t‖ at x_t ~ P_t",
            yscale="log",
            title=f"dmmd field norm, step {step} (gp weight {self.cfg.gp.weight:g})",
        )
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "field_norms.png", dpi=100)
        plt.close(fig)

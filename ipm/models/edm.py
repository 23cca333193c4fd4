"""EDM (Karras et al. 2022) as a particle model: the probability-flow ODE (Eq. 8) or the SDE
(Eq. 7) of a learned data score, with no generator.

Composition: flow = :class:`~ipm.flows.EDMProbabilityFlow` (or the α = 1 member of
:class:`~ipm.flows.EDMFamily`, the SDE) of the score s(x, σ) = (D(x, σ) − x)/σ² (Eq. 24,
:class:`~ipm.flows.DenoiserScore`) of a preconditioned denoiser D trained by denoising score
matching (Eq. 23, :func:`~ipm.flows.denoising_loss`); solver = Heun / Euler / Euler–Maruyama on
the EDM σ grid.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import ParticleModel
from .._checks import check_positive_int
from ..config.models import EDMConfig
from ..distributions import IsotropicGaussian
from ..flows import DenoiserScore, EDMDenoiser, EDMFamily, EDMProbabilityFlow, denoising_loss
from ..nets.build import denoiser_body
from ..schedules import lognormal_sigma
from ..solvers import Euler, EulerMaruyama, Heun, edm_grid
from .base import GenerativeModel, SampleOutput, StepContext, descend

__all__ = ["EDM"]


class EDM(GenerativeModel):
    config = EDMConfig
    sampling_networks = ("denoiser",)
    is_particle_model = True
    optimizers = {"denoiser": "optim"}

    def __init__(self, cfg: EDMConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__(cfg, shape, batch_size)
        body = denoiser_body(cfg.net, self.shape, cfg.embedding_dim, key="model.net")
        self.networks["denoiser"] = EDMDenoiser(self.dim, cfg.noise.sigma_data, body=body)

    @property
    def denoiser(self) -> EDMDenoiser:
        return self.networks["denoiser"]

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        x = ctx.data_batch(b)
        sigma = lognormal_sigma(ctx.randn(b), c.p_mean, c.p_std)
        noise = ctx.randn(b, self.dim)
        loss = denoising_loss(self.net("denoiser"), x, sigma, noise, sigma_data=c.noise.sigma_data)
        return {"loss": descend(opt["denoiser"], loss)}

    # sampling ---------------------------------------------------------------------------

    def score(self, *, clamp: bool = False) -> DenoiserScore:
        """The learned score (Eq. 24). ``clamp``: for images (in [−1, 1] by ipm's convention),
        the denoiser's output clamped to [−1, 1] first, as the sampler uses it."""
        return DenoiserScore(self.denoiser, clamp=(-1.0, 1.0) if clamp else None)

    def particle_model(self, steps: int | None = None, record: bool = False) -> ParticleModel:
        """The sampler. On images the score's denoiser output is clamped to the data range
        (:class:`~ipm.flows.DenoiserScore`; seen without it: one digits sample in ~1,800 sent
        to 1e31 by the ODE); training and a Score GAN's data score use the unclamped score."""
        c = self.cfg
        steps = steps or c.sampler_steps
        grid = edm_grid(steps, c.noise.sigma_min, c.noise.sigma_max, c.noise.rho)
        score = self.score(clamp=len(self.shape) == 3)
        prior = IsotropicGaussian(self.dim, c.noise.sigma_max, dtype=torch.float64)
        if c.sampler == "heun":
            return ParticleModel(
                EDMProbabilityFlow(score), Heun(grid, record=record, euler_last_step=True), prior
            )
        if c.sampler == "euler":
            return ParticleModel(EDMProbabilityFlow(score), Euler(grid, record=record), prior)
        return ParticleModel(EDMFamily(score, 1.0), EulerMaruyama(grid, record=record), prior)

    def steps_for_nfe(self, nfe: int) -> int:
        """Solver steps spending at most ``nfe`` evaluations (Heun: 2n − 1)."""
        check_positive_int(nfe, "nfe")
        return max(1, (nfe + 1) // 2) if self.cfg.sampler == "heun" else max(1, nfe)

    @torch.no_grad()
    def sample(self, n, *, generator=None, nfe=None, record=False) -> SampleOutput:
        steps = None if nfe is None else self.steps_for_nfe(nfe)
        pm = self.particle_model(steps, record)
        w = next(self.denoiser.parameters())
        x0 = pm.prior.sample(n, generator=generator).to(w.dtype).to(w.device)
        res = pm.evolve(x0, generator=generator)
        return SampleOutput(res.x, res.nfe, res.trajectory)

    def field(self, x: Tensor) -> Tensor:
        """The ODE velocity −σ ∇log p_σ at the smallest noise level."""
        with torch.no_grad():
            return -self.cfg.noise.sigma_min * self.score()(x, self.cfg.noise.sigma_min)

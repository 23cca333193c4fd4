"""EDM (Karras et al. 2022) as a particle model: the probability-flow ODE (Eq. 8) or the SDE
(Eq. 7) of a learned data score, with no generator.

Composition: flow = :class:`~ipm.flows.EDMProbabilityFlow` (or the α = 1 member of
:class:`~ipm.flows.EDMFamily`, the SDE) of the score s(x, σ) = (D(x, σ) − x)/σ² (Eq. 24) of a
preconditioned denoiser D; solver = Heun / Euler / Euler–Maruyama on the EDM σ grid.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .. import ParticleModel
from ..config import EDMConfig
from ..distributions import IsotropicGaussian
from ..flows import CallableScore, EDMFamily, EDMProbabilityFlow
from ..generators import TimeConditionedMLP
from ..solvers import Euler, EulerMaruyama, Heun, edm_grid
from .base import GenerativeModel, SampleOutput, StepContext, as_shape
from .networks import denoiser_body

__all__ = ["EDM", "EDMDenoiser", "edm_loss"]


class EDMDenoiser(nn.Module):
    """D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ)) (Karras et al., Table 1).

    c_skip = σ_d²/(σ² + σ_d²), c_out = σ σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²),
    c_noise = ¼ ln σ; F (``body``) is a noise-conditioned network on flat particles: an MLP
    (the default, built from ``width``/``depth``/``activation``/``embedding``) or a U-Net.
    """

    def __init__(
        self,
        dim: int,
        sigma_data: float,
        *,
        body: nn.Module | None = None,
        width: int = 512,
        depth: int = 4,
        activation: str = "leaky_relu",
        embedding: int = 128,
    ):
        super().__init__()
        self.sigma_data = float(sigma_data)
        self.dim = dim
        if body is None:  # the MLP body of the 2-D models
            body = TimeConditionedMLP(
                dim, dim, width=width, depth=depth, activation_name=activation, embedding=embedding
            )
        self.f = body

    def forward(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s = s.expand(x.shape[0]) if s.ndim == 0 else s
        sd2 = self.sigma_data**2
        s2 = s * s
        c_skip = (sd2 / (s2 + sd2))[:, None]
        c_out = (s * self.sigma_data / (s2 + sd2).sqrt())[:, None]
        c_in = (1 / (s2 + sd2).sqrt())[:, None]
        return c_skip * x + c_out * self.f(c_in * x, s.log() / 4)

    def score(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        """s(x, σ) = (D(x, σ) − x)/σ² (Eq. 24)."""
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s2 = (s * s)[:, None] if s.ndim == 1 else s * s
        return (self(x, sigma) - x) / s2


def edm_loss(
    den: nn.Module, x: Tensor, sigma: Tensor, noise: Tensor, sigma_data: float, weighted=True
) -> Tensor:
    """Denoising score matching (Eq. 23), E ‖d(x + σε, σ) − x‖², with EDM's weight
    λ(σ) = (σ² + σ_d²)/(σ σ_d)² when ``weighted`` (Eq. 23 itself has none)."""
    err = den(x + sigma[:, None] * noise, sigma) - x
    sq = (err * err).sum(1)
    if weighted:
        sq = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2 * sq
    return sq.mean()


class EDM(GenerativeModel):
    name = "edm"
    composition = "EDM probability-flow ODE (8) / SDE (7) of a learned score × no generator"
    sampling_networks = ("denoiser",)
    is_particle_model = True

    def __init__(self, cfg: EDMConfig, shape: int | tuple[int, ...], batch_size: int = 128):
        super().__init__()
        self.shape = as_shape(shape)
        self.cfg, self.dim, self.batch_size = cfg, math.prod(self.shape), batch_size
        body = denoiser_body(cfg.net, self.shape, cfg.embedding_dim, key="model.net")
        self.networks["denoiser"] = EDMDenoiser(self.dim, cfg.sigma_data, body=body)

    @property
    def denoiser(self) -> EDMDenoiser:
        return self.networks["denoiser"]

    def optimizer_specs(self):
        return {"denoiser": (list(self.denoiser.parameters()), self.cfg.optim)}

    def train_step(self, ctx: StepContext, opt) -> dict:
        b = self.batch_size
        x = ctx.data_batch(b)
        sigma = (self.cfg.p_mean + self.cfg.p_std * ctx.randn(b)).exp()
        noise = ctx.randn(b, self.dim)
        loss = edm_loss(self.net("denoiser"), x, sigma, noise, self.cfg.sigma_data)
        opt["denoiser"].zero_grad(set_to_none=True)
        loss.backward()
        opt["denoiser"].step()
        return {"loss": loss.detach()}

    # sampling ---------------------------------------------------------------------------

    def score(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        """The learned score (Eq. 24): one σ, or one σ_i per particle (N,)."""
        return self.denoiser.score(x, sigma)

    def sampling_score(self, x: Tensor, sigma: float) -> Tensor:
        """The score the sampler follows. For images (in [−1, 1] by ipm's convention) the
        denoiser's output is clamped to [−1, 1] first, as DDPM's ``clip_denoised``: a denoiser
        evaluated off its training inputs can return values far outside the data range, and the
        ODE then amplifies them (seen: one digits sample in ~1,800 went to 1e31). Training and
        the data score of Score GAN use the unclamped :meth:`score`."""
        if len(self.shape) != 3:
            return self.score(x, sigma)
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s2 = (s * s)[:, None] if s.ndim == 1 else s * s
        return (self.denoiser(x, sigma).clamp(-1.0, 1.0) - x) / s2

    def particle_model(self, steps: int | None = None, record: bool = False) -> ParticleModel:
        c = self.cfg
        steps = steps or c.sampler_steps
        grid = edm_grid(steps, c.sigma_min, c.sigma_max, c.rho)
        score = CallableScore(self.sampling_score, self.dim)
        prior = IsotropicGaussian(self.dim, c.sigma_max, dtype=torch.float64)
        if c.sampler == "heun":
            return ParticleModel(
                EDMProbabilityFlow(score), Heun(grid, record=record, euler_last_step=True), prior
            )
        if c.sampler == "euler":
            return ParticleModel(EDMProbabilityFlow(score), Euler(grid, record=record), prior)
        return ParticleModel(EDMFamily(score, 1.0), EulerMaruyama(grid, record=record), prior)

    def steps_for_nfe(self, nfe: int) -> int:
        """Solver steps spending at most ``nfe`` evaluations (Heun: 2n − 1)."""
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
            return -self.cfg.sigma_min * self.score(x, self.cfg.sigma_min)

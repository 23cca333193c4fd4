"""Score GAN (§4.1, Algorithm 1, Eq. 19, 26–28).

Composition: flow = the score difference h = μ_p log[p ⋆ k_σ] − μ_ρ log[ρ_t ⋆ k_σ] (Eq. 26;
:class:`~ipm.flows.ScoreDifference`) with σ ~ p_σ (Eq. 28), the data score given as an object
(a trained EDM's :class:`~ipm.flows.DenoiserScore`, which the engine loads from the run that
``model.edm_checkpoint`` names, or an exact score) and ∇log(ρ_t ⋆ k_σ) from a denoiser trained
on generated samples (K denoising-score-matching steps per generator step, Eq. 23–24) × a
generator trained as an Int-PM by the practical update of Eq. 27
(:class:`~ipm.flows.NoisedField`).
"""

from __future__ import annotations

import torch
from torch import Tensor

from .. import InteractingParticleModel
from ..config.models import ScoreGANConfig
from ..flows import DenoiserScore, EDMDenoiser, NoisedField, ScoreDifference, ScoreSource
from ..nets.build import denoiser_body, generator_net
from .base import GenerativeModel, StepContext, denoising_step, noise_sigma

__all__ = ["ScoreGAN"]


class ScoreGAN(GenerativeModel):
    config = ScoreGANConfig
    sampling_networks = ("generator",)
    inputs = ("data_score",)
    optimizers = {"generator": "g_optim", "gen_score": "score_optim"}

    def __init__(
        self,
        cfg: ScoreGANConfig,
        shape: int | tuple[int, ...],
        batch_size: int = 128,
        *,
        data_score: ScoreSource | None = None,
    ):
        """``data_score``: ∇log(p ⋆ k_σ), needed to train (sampling a trained generator, or
        its figures without the field, need none)."""
        super().__init__(cfg, shape, batch_size)
        if data_score is not None and not isinstance(data_score, ScoreSource):
            raise TypeError(
                f"data_score: expected an ipm.flows.ScoreSource, got {type(data_score).__name__}"
            )
        if data_score is not None and data_score.dim not in (None, self.dim):
            raise ValueError(
                f"model.edm_checkpoint: the data score is for data of dimension "
                f"{data_score.dim}, the data has shape {self.shape} ({self.dim} values)"
            )
        self.data_score = data_score
        self.networks["generator"] = generator_net(
            cfg.generator, cfg.latent_dim, self.shape, key="model.generator"
        )
        body = denoiser_body(cfg.score_net, self.shape, cfg.embedding_dim, key="model.score_net")
        self.networks["gen_score"] = EDMDenoiser(self.dim, cfg.noise.sigma_data, body=body)

    def draw_sigma(self, ctx: StepContext, n: int) -> Tensor:
        """σ ~ p_σ (Eq. 28)."""
        return noise_sigma(self.cfg.noise, ctx.rand(n))

    def bodies(self) -> dict:
        """Its networks' bodies, and the data score's denoiser F where it is one (frozen, but
        evaluated every step)."""
        out = super().bodies()
        den = getattr(self.data_score, "denoiser", None)
        if isinstance(den, EDMDenoiser):
            out["data_score"] = den.f
        return out

    def flow(self) -> ScoreDifference:
        """The score-difference flow of Eq. 26 with the two scores (σ read from t)."""
        if self.data_score is None:
            raise ValueError(
                "model.edm_checkpoint: the Score GAN's flow needs its data score; none was given"
            )
        gen_score = DenoiserScore(self.networks["gen_score"])
        return ScoreDifference(
            self.data_score, gen_score, mu_p=self.cfg.mu_p, mu_rho=self.cfg.mu_rho
        )

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        gen, sc = self.net("generator"), self.net("gen_score")
        # K denoising-score-matching steps on generated samples (Eq. 23, Algorithm 1)
        for _ in range(c.score_steps):
            with torch.no_grad():
                x = gen(ctx.randn(b, c.latent_dim))
            s_loss = denoising_step(opt["gen_score"], sc, x, ctx, c)
        # generator: Eq. 27, θ ← θ + η ∇θ[σ g(z)ᵀ sg(μ_p s^p(x̃, σ) − μ_ρ s^ρ(x̃, σ))], x̃ = g(z) + σε
        z = ctx.randn(b, c.latent_dim)
        sigma, eps = self.draw_sigma(ctx, b), ctx.randn(b, self.dim)
        field = NoisedField(self.flow(), sigma, eps, power=1)
        step = InteractingParticleModel(field, gen, opt["generator"]).step(z)
        return {"score_loss": s_loss, "g_loss": torch.tensor(step.loss), "particles": step.x}

    def field(self, x: Tensor) -> Tensor | None:
        if self.data_score is None:
            return None
        with torch.no_grad():
            return self.flow().field(x, self.cfg.noise.sigma_min)

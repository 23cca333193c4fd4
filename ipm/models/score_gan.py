"""Score GAN (§4.1, Algorithm 1, Eq. 19, 26–28).

Composition: flow = the score difference h = μ_p log[p ⋆ k_σ] − μ_ρ log[ρ_t ⋆ k_σ] (Eq. 26;
:class:`~ipm.flows.ScoreDifference`) with σ ~ p_σ (Eq. 28), the data score from a trained EDM
(loaded from its checkpoint) and ∇log(ρ_t ⋆ k_σ) from a denoiser trained on generated samples
(K denoising-score-matching steps per generator step, Eq. 23–24) × an MLP generator trained as
an Int-PM by the practical update of Eq. 27.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import Tensor

from .. import InteractingParticleModel
from ..config import ScoreGANConfig
from ..flows import CallableScore, Flow, ScoreDifference
from ..solvers import edm_sigma_from_uniform
from .base import GenerativeModel, SampleOutput, StepContext, as_shape, sample_generator
from .edm import EDM, EDMDenoiser, edm_loss
from .networks import denoiser_body, generator_net

__all__ = ["ExactDataScore", "ScoreGAN", "load_edm"]


def load_edm(path: str | Path, device: torch.device | str = "cpu") -> EDM:
    """A trained EDM from a run directory (its last checkpoint) or a checkpoint file."""
    from ..config import saved_run_config
    from ..engine.checkpoint import find_checkpoint, load_checkpoint

    ckpt = find_checkpoint(path, what="model.edm_checkpoint (the Score GAN's data score)")
    payload = load_checkpoint(ckpt)
    cfg = saved_run_config(payload["config"])
    if cfg.model.name != "edm":
        raise ValueError(
            f"model.edm_checkpoint: {ckpt} is a {cfg.model.name!r} run, expected an 'edm' run"
        )
    edm = EDM(cfg.model, payload.get("shape") or int(payload["dim"]))
    nets = payload.get("ema") or payload["networks"]
    edm.denoiser.load_state_dict(nets["denoiser"])
    edm.denoiser.requires_grad_(False).eval()
    return edm.to(torch.device(device))


class ExactDataScore:
    """The exact data score ∇log(p ⋆ k_σ) of a distribution that has one (e.g. the Gaussians'
    :class:`~ipm.distributions.GaussianMixture`), in place of a trained EDM: an oracle for
    validation, which separates the error of the learned data score from the rest of Score
    GAN training. Pass it as ``ScoreGAN(..., data_score=ExactDataScore(dist))``.

    Like :class:`~ipm.models.edm.EDM`, it has what Score GAN reads from its data score:
    ``score(x, σ)``, ``shape`` and ``to(device)``."""

    def __init__(self, dist):
        self.dist = dist
        self.shape = (dist.dim,)

    def score(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        """∇log(p ⋆ k_σ)(x): one σ, or one σ_i per particle (N,); in the distribution's dtype."""
        return self.dist.score(x.to(self.dist.dtype), sigma).to(x.dtype)

    def to(self, device):
        self.dist = self.dist.to(device)
        return self


class ScoreGAN(GenerativeModel):
    name = "score_gan"
    composition = "score difference (19/26) of EDM data score and learned generated score × generator (MLP / DCGAN / ResNet; Int-PM, Eq. 27)"
    sampling_networks = ("generator",)

    def __init__(
        self,
        cfg: ScoreGANConfig,
        shape: int | tuple[int, ...],
        batch_size: int = 128,
        data_score: EDM | ExactDataScore | None = None,
    ):
        super().__init__()
        self.shape = as_shape(shape)
        self.cfg, self.dim, self.batch_size = cfg, math.prod(self.shape), batch_size
        # ∇log(p ⋆ k_σ): the trained EDM of cfg.edm_checkpoint unless given (an oracle, a test)
        self.data_score = data_score if data_score is not None else load_edm(cfg.edm_checkpoint)
        if self.data_score.shape != self.shape:
            raise ValueError(
                f"model.edm_checkpoint: the EDM models data of shape {self.data_score.shape}, "
                f"the data has shape {self.shape}"
            )
        self.networks["generator"] = generator_net(
            cfg.generator, cfg.latent_dim, self.shape, key="model.generator"
        )
        body = denoiser_body(cfg.score_net, self.shape, cfg.embedding_dim, key="model.score_net")
        self.networks["gen_score"] = EDMDenoiser(self.dim, cfg.sigma_data, body=body)

    def to(self, device):
        super().to(device)
        self.data_score.to(device)
        return self

    def optimizer_specs(self):
        c = self.cfg
        return {
            "generator": (list(self.networks["generator"].parameters()), c.g_optim),
            "gen_score": (list(self.networks["gen_score"].parameters()), c.score_optim),
        }

    def draw_sigma(self, ctx: StepContext, n: int) -> Tensor:
        """σ = (σ_max^{1/ρ} + u(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, u ~ U[0, 1] (Eq. 28)."""
        c = self.cfg
        return edm_sigma_from_uniform(ctx.rand(n), c.sigma_min, c.sigma_max, c.rho)

    def flow(self) -> ScoreDifference:
        """The score-difference flow of Eq. 26 with the two learned scores (σ read from t)."""
        data = CallableScore(self.data_score.score, self.dim)
        model = CallableScore(lambda x, s, p=None: self.networks["gen_score"].score(x, s), self.dim)
        return ScoreDifference(data, model, mu_p=self.cfg.mu_p, mu_rho=self.cfg.mu_rho)

    def train_step(self, ctx: StepContext, opt) -> dict:
        b, c = self.batch_size, self.cfg
        gen, sc = self.net("generator"), self.net("gen_score")
        # K denoising-score-matching steps on generated samples (Eq. 23, Algorithm 1)
        for _ in range(c.score_steps):
            with torch.no_grad():
                x = gen(ctx.randn(b, c.latent_dim))
            sigma, noise = self.draw_sigma(ctx, b), ctx.randn(b, self.dim)
            s_loss = edm_loss(sc, x, sigma, noise, c.sigma_data, c.score_loss == "edm")
            opt["gen_score"].zero_grad(set_to_none=True)
            s_loss.backward()
            opt["gen_score"].step()
        # generator: Eq. 27, θ ← θ + η ∇θ[σ g(z)ᵀ sg(μ_p s^p(x̃, σ) − μ_ρ s^ρ(x̃, σ))], x̃ = g(z) + σε
        z = ctx.randn(b, c.latent_dim)
        sigma, eps = self.draw_sigma(ctx, b), ctx.randn(b, self.dim)
        field = AtNoised(lambda x_t, s: s[:, None] * self.score_difference(x_t, s), sigma, eps)
        intpm = InteractingParticleModel(field, gen, opt["generator"])
        step = intpm.step(z)  # one generator pass: the field is taken at its own output
        return {
            "score_loss": s_loss.detach(),
            "g_loss": torch.tensor(step.loss),
            "particles": step.x,
        }

    def score_difference(self, x: Tensor, sigma: Tensor) -> Tensor:
        """μ_p s^p(x, σ) − μ_ρ s^ρ(x, σ) with one σ per sample (Eq. 26)."""
        sp = self.data_score.score(x, sigma)
        sr = self.networks["gen_score"].score(x, sigma)
        return self.cfg.mu_p * sp - self.cfg.mu_rho * sr

    def sample(self, n, *, generator=None, nfe=None, record=False) -> SampleOutput:
        return sample_generator(self.networks["generator"], self.cfg.latent_dim, n, generator)

    def field(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return self.flow().field(x, self.cfg.sigma_min)


class AtNoised(Flow):
    """An Int-PM target taken at the noised generated batch: v(x) = fn(x + σε, σ), one (σ, ε)
    per sample drawn before the step, so the generator runs once per update (the target of
    Eq. 27 for Score GANs, the denoiser difference for the SD flow's generator)."""

    def __init__(self, fn, sigma: Tensor, eps: Tensor):
        self.fn, self.sigma, self.eps = fn, sigma, eps

    def _field(self, x, t, particles):
        return self.fn(x + self.sigma[:, None] * self.eps, self.sigma)

"""The models' configs (``model:`` of a run config; ``model.name`` picks the model). Each is a
member of :class:`~ipm.config.ModelConfig` and is named by its model class's ``config``
(:mod:`ipm.models`); the sections several models share (optimiser, noise schedule, gradient
penalty) are :mod:`ipm.config.shared`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..nets.config import MLPConfig
from .checks import net_kinds, non_negative, positive, require
from .shared import ModelConfig, NetConfig, NoiseConfig, OptimConfig, PenaltyConfig

__all__ = [
    "DMMDConfig",
    "DiscrFlowConfig",
    "EDMConfig",
    "GANConfig",
    "SDFlowConfig",
    "ScoreGANConfig",
]


#: the network kinds a denoiser body F(x, c_noise) can be (:func:`ipm.nets.build.denoiser_body`)
DENOISERS = ("mlp", "unet", "diffusers_unet")


@dataclass(frozen=True)
class EDMConfig(ModelConfig):
    """EDM (Karras et al. 2022): a preconditioned denoiser trained with ln σ ~ N(P_mean, P_std²),
    sampled by the ODE (8) or the SDE (7) on ``sampler_steps`` levels of the σ grid."""

    name: Literal["edm"] = "edm"
    noise: NoiseConfig = field(default_factory=lambda: NoiseConfig(0.002, 40.0, 7.0, 0.5))
    p_mean: float = -1.2
    p_std: float = 1.2
    sampler: Literal["heun", "euler", "sde"] = "heun"
    sampler_steps: int = 28
    net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128  # Fourier embedding of c_noise for an MLP net (a U-Net has its own)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        positive(self, "p_std", "sampler_steps", "embedding_dim")
        net_kinds(self, "net", DENOISERS)


@dataclass(frozen=True)
class GANConfig(ModelConfig):
    """A GAN (Eq. 15–16) as an Int-PM: the generator follows the discriminator flow (Eq. 20);
    ``d_steps`` discriminator updates per generator update."""

    name: Literal["gan"] = "gan"
    loss: Literal["ns", "hinge", "ipm"] = "ns"
    gp: PenaltyConfig = field(default_factory=PenaltyConfig)
    d_steps: int = 1
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    discriminator: NetConfig = field(default_factory=MLPConfig)
    g_optim: OptimConfig = field(default_factory=OptimConfig)
    d_optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self):
        positive(self, "d_steps", "latent_dim")
        net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))
        net_kinds(self, "discriminator", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class ScoreGANConfig(ModelConfig):
    """Score GAN (Algorithm 1, Eq. 26–28): generator × score-difference flow; the data score is
    the EDM run (directory or checkpoint) ``edm_checkpoint``, K = ``score_steps`` updates of the
    generated score per generator update, σ ~ Eq. 28 on ``noise``."""

    edm_checkpoint: str
    name: Literal["score_gan"] = "score_gan"
    noise: NoiseConfig = field(default_factory=lambda: NoiseConfig(0.1, 10.0, 3.0, 0.5))
    score_steps: int = 10  # K
    # the generated-score loss: Eq. 23 unweighted (as the official code) or with EDM's λ(σ)
    score_loss: Literal["plain", "edm"] = "plain"
    mu_p: float = 1.0
    mu_rho: float = 1.0
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    score_net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))
    score_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        positive(self, "score_steps", "latent_dim", "embedding_dim")
        non_negative(self, "mu_p", "mu_rho")
        require(bool(self.edm_checkpoint), "edm_checkpoint", "expected a path, got ''")
        net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))
        net_kinds(self, "score_net", DENOISERS)


@dataclass(frozen=True)
class DiscrFlowConfig(ModelConfig):
    """Discriminator Flow (Algorithm 3): a time-conditioned discriminator, no generator.

    ``schedule="paper"`` simulates the N-step Euler trajectory per training step and trains at
    one random step per sample. ``schedule="multi_time"`` trains at ``times_per_trajectory``
    random steps of each simulated trajectory (one discriminator update per chosen time), so the
    simulation cost is shared by that many updates. ``schedule="persistent"`` keeps B particles
    at staggered steps of the flow and advances each by one Euler step per update (restarting
    from noise at t = 1): one field evaluation per update instead of a trajectory, with
    trajectories made by the last N discriminators.
    """

    name: Literal["discr_flow"] = "discr_flow"
    loss: Literal["ns", "hinge", "ipm"] = "ns"
    gp: PenaltyConfig = field(default_factory=PenaltyConfig)
    eta: float = 20.0
    flow_steps: int = 56  # N
    net: NetConfig = field(default_factory=MLPConfig)
    time_embedding: int = 128
    time_scale: float = 16.0
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: Literal["paper", "multi_time", "persistent"] = "paper"
    times_per_trajectory: int = 1
    sample_stop: int = 0  # stop sampling after this many steps (0: the full N)
    # the prior π = N(prior_mean·1, prior_std² I) (the official code's p_mean / p_std)
    prior_mean: float = 0.0
    prior_std: float = 1.0

    def __post_init__(self):
        positive(self, "eta", "flow_steps", "time_embedding", "time_scale", "prior_std")
        positive(self, "times_per_trajectory")
        non_negative(self, "sample_stop")
        require(
            self.sample_stop <= self.flow_steps,
            "sample_stop",
            f"expected <= flow_steps = {self.flow_steps}, got {self.sample_stop}",
        )
        net_kinds(self, "net", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class SDFlowConfig(ModelConfig):
    """Score-difference flow (Weber 2023) with two learned denoisers: the target (data) and the
    source (the particles as they move). ``variant="particles"``: a pool of ``n_particles``
    particles is the model (a PM); ``"generator"``: a generator follows the same field (an
    Int-PM)."""

    name: Literal["sd_flow"] = "sd_flow"
    variant: Literal["particles", "generator"] = "particles"
    n_particles: int = 10_000
    move_batch: int = 0  # particles moved per step (0: the whole pool)
    warmup: int = 0  # steps that train the denoisers only, before the flow starts
    eta: float = 0.5
    # > 0: after each move, clamp the pool's coordinates to [−clip, clip] (images live in
    # [−1, 1]; a denoiser difference evaluated far off the data can grow without bound)
    clip: float = 0.0
    noise: NoiseConfig = field(default_factory=lambda: NoiseConfig(0.05, 5.0, 3.0, 0.5))
    data_steps: int = 1  # denoising steps of the target (data) denoiser per flow step
    score_steps: int = 1  # denoising steps of the source denoiser per flow step
    score_loss: Literal["plain", "edm"] = "edm"
    net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        positive(self, "n_particles", "eta", "data_steps", "score_steps", "embedding_dim")
        positive(self, "latent_dim")
        non_negative(self, "move_batch", "warmup", "clip")
        net_kinds(self, "net", DENOISERS)
        net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class DMMDConfig(ModelConfig):
    """Diffusion-MMD gradient flow (Galashov, De Bortoli & Gretton 2024): a noise-conditional
    feature map φ(x, t) trained, without adversarial training, to maximise MMD² between clean
    data and data noised by a forward diffusion at level t, with a gradient penalty on the
    witness (``gp``) and an ℓ2 penalty on the features; sampling follows the noise-adaptive MMD
    gradient flow from t = 1 down to ``t_min``."""

    name: Literal["dmmd"] = "dmmd"
    features: int = 64  # dimension of φ(x, t): the linear kernel k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩
    net: NetConfig = field(default_factory=MLPConfig)
    time_embedding: int = 128
    time_scale: float = 16.0
    t_min: float = 0.001
    levels_per_step: int = 4  # noise levels per training batch (the batch splits evenly)
    gp: PenaltyConfig = field(default_factory=lambda: PenaltyConfig(weight=0.1))
    l2_weight: float = 0.001  # penalty on E‖φ‖² (both batches)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.5, 0.999)))
    # sampling (noise-adaptive MMD gradient flow)
    flow_levels: int = 50  # noise levels from t = 1 to t_min
    steps_per_level: int = 4  # gradient steps on the particles at each level
    eta: float = 1.0  # particle step size
    reference: int = 2048  # clean data points held for the data mean embedding at sampling
    noise_injection: float = 0.0  # std of noise added to the particles at each level (× σ_t)

    def __post_init__(self):
        positive(self, "features", "time_embedding", "time_scale", "t_min", "levels_per_step")
        positive(self, "flow_levels", "steps_per_level", "eta", "reference")
        non_negative(self, "l2_weight", "noise_injection")
        require(self.t_min < 1, "t_min", f"expected < 1, got {self.t_min}")
        net_kinds(self, "net", ("mlp", "dcgan", "resnet"))

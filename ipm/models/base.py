"""What a trainable model gives the engine (:mod:`ipm.engine`), and the randomness it draws.

A model is a composition of the core pieces: a flow (:mod:`ipm.flows`) times an optional
generator (:mod:`ipm.generators`). It owns its networks and says which optimiser trains which
(:meth:`GenerativeModel.optimizer_specs`); the engine owns the optimisers, EMA, logging and
checkpoints, and calls :meth:`GenerativeModel.train_step` once per step.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import Tensor, nn

from ..config import ModelConfig, NoiseConfig, OptimConfig, PenaltyConfig
from ..flows import EDMDenoiser, denoising_loss, gradient_penalty, penalty_points
from ..nets.precision import Precision, autocast, compile_network
from ..optim import descend, make_adam
from ..schedules import edm_sigma_from_uniform

__all__ = [
    "GenerativeModel",
    "SampleOutput",
    "StepContext",
    "as_shape",
    "denoising_step",
    "descend",
    "noise_sigma",
    "penalty",
    "sample_generator",
]


def as_shape(shape: int | tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """The data shape of one sample: D for vectors, (C, H, W) for images."""
    shape = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise ValueError(f"shape: expected positive sizes, got {shape}")
    return shape


@dataclass
class StepContext:
    """The randomness of one training step, shared-seed across processes.

    Every draw is made for the *global* batch from one CPU generator (identical on all ranks)
    and each rank keeps its slice, so ``world`` processes with global batch B see exactly the
    numbers one process with batch B sees (distributed training equals single-process
    training up to the order of floating-point reductions).
    """

    rng: torch.Generator
    data: Callable[[int, torch.Generator], Tensor]
    device: torch.device
    dtype: torch.dtype = torch.float32
    rank: int = 0
    world: int = 1

    def local(self, x: Tensor) -> Tensor:
        n = x.shape[0]
        if n % self.world:
            raise ValueError(f"batch: {n} rows do not split over {self.world} processes")
        k = n // self.world
        return x[self.rank * k : (self.rank + 1) * k].to(self.device)

    def data_batch(self, n: int) -> Tensor:
        return self.local(self.data(n, self.rng).to(self.dtype))

    def randn(self, n: int, *shape: int) -> Tensor:
        return self.local(torch.randn(n, *shape, generator=self.rng, dtype=self.dtype))

    def rand(self, n: int, *shape: int) -> Tensor:
        return self.local(torch.rand(n, *shape, generator=self.rng, dtype=self.dtype))

    def randint(self, high: int, n: int) -> Tensor:
        return self.local(torch.randint(high, (n,), generator=self.rng))


@dataclass(frozen=True)
class SampleOutput:
    """Samples (N, D), the network evaluations spent, and the trajectory (T, N, D) if recorded."""

    x: Tensor
    nfe: int
    trajectory: Tensor | None = None


def noise_sigma(noise: NoiseConfig, u: Tensor) -> Tensor:
    """σ ~ p_σ (Eq. 28) on the range of ``noise`` from u ~ U[0, 1]."""
    return edm_sigma_from_uniform(u, noise.sigma_min, noise.sigma_max, noise.rho)


def denoising_step(opt: torch.optim.Optimizer, denoiser, x: Tensor, ctx, cfg) -> Tensor:
    """One denoising-score-matching step (Eq. 23) of ``denoiser`` on clean x (N, D): σ by
    Eq. 28 on ``cfg.noise`` and ε ~ N(0, I) drawn from ``ctx``, EDM's weight λ(σ) where
    ``cfg.score_loss`` is ``"edm"``. Returns the detached loss."""
    b = x.shape[0]
    sigma, eps = noise_sigma(cfg.noise, ctx.rand(b)), ctx.randn(b, x.shape[1])
    weight = cfg.noise.sigma_data if cfg.score_loss == "edm" else None
    return descend(opt, denoising_loss(denoiser, x, sigma, eps, sigma_data=weight))


def penalty(cfg: PenaltyConfig, f: Callable[[Tensor], Tensor], real, fake, u) -> Tensor:
    """λ R(f) of Eq. 15 as ``cfg`` sets it: the gradient penalty of f (x → (N,)) at
    ``cfg.on`` (interpolates with weights u (N,), real or fake points)."""
    return cfg.weight * gradient_penalty(f, penalty_points(cfg.on, real, fake, u), cfg.center)


@torch.no_grad()
def sample_generator(gen: nn.Module, latent_dim: int, n: int, generator=None) -> SampleOutput:
    """g(z), z ~ N(0, I) drawn on the CPU generator (one network evaluation)."""
    dev = next(gen.parameters()).device
    z = torch.randn(n, latent_dim, generator=generator).to(dev)
    return SampleOutput(gen(z), 1, None)


class GenerativeModel(ABC):
    """Base of the models: a flow × an optional generator, with its training step."""

    #: the model's config class (:mod:`ipm.config.models`), whose ``name`` names the model
    config: ClassVar[type[ModelConfig]]
    #: config ``model.name`` (read from :attr:`config`)
    name: ClassVar[str]
    #: networks used for sampling (the engine keeps their EMA when enabled)
    sampling_networks: ClassVar[tuple[str, ...]] = ()
    #: whether samples come from a particle flow (an animation of generation is drawn)
    is_particle_model: ClassVar[bool] = False
    #: keyword arguments of the constructor that the engine supplies from outside the run
    #: (the Score GAN's ``data_score``, loaded from the EDM run its config names)
    inputs: ClassVar[tuple[str, ...]] = ()
    #: network name → the config field of the Adam settings that train it
    optimizers: ClassVar[dict[str, str]] = {}
    #: attributes outside the networks that a resumed run needs (tensors; 0-d integer tensors
    #: come back as ints; None is unset and not saved)
    state: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not (
            isinstance(getattr(cls, "config", None), type) and issubclass(cls.config, ModelConfig)
        ):
            raise TypeError(f"{cls.__name__}.config: expected an ipm.config.ModelConfig class")
        cls.name = cls.config.name

    def __init__(self, cfg, shape: int | tuple[int, ...], batch_size: int = 128):
        """``cfg``: the model's config; ``shape``: one sample's (D,) or (C, H, W)."""
        self.cfg, self.shape, self.batch_size = cfg, as_shape(shape), batch_size
        self.dim = math.prod(self.shape)
        self.networks: dict[str, nn.Module] = {}
        self.wrapped: dict[str, nn.Module] = {}  # DistributedDataParallel wrappers, if any

    @property
    def device(self) -> torch.device:
        """Where the networks are."""
        return next(next(iter(self.networks.values())).parameters()).device

    def net(self, name: str) -> nn.Module:
        """The module whose backward pass trains ``name`` (its DDP wrapper when distributed)."""
        return self.wrapped.get(name, self.networks[name])

    def bodies(self) -> dict[str, nn.Module]:
        """The parts of the networks that run in reduced precision and are compiled: each
        network, but a denoiser's F alone (its preconditioning stays in float32)."""
        return {n: m.f if isinstance(m, EDMDenoiser) else m for n, m in self.networks.items()}

    def accelerate(self, precision: Precision = "fp32", compile: bool = False) -> GenerativeModel:
        """Runs :meth:`bodies` in ``precision`` (:func:`~ipm.nets.precision.autocast`) and
        compiles them when ``compile`` (:func:`~ipm.nets.precision.compile_network`); in place,
        weights and state-dict keys unchanged. Returns the model."""
        for body in self.bodies().values():
            autocast(body, precision)
            if compile:
                compile_network(body)
        return self

    def optimizer_specs(self) -> dict[str, tuple[list[nn.Parameter], OptimConfig]]:
        """Optimiser name → (parameters, Adam settings), from :attr:`optimizers`."""
        return {
            n: (list(self.networks[n].parameters()), getattr(self.cfg, field))
            for n, field in self.optimizers.items()
            if n in self.networks
        }

    def make_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The Adam optimisers of :meth:`optimizer_specs` (:func:`~ipm.optim.make_adam`)."""
        return {n: make_adam(ps, o) for n, (ps, o) in self.optimizer_specs().items()}

    @abstractmethod
    def train_step(self, ctx: StepContext, opt: dict[str, torch.optim.Optimizer]) -> dict:
        """One training step; returns named tensors (losses, particles) the engine checks."""

    def sample(
        self,
        n: int,
        *,
        generator: torch.Generator | None = None,
        nfe: int | None = None,
        record: bool = False,
    ) -> SampleOutput:
        """n samples; ``nfe`` asks a particle model for a coarser (or finer) grid. By default
        g(z), z ~ N(0, I), from the ``generator`` network and ``cfg.latent_dim``."""
        return sample_generator(self.networks["generator"], self.cfg.latent_dim, n, generator)

    @property
    def max_samples(self) -> int | None:
        """The most distinct samples ``sample`` can give (a particle pool's size); None: any."""
        return None

    def field(self, x: Tensor) -> Tensor | None:
        """The vector field acting on samples x at the end of generation (for figures)."""
        return None

    def generator_loss(self, x: Tensor) -> Tensor | None:
        """Pointwise generator loss (c∘f)(x) of discriminator models (figure background)."""
        return None

    def extra_figures(self, out: Path, step: int) -> None:  # noqa: B027 (optional hook)
        """Figures of the model's own quantities, written into the run's ``figures`` folder
        ``out`` beside the samples (none by default)."""

    def extra_state(self) -> dict[str, Tensor]:
        """The attributes named by :attr:`state` that are set, as CPU tensors."""
        values = {k: getattr(self, k) for k in self.state}
        return {
            k: v.cpu() if isinstance(v, Tensor) else torch.tensor(v)
            for k, v in values.items()
            if v is not None
        }

    def load_extra_state(self, state: dict[str, Tensor]) -> None:
        """Sets the attributes :meth:`extra_state` saved (tensors on the networks' device)."""
        for k in set(self.state) & set(state):
            v = state[k]
            whole = v.ndim == 0 and not v.is_floating_point()
            setattr(self, k, int(v) if whole else v.to(self.device))

    def to(self, device: torch.device) -> GenerativeModel:
        """Moves the networks and the :attr:`inputs` given (e.g. a data score) to ``device``."""
        for m in self.networks.values():
            m.to(device)
        for name in self.inputs:
            if getattr(self, name, None) is not None:
                getattr(self, name).to(device)
        return self

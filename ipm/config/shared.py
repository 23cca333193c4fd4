"""Config sections shared by several models, written once: the optimiser, the noise schedule
of the denoising models and the discriminator's gradient penalty; and the families (tagged
unions) of model, network and data configs, whose members are :mod:`ipm.config.models`,
:mod:`ipm.nets.config` and :mod:`ipm.data.config`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .checks import non_negative, positive, require
from .loader import Family

__all__ = [
    "DataConfig",
    "ModelConfig",
    "NetConfig",
    "NoiseConfig",
    "OptimConfig",
    "PenaltyConfig",
]


class ModelConfig(Family):
    """A model's config (``model.name``)."""

    tag = "name"


class NetConfig(Family):
    """A network's config (``kind``: mlp, dcgan, resnet, unet, diffusers_unet)."""

    tag = "kind"
    default = "mlp"


class DataConfig(Family):
    """A data set's config (``data.name``)."""

    tag = "name"
    default = "gaussians"


@dataclass(frozen=True)
class OptimConfig:
    """Adam hyperparameters."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0

    def __post_init__(self):
        positive(self, "lr")
        non_negative(self, "weight_decay")
        require(
            all(0 <= b < 1 for b in self.betas), "betas", f"expected in [0, 1), got {self.betas}"
        )


@dataclass(frozen=True)
class NoiseConfig:
    """The noise levels of a denoising model: σ ∈ [σ_min, σ_max] with the polynomial law of
    Eq. 28 (exponent ρ; EDM's sampling grid uses the same formula), and σ_data of EDM's
    preconditioning."""

    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    sigma_data: float = 0.5

    def __post_init__(self):
        positive(self, "sigma_min", "sigma_max", "rho", "sigma_data")
        require(
            self.sigma_min < self.sigma_max,
            "sigma_min",
            f"expected < sigma_max = {self.sigma_max}, got {self.sigma_min}",
        )


@dataclass(frozen=True)
class PenaltyConfig:
    """The gradient penalty R(f) = E[(‖∇f‖ − center)²] of Eq. 15 with weight λ, taken at
    random interpolates of real and fake points, or at the real or the fake points."""

    weight: float = 0.0
    on: Literal["interpolates", "real", "fake"] = "interpolates"
    center: float = 1.0  # 0: the zero-centred penalty E‖∇f‖²

    def __post_init__(self):
        non_negative(self, "weight", "center")

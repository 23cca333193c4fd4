"""The paper's models as compositions of a flow and an optional generator (Table 1).

======================  ===========================================  ==================
model                   flow (h_ρ)                                   generator
======================  ===========================================  ==================
:class:`EDM`            EDM ODE (8) / SDE (7) of a learned score     none
:class:`GAN`            discriminator flow −∇(c∘f) (20)               MLP (Int-PM)
:class:`ScoreGAN`       score difference (19, 26)                    MLP (Int-PM)
:class:`DiscriminatorFlowModel`  time-conditioned discriminator flow (20)  none
:class:`SDFlow`         score difference (19) of two learned denoisers  none / generator
:class:`DMMD`           noise-adaptive MMD gradient flow (seed 004)   none
======================  ===========================================  ==================
"""

from __future__ import annotations

from ..config import RunConfig
from .base import GenerativeModel, SampleOutput, StepContext
from .discr_flow import DiscriminatorFlowModel
from .dmmd import DMMD
from .edm import EDM, EDMDenoiser, edm_loss
from .gan import GAN, gradient_penalty
from .score_gan import ScoreGAN, load_edm
from .sd_flow import SDFlow

__all__ = [
    "DMMD",
    "EDM",
    "GAN",
    "DiscriminatorFlowModel",
    "EDMDenoiser",
    "GenerativeModel",
    "SampleOutput",
    "SDFlow",
    "ScoreGAN",
    "StepContext",
    "build_model",
    "edm_loss",
    "gradient_penalty",
    "load_edm",
]

MODELS: dict[str, type[GenerativeModel]] = {
    "edm": EDM,
    "gan": GAN,
    "score_gan": ScoreGAN,
    "discr_flow": DiscriminatorFlowModel,
    "sd_flow": SDFlow,
    "dmmd": DMMD,
}


def build_model(cfg: RunConfig, shape: int | tuple[int, ...]) -> GenerativeModel:
    """The model of ``cfg.model`` for data of shape ``shape`` (D, or (C, H, W) for images;
    networks on the CPU)."""
    return MODELS[cfg.model.name](cfg.model, shape, cfg.train.batch_size)

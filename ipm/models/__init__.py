"""The paper's models as compositions of a flow and an optional generator (Table 1).

A model is one module of this package: its config (a :class:`~ipm.config.ModelConfig`) and its
class (a :class:`GenerativeModel` with the config's ``name``). Every module here is imported
with the package, so :func:`build_model` and the config loader find a new model by itself.

======================  ===========================================  ==================
model                   flow (h_ρ)                                   generator
======================  ===========================================  ==================
:class:`EDM`            EDM ODE (8) / SDE (7) of a learned score     none
:class:`GAN`            discriminator flow −∇(c∘f) (20)               MLP (Int-PM)
:class:`ScoreGAN`       score difference (19, 26)                    MLP (Int-PM)
:class:`DiscriminatorFlowModel`  time-conditioned discriminator flow (20)  none
:class:`SDFlow`         score difference (19) of two learned denoisers  none / generator
:class:`DMMD`           noise-adaptive squared-MMD flow (learned k_t)  none
======================  ===========================================  ==================
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import GenerativeModel, SampleOutput, StepContext
from .discr_flow import DiscrFlowConfig, DiscriminatorFlowModel
from .dmmd import DMMD, DMMDConfig
from .edm import EDM, EDMConfig
from .gan import GAN, GANConfig
from .score_gan import ScoreGAN, ScoreGANConfig
from .sd_flow import SDFlow, SDFlowConfig

__all__ = [
    "DMMD",
    "EDM",
    "GAN",
    "DMMDConfig",
    "DiscrFlowConfig",
    "DiscriminatorFlowModel",
    "EDMConfig",
    "GANConfig",
    "GenerativeModel",
    "SampleOutput",
    "SDFlow",
    "SDFlowConfig",
    "ScoreGAN",
    "ScoreGANConfig",
    "StepContext",
    "build_model",
    "models",
]

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def models() -> dict[str, type[GenerativeModel]]:
    """Every model class by its config's ``model.name``."""
    out, stack = {}, list(GenerativeModel.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        out[cls.name] = cls
    return out


def build_model(cfg, shape: int | tuple[int, ...], **inputs) -> GenerativeModel:
    """The model of a run config's ``cfg.model`` (batch ``cfg.train.batch_size``) for data of
    shape ``shape`` (D, or (C, H, W) for images; networks on the CPU); ``inputs`` are the constructor arguments a model takes from outside
    its run (:attr:`GenerativeModel.inputs`, e.g. the Score GAN's ``data_score``)."""
    cls = models()[cfg.model.name]
    unknown = sorted(set(inputs) - set(cls.inputs))
    if unknown:
        raise TypeError(
            f"{cls.__name__} takes no inputs {unknown} (its inputs: {list(cls.inputs)})"
        )
    return cls(cfg.model, shape, cfg.train.batch_size, **inputs)

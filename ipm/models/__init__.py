"""The paper's models as compositions of a flow and an optional generator (Table 1).

A model is a module of this package holding a :class:`GenerativeModel` whose ``config`` is its
config class, a :class:`~ipm.config.ModelConfig` in :mod:`ipm.config.models` (the schema, apart
from the code). Every module here is imported with the package, so :func:`build_model` finds a
new model by itself; a test checks that every model config has its model and the reverse.

- :class:`EDM`: the EDM ODE (8) or SDE (7) of a learned score; no generator.
- :class:`GAN`: the discriminator flow −∇(c∘f) (20) × a generator (Int-PM).
- :class:`ScoreGAN`: the score difference (19, 26) × a generator (Int-PM).
- :class:`DiscriminatorFlowModel`: the time-conditioned discriminator flow (20); no generator.
- :class:`SDFlow`: the score difference (19) of two learned denoisers × none or a generator.
- :class:`DMMD`: the noise-adaptive squared-MMD flow of a learned kernel k_t; no generator.
"""

from __future__ import annotations

import importlib
import pkgutil

from .base import GenerativeModel, SampleOutput, StepContext
from .discr_flow import DiscriminatorFlowModel
from .dmmd import DMMD
from .edm import EDM
from .gan import GAN
from .score_gan import ScoreGAN
from .sd_flow import SDFlow

__all__ = [
    "DMMD",
    "EDM",
    "GAN",
    "DiscriminatorFlowModel",
    "GenerativeModel",
    "SampleOutput",
    "SDFlow",
    "ScoreGAN",
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
        if "name" in vars(cls):  # set when the class was defined with its config
            out[cls.name] = cls
    return out


def build_model(cfg, shape: int | tuple[int, ...], **inputs) -> GenerativeModel:
    """The model of a run config's ``cfg.model`` (batch ``cfg.train.batch_size``) for data of
    shape ``shape`` (D, or (C, H, W) for images; networks on the CPU); ``inputs`` are the
    constructor arguments a model takes from outside its run (:attr:`GenerativeModel.inputs`,
    e.g. the Score GAN's ``data_score``)."""
    cls = models()[cfg.model.name]
    unknown = sorted(set(inputs) - set(cls.inputs))
    if unknown:
        raise TypeError(
            f"{cls.__name__} takes no inputs {unknown} (its inputs: {list(cls.inputs)})"
        )
    return cls(cfg.model, shape, cfg.train.batch_size, **inputs)

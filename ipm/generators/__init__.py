"""Generators g_θ: optional in Int-PMs (Definition 2)."""

from .conditioned import FourierEmbedding, TimeConditionedMLP
from .linearized import Linearized
from .mlp import MLP, ParticleTable, ScaledLinear, activation

__all__ = [
    "FourierEmbedding",
    "TimeConditionedMLP",
    "Linearized",
    "MLP",
    "ParticleTable",
    "ScaledLinear",
    "activation",
]

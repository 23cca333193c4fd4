"""Generators g_θ: optional in Int-PMs (Definition 2)."""

from .linearized import Linearized
from .mlp import MLP, ParticleTable, ScaledLinear, activation

__all__ = ["Linearized", "MLP", "ParticleTable", "ScaledLinear", "activation"]

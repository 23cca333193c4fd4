"""Generators g_θ: optional in Int-PMs (Definition 2)."""

from .mlp import MLP, ParticleTable, ScaledLinear, activation

__all__ = ["MLP", "ParticleTable", "ScaledLinear", "activation"]

"""Particle models (Definition 1), interacting particle models (Definition 2), Stein flows."""

from .intpm import InteractingParticleModel, IntPMStep
from .pm import ParticleModel
from .stein import FrozenNTK, SteinFlow, stein_field, svgd_field

__all__ = [
    "FrozenNTK",
    "IntPMStep",
    "InteractingParticleModel",
    "ParticleModel",
    "SteinFlow",
    "stein_field",
    "svgd_field",
]

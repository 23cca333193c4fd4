"""ipm: generative particle models (Franceschi et al., NeurIPS 2023).

A model is a flow (the functional h_ρ and its field ∇h_ρ, :mod:`ipm.flows`) times an
optional generator (:mod:`ipm.generators`); particles move by a solver (:mod:`ipm.solvers`);
a generator's Neural Tangent Kernel (:mod:`ipm.ntk`) smooths the field.
"""

from . import distributions, flows, generators, kernels, ntk, particles, solvers
from .particles import InteractingParticleModel, ParticleModel

__version__ = "0.1.0"

__all__ = [
    "InteractingParticleModel",
    "ParticleModel",
    "distributions",
    "flows",
    "generators",
    "kernels",
    "ntk",
    "particles",
    "solvers",
]

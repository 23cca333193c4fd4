"""Flows: the functional h_ρ and its vector field ∇h_ρ (Table 2, Eq. 9, 19, 20, 21)."""

from .base import Flow, FlowSum
from .discriminator import DiscriminatorFlow, GANLoss, discriminator_objective
from .entropy import Entropy
from .kl import FDivergence, FDivergenceKind, ForwardKL, analytic_log_ratio
from .mmd import SquaredMMD, mmd2
from .score import EDMFamily, EDMFlow, EDMProbabilityFlow, Langevin, NCSNFlow, ScoreDifference
from .scores import (
    CallableScore,
    ExactScore,
    GaussianFitScore,
    KernelDensityScore,
    ScoreSource,
    as_score,
    silverman_bandwidth,
)

__all__ = [
    "CallableScore",
    "DiscriminatorFlow",
    "EDMFamily",
    "EDMFlow",
    "EDMProbabilityFlow",
    "Entropy",
    "ExactScore",
    "FDivergence",
    "FDivergenceKind",
    "Flow",
    "FlowSum",
    "GaussianFitScore",
    "ForwardKL",
    "GANLoss",
    "KernelDensityScore",
    "Langevin",
    "NCSNFlow",
    "ScoreDifference",
    "ScoreSource",
    "SquaredMMD",
    "analytic_log_ratio",
    "as_score",
    "discriminator_objective",
    "mmd2",
    "silverman_bandwidth",
]

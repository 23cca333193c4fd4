"""Flows: the functional h_ρ and its vector field ∇h_ρ (Table 2, Eq. 9, 15–16, 19–21, 26–27),
and the scores they are made of, learned by denoising (Eq. 23–24)."""

from .base import Flow, FlowSum
from .denoising import DenoiserScore, EDMDenoiser, denoising_loss
from .discriminator import (
    DiscriminatorFlow,
    GANLoss,
    discriminator_objective,
    gradient_penalty,
    penalty_points,
)
from .entropy import Entropy
from .kl import FDivergence, FDivergenceKind, ForwardKL, analytic_log_ratio
from .mmd import SquaredMMD, linear_mmd2_unbiased, mmd2
from .score import (
    EDMFamily,
    EDMFlow,
    EDMProbabilityFlow,
    Langevin,
    NCSNFlow,
    NoisedField,
    ScoreDifference,
)
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
    "DenoiserScore",
    "EDMDenoiser",
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
    "NoisedField",
    "ScoreDifference",
    "ScoreSource",
    "SquaredMMD",
    "analytic_log_ratio",
    "as_score",
    "denoising_loss",
    "discriminator_objective",
    "gradient_penalty",
    "linear_mmd2_unbiased",
    "mmd2",
    "penalty_points",
    "silverman_bandwidth",
]

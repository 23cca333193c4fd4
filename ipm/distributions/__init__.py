"""Distributions with exact densities and scores: the ground truth of every check."""

from .empirical import Empirical, kde_score
from .gaussian import Gaussian, GaussianMixture
from .gaussians2d import circle_of_gaussians, five_gaussians
from .isotropic import IsotropicGaussian

__all__ = [
    "Empirical",
    "Gaussian",
    "GaussianMixture",
    "IsotropicGaussian",
    "circle_of_gaussians",
    "five_gaussians",
    "kde_score",
]

"""The paper's 2-D data set: five Gaussians with means evenly spaced on a circle."""

from __future__ import annotations

import math

import torch

from .._checks import check_positive, check_positive_int
from .gaussian import GaussianMixture

__all__ = ["five_gaussians", "circle_of_gaussians"]


def circle_of_gaussians(
    n_modes: int = 5,
    radius: float = 3.0,
    std: float = 0.5,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> GaussianMixture:
    """Equal-weight isotropic Gaussians (std ``std``) with means at angles 2πk/n on a circle."""
    n_modes = check_positive_int(n_modes, "n_modes")
    radius = check_positive(radius, "radius")
    std = check_positive(std, "std")
    angles = torch.arange(n_modes, dtype=torch.float64) * (2 * math.pi / n_modes)
    means = radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    covs = (std**2) * torch.eye(2, dtype=torch.float64).expand(n_modes, 2, 2)
    return GaussianMixture(torch.ones(n_modes, dtype=torch.float64), means, covs.clone()).to(
        dtype=dtype, device=device
    )


def five_gaussians(
    radius: float = 3.0,
    std: float = 0.5,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> GaussianMixture:
    """The paper's 2-D data: 5 Gaussians, std 0.5, means evenly spaced on a circle.

    ``radius=3`` (default) is the official configs' value (github White-Link/gpm,
    ``config/*/gaussians/config.yaml``); the paper's Appendix D.1 states radius 5
    (``five_gaussians(radius=5)``).
    """
    return circle_of_gaussians(5, radius, std, dtype=dtype, device=device)

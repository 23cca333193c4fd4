"""N(m·1, s² I) in any dimension without a D×D matrix: the prior π of particle models on images
(D = C·H·W, where :class:`~ipm.distributions.Gaussian`'s full covariance would not fit)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._checks import check_positive, check_positive_int
from .gaussian import _sigma_value

__all__ = ["IsotropicGaussian"]


class IsotropicGaussian:
    """N(mean·1, std² I_D); smoothed by k_σ it is N(mean·1, (std² + σ²) I_D). ``mean`` is one
    scalar shared by every coordinate (e.g. −1, the black background of images in [−1, 1])."""

    def __init__(
        self,
        dim: int,
        std: float = 1.0,
        dtype: torch.dtype = torch.float32,
        device=None,
        mean: float = 0.0,
    ):
        self.dim = check_positive_int(dim, "dim")
        self.std = float(check_positive(std, "std"))
        self.mean = float(mean)
        if not math.isfinite(self.mean):
            raise ValueError(f"mean: expected a finite number, got {mean!r}")
        self.dtype, self.device = dtype, device

    def _check(self, x: Tensor) -> None:
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x: expected shape (N, {self.dim}), got {tuple(x.shape)}")

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """n samples, (n, D)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        x = self.mean + self.std * torch.randn(n, self.dim, dtype=self.dtype, generator=generator)
        return x.to(self.device) if self.device is not None else x

    def log_prob(self, x: Tensor, sigma: float | Tensor = 0.0) -> Tensor:
        """log N(x; mean·1, (std² + σ²) I), (N,)."""
        self._check(x)
        v = self.std**2 + _sigma_value(sigma) ** 2
        y = x - self.mean
        return -0.5 * (y * y).sum(1) / v - 0.5 * self.dim * math.log(2 * math.pi * v)

    def score(self, x: Tensor, sigma: float | Tensor = 0.0) -> Tensor:
        """−(x − mean)/(std² + σ²), (N, D)."""
        self._check(x)
        return -(x - self.mean) / (self.std**2 + _sigma_value(sigma) ** 2)

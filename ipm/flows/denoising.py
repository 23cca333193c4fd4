"""Learned scores by denoising (Eq. 23–24) with the preconditioning of Karras et al. (2022).

* :class:`EDMDenoiser` — D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ)) around a
  network F (Karras et al. 2022, Table 1);
* :func:`denoising_loss` — denoising score matching E‖D(x + σε, σ) − x‖² (Eq. 23), optionally
  with EDM's weight λ(σ);
* :class:`DenoiserScore` — the score s(x, σ) = (D(x, σ) − x)/σ² of a denoiser (Eq. 24, Tweedie's
  formula), a :class:`~ipm.flows.ScoreSource` for every score-based flow.

σ is one level for the batch or one level per particle, shape (N,).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..generators.conditioned import TimeConditionedMLP
from .scores import ScoreSource

__all__ = ["DenoiserScore", "EDMDenoiser", "denoising_loss"]


def _per_row(sigma: Tensor | float, x: Tensor) -> Tensor:
    """σ as a tensor of x's dtype and device: 0-d for one level, (N,) for one per particle."""
    return torch.as_tensor(sigma, dtype=x.dtype, device=x.device)


class EDMDenoiser(nn.Module):
    """D(x, σ) = c_skip(σ) x + c_out(σ) F(c_in(σ) x, c_noise(σ)) (Karras et al. 2022, Table 1).

    c_skip = σ_d²/(σ² + σ_d²), c_out = σ σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²),
    c_noise = ¼ ln σ; F (``body``) is a noise-conditioned network on flat particles: an MLP
    (the default, built from ``width``/``depth``/``activation``/``embedding``) or a U-Net.
    """

    def __init__(
        self,
        dim: int,
        sigma_data: float,
        *,
        body: nn.Module | None = None,
        width: int = 512,
        depth: int = 4,
        activation: str = "leaky_relu",
        embedding: int = 128,
    ):
        super().__init__()
        self.sigma_data = float(sigma_data)
        self.dim = dim
        if body is None:  # the MLP body of the 2-D models
            body = TimeConditionedMLP(
                dim, dim, width=width, depth=depth, activation_name=activation, embedding=embedding
            )
        self.f = body

    def forward(self, x: Tensor, sigma: Tensor | float) -> Tensor:
        s = _per_row(sigma, x)
        s = s.expand(x.shape[0]) if s.ndim == 0 else s
        sd2 = self.sigma_data**2
        s2 = s * s
        c_skip = (sd2 / (s2 + sd2))[:, None]
        c_out = (s * self.sigma_data / (s2 + sd2).sqrt())[:, None]
        c_in = (1 / (s2 + sd2).sqrt())[:, None]
        return c_skip * x + c_out * self.f(c_in * x, s.log() / 4)


def denoising_loss(
    denoiser: nn.Module,
    x: Tensor,
    sigma: Tensor,
    noise: Tensor,
    *,
    sigma_data: float | None = None,
) -> Tensor:
    """Denoising score matching (Eq. 23): the mean over the batch of ‖D(x + σε, σ) − x‖².

    Args:
        denoiser: D(x, σ) on flat particles.
        x: (N, D) clean data; sigma: (N,) noise levels; noise: (N, D) standard normal ε.
        sigma_data: with it, each term carries EDM's weight λ(σ) = (σ² + σ_d²)/(σ σ_d)²;
            without it, Eq. 23 as printed (no weight).
    """
    err = denoiser(x + sigma[:, None] * noise, sigma) - x
    sq = (err * err).sum(1)
    if sigma_data is not None:
        sq = (sigma**2 + sigma_data**2) / (sigma * sigma_data) ** 2 * sq
    return sq.mean()


class DenoiserScore(ScoreSource):
    """s(x, σ) = (D(x, σ) − x)/σ² (Eq. 24): the score of p ⋆ k_σ learned by a denoiser D.

    Args:
        denoiser: D(x, σ) (an :class:`EDMDenoiser`, or any callable of that signature).
        clamp: (lo, hi) to clamp D's output to first, e.g. (−1, 1) for images sampled by an ODE
            (DDPM's ``clip_denoised``: off its training inputs a denoiser can return values far
            outside the data range, which the ODE then amplifies).
    """

    def __init__(self, denoiser, *, clamp: tuple[float, float] | None = None):
        if not callable(denoiser):
            raise TypeError(f"denoiser: expected a callable, got {type(denoiser).__name__}")
        self.denoiser, self.clamp = denoiser, clamp
        self.dim = getattr(denoiser, "dim", None)

    def __call__(self, x, sigma=None, particles=None):
        if sigma is None:
            raise ValueError("sigma: a denoiser's score needs the noise level σ, got None")
        s = _per_row(sigma, x)
        s2 = (s * s)[:, None] if s.ndim == 1 else s * s
        d = self.denoiser(x, sigma)
        if self.clamp is not None:
            d = d.clamp(*self.clamp)
        return (d - x) / s2

    def to(self, device) -> DenoiserScore:
        if isinstance(self.denoiser, nn.Module):
            self.denoiser.to(device)
        return self

    def __repr__(self) -> str:
        return f"DenoiserScore({type(self.denoiser).__name__}, clamp={self.clamp})"

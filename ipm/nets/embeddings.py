"""Embeddings of a scalar time or noise level, for time-conditioned networks.

- :class:`FourierEmbedding`: random Fourier features (NCSN++; the paper's Discriminator Flow and
  Gaussians EDM, size 128, frequency scale 16 — Tables 4–5).
- :class:`PositionalEmbedding`: the transformer sinusoids of DDPM++ (EDM's U-Nets on MNIST and
  CelebA, size 256 — Table 5).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .._checks import check_positive, check_positive_int

__all__ = ["FourierEmbedding", "PositionalEmbedding", "make_embedding"]


def _even(size: int) -> int:
    size = check_positive_int(size, "size")
    if size % 2:
        raise ValueError(f"size: expected an even number of features, got {size}")
    return size


class FourierEmbedding(nn.Module):
    """Random Fourier features of a scalar t: [sin(2π t b), cos(2π t b)], b ~ N(0, scale²).

    The frequencies are a fixed buffer (saved in checkpoints), as in NCSN++ / the paper's
    Discriminator Flow (size 128, scale 16).
    """

    def __init__(self, size: int = 128, scale: float = 16.0):
        super().__init__()
        size = _even(size)
        check_positive(scale, "scale")
        self.size = size
        self.register_buffer("freqs", torch.randn(size // 2) * scale)

    def forward(self, t: Tensor) -> Tensor:
        a = (2 * math.pi) * t.reshape(-1, 1).to(self.freqs.dtype) * self.freqs
        return torch.cat([a.sin(), a.cos()], dim=1)


class PositionalEmbedding(nn.Module):
    """[cos(t ω_k), sin(t ω_k)], ω_k = (1/max_positions)^(k/(size/2)), k = 0 … size/2 − 1
    (Vaswani et al. 2017; DDPM++ as in EDM's ``PositionalEmbedding``)."""

    def __init__(self, size: int = 256, max_positions: int = 10_000):
        super().__init__()
        self.size = _even(size)
        self.max_positions = check_positive_int(max_positions, "max_positions")

    def forward(self, t: Tensor) -> Tensor:
        half = self.size // 2
        k = torch.arange(half, dtype=torch.float32, device=t.device) / half
        freqs = (1.0 / self.max_positions) ** k
        a = t.reshape(-1, 1).float() * freqs
        return torch.cat([a.cos(), a.sin()], dim=1).to(
            t.dtype if t.is_floating_point() else a.dtype
        )


def make_embedding(kind: str, size: int, scale: float = 16.0) -> nn.Module:
    """``"fourier"`` (with ``scale``) or ``"positional"``."""
    if kind == "fourier":
        return FourierEmbedding(size, scale)
    if kind == "positional":
        return PositionalEmbedding(size)
    raise ValueError(f"embedding: expected 'fourier' or 'positional', got {kind!r}")

"""Networks conditioned on a time or noise level, for the image-free (2-D) models."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nets.embeddings import FourierEmbedding, make_embedding
from .mlp import MLP

__all__ = ["FourierEmbedding", "TimeConditionedMLP"]


class TimeConditionedMLP(nn.Module):
    """f(x, t) = MLP([x, embedding(t)]); t is a scalar or one value per sample.

    The embedding is random Fourier features (``embedding_kind="fourier"``, frequency scale
    ``scale``) or the smooth positional sinusoids (``"positional"``), which suit noise labels
    c_noise = ¼ ln σ on image data.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        *,
        width: int = 512,
        depth: int = 4,
        activation_name: str = "leaky_relu",
        embedding: int = 128,
        scale: float = 16.0,
        embedding_kind: str = "fourier",
    ):
        super().__init__()
        self.embed = make_embedding(embedding_kind, embedding, scale)
        self.mlp = MLP(in_dim + embedding, out_dim, width, depth, activation_name)
        self.in_dim = in_dim

    def forward(self, x: Tensor, t: Tensor | float) -> Tensor:
        if x.ndim != 2 or x.shape[1] != self.in_dim:
            raise ValueError(f"x: expected shape (N, {self.in_dim}), got {tuple(x.shape)}")
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        if t.shape != (x.shape[0],):
            raise ValueError(f"t: expected a scalar or shape ({x.shape[0]},), got {tuple(t.shape)}")
        return self.mlp(torch.cat([x, self.embed(t).to(x.dtype)], dim=1))

"""Self-attention over image positions (SAGAN, Zhang et al. 2019; and DDPM++'s attention block)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["SelfAttention"]


class SelfAttention(nn.Module):
    """x + γ · o(softmax(θ(x)ᵀ φ(x) / √c) g(x)) over the H·W positions.

    θ, φ: 1×1 convs to C/8 channels, g: to C/2, o: back to C (SAGAN); γ starts at 0 (SAGAN) so
    the block is the identity at initialisation, or is fixed to 1/√2-scaled residual with
    ``learn_gate=False`` (DDPM++ style, the output conv starting at zero instead).
    """

    def __init__(self, channels: int, *, learn_gate: bool = True, norm: bool = False):
        super().__init__()
        c8, c2 = max(channels // 8, 1), max(channels // 2, 1)
        self.norm = nn.GroupNorm(_groups(channels), channels, eps=1e-6) if norm else nn.Identity()
        self.theta = nn.Conv2d(channels, c8, 1, bias=False)
        self.phi = nn.Conv2d(channels, c8, 1, bias=False)
        self.g = nn.Conv2d(channels, c2, 1, bias=False)
        self.o = nn.Conv2d(c2, channels, 1, bias=False)
        if learn_gate:
            self.gamma = nn.Parameter(torch.zeros(()))
        else:
            self.register_buffer("gamma", torch.ones(()))
            nn.init.zeros_(self.o.weight)
            self.o._keep_init = True

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        y = self.norm(x)
        q = self.theta(y).flatten(2).transpose(1, 2)  # (N, HW, c8)
        k = self.phi(y).flatten(2)  # (N, c8, HW)
        v = self.g(y).flatten(2).transpose(1, 2)  # (N, HW, c2)
        a = torch.softmax(q @ k / q.shape[-1] ** 0.5, dim=-1)
        out = (a @ v).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.gamma * self.o(out)


def _groups(channels: int) -> int:
    """GroupNorm groups as in EDM: min(32, C // 4), at least 1."""
    return max(1, min(32, channels // 4))

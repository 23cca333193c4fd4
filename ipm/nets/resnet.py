"""SAGAN-style ResNet generator and discriminator with self-attention (Zhang et al. 2019, as in
Kang et al. 2022's StudioGAN; the paper's CelebA Discriminator Flow, Table 4).

Generator blocks: BN → ReLU → ×2 upsample → conv3 → BN → ReLU → conv3, plus a 1×1 shortcut.
Discriminator blocks: act → conv3 → act → conv3 → avg-pool, plus a 1×1 shortcut; global sum
pooling and a linear head. Self-attention at resolution ``attention`` (0: none). A
time-conditioned discriminator modulates each conv3 output with
:class:`~ipm.nets.modulation.TimeAffine` before the next activation (App. D.2).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..generators.mlp import activation
from .attention import SelfAttention
from .dcgan import _check_latent, _time_embedding, dcgan_stages
from .embeddings import make_embedding
from .modulation import TimeAffine

__all__ = ["ResNetDiscriminator", "ResNetGenerator"]


class _GenBlock(nn.Module):
    def __init__(self, cin: int, cout: int, batch_norm: bool, act: str):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin) if batch_norm else nn.Identity()
        self.bn2 = nn.BatchNorm2d(cout) if batch_norm else nn.Identity()
        self.c1, self.c2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.sc = nn.Conv2d(cin, cout, 1)
        self.act = activation(act)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(self.act(self.bn1(x)), scale_factor=2.0, mode="nearest")
        h = self.c2(self.act(self.bn2(self.c1(h))))
        return h + self.sc(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResNetGenerator(nn.Module):
    """z → Linear → (w·2^(k−1))@4×4 → k generator blocks (channels halving) → BN, ReLU, conv3, tanh."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        size: int,
        width: int = 64,
        *,
        attention: int = 32,
        batch_norm: bool = True,
        activation_name: str = "relu",
        tanh: bool = True,
    ):
        super().__init__()
        k = dcgan_stages(size)
        self.latent_dim, self.out_shape = latent_dim, (channels, size, size)
        ch = width * 2 ** (k - 1)
        self.ch0 = ch
        self.linear = nn.Linear(latent_dim, ch * 16)
        blocks: list[nn.Module] = []
        res = 4
        for _ in range(k):
            nxt = max(ch // 2, width)
            blocks.append(_GenBlock(ch, nxt, batch_norm, activation_name))
            ch, res = nxt, res * 2
            if res == attention:
                blocks.append(SelfAttention(ch))
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(ch) if batch_norm else nn.Identity()
        self.act = activation(activation_name)
        self.out = nn.Conv2d(ch, channels, 3, 1, 1)
        self.tanh = tanh

    def forward(self, z: Tensor) -> Tensor:
        _check_latent(z, self.latent_dim)
        h = self.blocks(self.linear(z).reshape(z.shape[0], self.ch0, 4, 4))
        h = self.out(self.act(self.bn(h)))
        return h.tanh() if self.tanh else h


class _DiscBlock(nn.Module):
    def __init__(self, cin: int, cout: int, first: bool, act: str, emb: int):
        super().__init__()
        self.first = first
        self.c1, self.c2 = nn.Conv2d(cin, cout, 3, 1, 1), nn.Conv2d(cout, cout, 3, 1, 1)
        self.sc = nn.Conv2d(cin, cout, 1)
        self.act = activation(act)
        self.m1 = TimeAffine(emb, cout) if emb else None
        self.m2 = TimeAffine(emb, cout) if emb else None

    def forward(self, x: Tensor, e: Tensor | None) -> Tensor:
        h = self.c1(x if self.first else self.act(x))
        h = self.m1(h, e) if e is not None else h
        h = self.c2(self.act(h))
        h = self.m2(h, e) if e is not None else h
        h = F.avg_pool2d(h, 2)
        sc = self.sc(F.avg_pool2d(x, 2)) if self.first else F.avg_pool2d(self.sc(x), 2)
        return h + sc


class ResNetDiscriminator(nn.Module):
    """x → k discriminator blocks (channels doubling, ×½ each) to 4×4 → act → Σ over positions →
    Linear → (N, 1); optionally f(x, t) with time modulation."""

    def __init__(
        self,
        channels: int,
        size: int,
        width: int = 64,
        *,
        attention: int = 32,
        activation_name: str = "leaky_relu",
        time_embedding: int = 0,
        embedding_kind: str = "fourier",
        time_scale: float = 16.0,
        out_features: int = 1,
    ):
        super().__init__()
        k = dcgan_stages(size)
        self.in_shape = (channels, size, size)
        self.time_conditioned = time_embedding > 0
        blocks, attn = [], {}
        cin, ch, res = channels, width, size
        for i in range(k):
            blocks.append(_DiscBlock(cin, ch, i == 0, activation_name, time_embedding))
            res //= 2
            if res == attention:
                attn[str(i)] = SelfAttention(ch)
            cin, ch = ch, ch * 2
        self.blocks = nn.ModuleList(blocks)
        self.attn = nn.ModuleDict(attn)
        self.act = activation(activation_name)
        self.head = nn.Linear(cin, out_features)
        if self.time_conditioned:
            self.embed = make_embedding(embedding_kind, time_embedding, time_scale)

    def forward(self, x: Tensor, t: Tensor | float | None = None) -> Tensor:
        if x.shape[1:] != self.in_shape:
            raise ValueError(f"x: expected shape (N, {self.in_shape}), got {tuple(x.shape)}")
        e = _time_embedding(self, x, t)
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h, e)
            if str(i) in self.attn:
                h = self.attn[str(i)](h)
        return self.head(self.act(h).sum(dim=(2, 3)))

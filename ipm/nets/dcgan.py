"""DCGAN generator and discriminator (Radford et al. 2016) for 32×32 and 64×64 images.

As in the paper (App. D.2): for 32×32 images the generator's last and the discriminator's first
convolution are adapted to that size (one up/down-sampling stage fewer); discriminators get a bias
on their first convolution; image generators end with tanh; a time-conditioned discriminator
(Discriminator Flow) modulates every convolution output before its activation with
:class:`~ipm.nets.modulation.TimeAffine`.

Both take and return *images* (N, C, H, W); :mod:`ipm.nets.build` wraps them for flat particles.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from ..generators.mlp import activation
from .embeddings import make_embedding
from .modulation import TimeAffine

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "dcgan_stages"]


def dcgan_stages(size: int) -> int:
    """Number of stride-2 stages between 4×4 and ``size``×``size`` (3 for 32, 4 for 64)."""
    if size not in (16, 32, 64, 128):
        raise ValueError(f"size: expected 16, 32, 64 or 128, got {size}")
    return int(math.log2(size)) - 2


class DCGANGenerator(nn.Module):
    """z (N, latent) → ConvT to (w·2^(k−1))@4×4 → k−1 ×[ConvT ×2, BN, act] → ConvT → tanh."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        size: int,
        width: int = 64,
        *,
        batch_norm: bool = True,
        activation_name: str = "relu",
        tanh: bool = True,
    ):
        super().__init__()
        k = dcgan_stages(size)
        self.latent_dim, self.out_shape = latent_dim, (channels, size, size)
        ch = width * 2 ** (k - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, ch, 4, 1, 0, bias=not batch_norm)]
        for _ in range(k - 1):
            layers += [nn.BatchNorm2d(ch)] if batch_norm else []
            layers += [
                activation(activation_name),
                nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=not batch_norm),
            ]
            ch //= 2
        layers += [nn.BatchNorm2d(ch)] if batch_norm else []
        layers += [activation(activation_name), nn.ConvTranspose2d(ch, channels, 4, 2, 1)]
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        _check_latent(z, self.latent_dim)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """x (N, C, H, W) → Conv ×½ (bias) → k−1 ×[Conv ×½, BN, act] → Conv 4×4 → (N, 1)
    (or (N, ``out_features``): a feature map, e.g. DMMD's).

    With ``time_embedding`` > 0 it is f(x, t): every convolution output but the last is modulated
    by a :class:`TimeAffine` of the embedding of t before its activation.
    """

    def __init__(
        self,
        channels: int,
        size: int,
        width: int = 64,
        *,
        batch_norm: bool = False,
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
        self.out_features = out_features
        chans = [width * 2**i for i in range(k)]
        self.convs = nn.ModuleList([nn.Conv2d(channels, chans[0], 4, 2, 1, bias=True)])
        self.norms = nn.ModuleList([nn.Identity()])
        for a, b in zip(chans[:-1], chans[1:]):
            self.convs.append(nn.Conv2d(a, b, 4, 2, 1, bias=not batch_norm))
            self.norms.append(nn.BatchNorm2d(b) if batch_norm else nn.Identity())
        self.act = activation(activation_name)
        self.out = nn.Conv2d(chans[-1], out_features, 4, 1, 0)
        if self.time_conditioned:
            self.embed = make_embedding(embedding_kind, time_embedding, time_scale)
            self.mods = nn.ModuleList([TimeAffine(time_embedding, c) for c in chans])

    def forward(self, x: Tensor, t: Tensor | float | None = None) -> Tensor:
        if x.shape[1:] != self.in_shape:
            raise ValueError(f"x: expected shape (N, {self.in_shape}), got {tuple(x.shape)}")
        e = _time_embedding(self, x, t)
        h = x
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            h = norm(conv(h))
            if e is not None:
                h = self.mods[i](h, e)
            h = self.act(h)
        return self.out(h).reshape(x.shape[0], self.out_features)


def _check_latent(z: Tensor, latent_dim: int) -> None:
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ValueError(f"z: expected shape (N, {latent_dim}), got {tuple(z.shape)}")


def _time_embedding(net: nn.Module, x: Tensor, t) -> Tensor | None:
    """The embedding of t (scalar or (N,)) for a time-conditioned net; None otherwise."""
    if not net.time_conditioned:
        if t is not None:
            raise ValueError("t: this network is not time-conditioned (time_embedding = 0)")
        return None
    if t is None:
        raise ValueError("t: this network is time-conditioned; pass a time")
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    if t.ndim == 0:
        t = t.expand(x.shape[0])
    if t.shape != (x.shape[0],):
        raise ValueError(f"t: expected a scalar or shape ({x.shape[0]},), got {tuple(t.shape)}")
    return net.embed(t).to(x.dtype)

"""Networks from their configs, for flat particles.

Everything in :mod:`ipm` moves particles as batch-first vectors (N, D); images are particles with
D = C·H·W. :class:`FlatImage` wraps an image network so that it reads and writes such vectors, and
the three builders give each role of the paper's models its network (Tables 4–7):

- :func:`generator_net` — z (N, d) → x (N, D): MLP, DCGAN or ResNet (tanh output on images);
- :func:`discriminator_net` — x (N, D) [, t] → (N, 1): MLP, DCGAN or ResNet, time-conditioned
  for Discriminator Flows;
- :func:`denoiser_body` — the F(x, c_noise) → (N, D) inside EDM's preconditioning: MLP or U-Net
  (ipm's, or diffusers' as a reference).
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..config import ConfigError, NetConfig
from ..generators.conditioned import TimeConditionedMLP
from ..generators.mlp import MLP
from .config import DCGANConfig, DiffusersUNetConfig, MLPConfig, ResNetConfig, UNetConfig
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .init import init_weights
from .resnet import ResNetDiscriminator, ResNetGenerator
from .unet import UNet

__all__ = ["FlatImage", "denoiser_body", "discriminator_net", "generator_net", "image_shape"]


def image_shape(shape: tuple[int, ...]) -> tuple[int, int, int] | None:
    """(C, H, W) when ``shape`` describes square images, None for vectors."""
    if len(shape) == 3 and shape[1] == shape[2]:
        return tuple(int(s) for s in shape)  # type: ignore[return-value]
    return None


class FlatImage(nn.Module):
    """An image network on flat particles: reshapes (N, D) inputs to ``in_shape`` (if given)
    and flattens the output to (N, ·). Extra arguments (a time, a noise label) pass through."""

    def __init__(self, net: nn.Module, in_shape: tuple[int, ...] | None = None):
        super().__init__()
        self.net, self.in_shape = net, in_shape

    def forward(self, x: Tensor, *args) -> Tensor:
        if self.in_shape is not None:
            d = math.prod(self.in_shape)
            if x.ndim != 2 or x.shape[1] != d:
                raise ValueError(
                    f"x: expected flat images of shape (N, {d}) = (N, {'·'.join(map(str, self.in_shape))}), "
                    f"got {tuple(x.shape)}"
                )
            x = x.reshape(x.shape[0], *self.in_shape)
        return self.net(x, *args).flatten(1)


def _need_images(cfg: NetConfig, shape, key: str):
    img = image_shape(shape)
    if img is None:
        raise ConfigError(
            f"{key}.kind", f"{cfg.kind!r} needs image data, got data of shape {shape}"
        )
    return img


_IMAGE_NETS = {
    "dcgan": (DCGANGenerator, DCGANDiscriminator),
    "resnet": (ResNetGenerator, ResNetDiscriminator),
}


def _image_kwargs(cfg: NetConfig, generator: bool) -> dict:
    """The architecture-specific keyword arguments of a DCGAN / ResNet config (the ResNet
    discriminator has no batch normalisation)."""
    kw = {"activation_name": cfg.activation}
    if isinstance(cfg, ResNetConfig):
        kw["attention"] = cfg.attention
    if generator or isinstance(cfg, DCGANConfig):
        kw["batch_norm"] = cfg.batch_norm
    return kw


def generator_net(cfg: NetConfig, latent_dim: int, shape: tuple[int, ...], key="generator"):
    """z (N, latent_dim) → flat samples (N, prod(shape)); tanh output for images."""
    if isinstance(cfg, MLPConfig):
        out = "tanh" if image_shape(shape) else None
        net = MLP(
            latent_dim,
            math.prod(shape),
            cfg.width,
            cfg.depth,
            cfg.activation,
            output_activation=out,
        )
    elif cfg.kind in _IMAGE_NETS:
        c, s, _ = _need_images(cfg, shape, key)
        gen = _IMAGE_NETS[cfg.kind][0]
        net = FlatImage(gen(latent_dim, c, s, cfg.width, **_image_kwargs(cfg, True)))
    else:
        raise ConfigError(f"{key}.kind", f"expected mlp, dcgan or resnet, got {cfg.kind!r}")
    return init_weights(net, cfg.init, cfg.init_gain)


def discriminator_net(
    cfg: NetConfig,
    shape: tuple[int, ...],
    *,
    time_embedding: int = 0,
    time_scale: float = 16.0,
    out: int = 1,
    key="discriminator",
):
    """Flat x (N, D) [, t] → (N, ``out``); time-conditioned when ``time_embedding`` > 0."""
    d = math.prod(shape)
    if isinstance(cfg, MLPConfig):
        if time_embedding:
            net = TimeConditionedMLP(
                d,
                out,
                width=cfg.width,
                depth=cfg.depth,
                activation_name=cfg.activation,
                embedding=time_embedding,
                scale=time_scale,
                embedding_kind=cfg.embedding,
            )
        else:
            net = MLP(d, out, cfg.width, cfg.depth, cfg.activation)
    elif cfg.kind in _IMAGE_NETS:
        img = _need_images(cfg, shape, key)
        disc = _IMAGE_NETS[cfg.kind][1](
            img[0],
            img[1],
            cfg.width,
            time_embedding=time_embedding,
            time_scale=time_scale,
            out_features=out,
            **_image_kwargs(cfg, False),
        )
        net = FlatImage(disc, img)
    else:
        raise ConfigError(f"{key}.kind", f"expected mlp, dcgan or resnet, got {cfg.kind!r}")
    return init_weights(net, cfg.init, cfg.init_gain)


def denoiser_body(cfg: NetConfig, shape: tuple[int, ...], embedding_dim: int = 128, key="net"):
    """F(x, c_noise): flat (N, D) and a noise label → (N, D) (an MLP, an EDM U-Net, or
    ``diffusers.UNet2DModel``)."""
    d = math.prod(shape)
    if isinstance(cfg, MLPConfig):
        net = TimeConditionedMLP(
            d,
            d,
            width=cfg.width,
            depth=cfg.depth,
            activation_name=cfg.activation,
            embedding=embedding_dim,
            embedding_kind=cfg.embedding,
        )
        return init_weights(net, cfg.init, cfg.init_gain)
    if isinstance(cfg, UNetConfig):
        img = _need_images(cfg, shape, key)
        return FlatImage(
            UNet(
                img[0],
                img[1],
                cfg.width,
                channel_mult=cfg.channel_mult,
                num_blocks=cfg.num_blocks,
                attention=cfg.attention,
                dropout=cfg.dropout,
                embedding=cfg.embedding,
                embedding_kind=cfg.embedding_kind,
                channels_last=cfg.channels_last,
                patch=cfg.patch,
                resample_proj=cfg.resample_proj,
                groups=cfg.groups,
                skip_scale=cfg.skip_scale,
            ),
            img,
        )
    if isinstance(cfg, DiffusersUNetConfig):
        from .diffusers_unet import DiffusersUNet  # an optional dependency, imported when used

        img = _need_images(cfg, shape, key)
        kw = {k: getattr(cfg, k) for k in ("channel_mult", "num_blocks", "attention", "layout")}
        net = DiffusersUNet(*img[:2], cfg.width, groups=cfg.groups, patch=cfg.patch, **kw)
        return FlatImage(net, img)
    raise ConfigError(f"{key}.kind", f"expected mlp, unet or diffusers_unet, got {cfg.kind!r}")

"""Network configs (``kind``: mlp, dcgan, resnet, unet, diffusers_unet), built by
:mod:`ipm.nets.build`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from ..config import NetConfig, non_negative, positive, require

__all__ = ["DCGANConfig", "DiffusersUNetConfig", "MLPConfig", "ResNetConfig", "UNetConfig"]

Init = Literal["default", "normal", "orthogonal"]
Activation = Literal["leaky_relu", "relu", "tanh", "gelu", "silu", "softplus"]


@dataclass(frozen=True)
class MLPConfig(NetConfig):
    """An MLP: ``depth`` hidden layers of ``width`` units (any data)."""

    kind: Literal["mlp"] = "mlp"
    width: int = 512
    depth: int = 4
    activation: Activation = "leaky_relu"
    init: Init = "default"  # normal: W ~ N(0, init_gain²), b = 0; orthogonal: gain init_gain
    init_gain: float = 0.02
    # time/noise embedding when the MLP is conditioned (denoisers, Discriminator Flow):
    # random Fourier features, or smooth positional sinusoids (better for c_noise on images)
    embedding: Literal["fourier", "positional"] = "fourier"

    def __post_init__(self):
        positive(self, "width", "depth", "init_gain")


@dataclass(frozen=True)
class DCGANConfig(NetConfig):
    """A DCGAN generator or discriminator (:mod:`ipm.nets.dcgan`), images of side 16–128."""

    kind: Literal["dcgan"] = "dcgan"
    width: int = 64
    batch_norm: bool = False
    activation: Activation = "leaky_relu"
    init: Init = "normal"
    init_gain: float = 0.02

    def __post_init__(self):
        positive(self, "width", "init_gain")


@dataclass(frozen=True)
class ResNetConfig(NetConfig):
    """A SAGAN-style ResNet generator or discriminator with self-attention at resolution
    ``attention`` (0: none) (:mod:`ipm.nets.resnet`)."""

    kind: Literal["resnet"] = "resnet"
    width: int = 64
    attention: int = 32
    batch_norm: bool = True  # generators only: the ResNet discriminator has no normalisation
    activation: Activation = "leaky_relu"
    init: Init = "normal"
    init_gain: float = 0.02

    def __post_init__(self):
        positive(self, "width", "init_gain")
        non_negative(self, "attention")


@dataclass(frozen=True)
class UNetConfig(NetConfig):
    """An EDM-style U-Net denoiser body (:mod:`ipm.nets.unet`): ``width`` base channels,
    ``channel_mult`` per level, ``num_blocks`` per level, attention at the listed resolutions."""

    kind: Literal["unet"] = "unet"
    width: int = 16
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_blocks: int = 2
    attention: tuple[int, ...] = (16,)
    dropout: float = 0.0
    embedding: int = 256
    embedding_kind: Literal["positional", "fourier"] = "positional"
    channels_last: bool = False  # NHWC weights and activations (see ipm.nets.unet)
    patch: int = 1  # run on p×p patches as channels, at 1/p the resolution (see ipm.nets.unet)
    resample_proj: bool = True  # a 1×1 conv on resampling blocks' shortcuts (EDM's SongUNet)
    groups: int = 0  # GroupNorm groups at every layer; 0: EDM's min(32, C/4) (see ipm.nets.unet)
    skip_scale: float = math.sqrt(0.5)  # residual and attention sums times this (EDM's 1/√2)

    def __post_init__(self):
        positive(self, "width", "num_blocks", "embedding", "patch", "skip_scale")
        non_negative(self, "groups")
        require(
            len(self.channel_mult) > 0 and all(m > 0 for m in self.channel_mult),
            "channel_mult",
            f"expected positive multipliers, got {list(self.channel_mult)}",
        )
        require(0 <= self.dropout < 1, "dropout", f"expected in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class DiffusersUNetConfig(NetConfig):
    """``diffusers.UNet2DModel`` as a denoiser body (:mod:`ipm.nets.diffusers_unet`; optional
    dependency ``ipm[bench]``), with the levels of :class:`UNetConfig`: ``width ·
    channel_mult`` channels, ``num_blocks`` per level, attention at the listed resolutions;
    ``layout`` ddpmpp (ipm's block layout) or default (diffusers'); ``groups`` of GroupNorm."""

    kind: Literal["diffusers_unet"] = "diffusers_unet"
    width: int = 16
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_blocks: int = 2
    attention: tuple[int, ...] = (16,)
    layout: Literal["ddpmpp", "default"] = "ddpmpp"
    groups: int = 8
    patch: int = 1

    def __post_init__(self):
        positive(self, "width", "num_blocks", "groups", "patch")
        chans = [self.width * m for m in self.channel_mult]
        require(
            len(chans) > 0 and all(c > 0 and c % self.groups == 0 for c in chans),
            "channel_mult",
            f"expected positive multipliers whose channels {chans} divide into {self.groups} groups",
        )

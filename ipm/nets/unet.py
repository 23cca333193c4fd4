"""An EDM-style U-Net (DDPM++ blocks; Song et al. 2021, Karras et al. 2022 ``SongUNet``): the
denoiser body F(x, c_noise) of the paper's EDM and Score-GAN score networks on images (Tables 5, 7).

Blocks: GroupNorm → SiLU → conv3 (with ×2 down/up-sampling) → adaptive GroupNorm by the noise
embedding, (1 + scale) ⊙ h + shift → SiLU → dropout → conv3 (zero-initialised); residual 1×1
shortcut (on a resampling block too, as EDM's ``resample_proj``; ``resample_proj=False``: the
resampled input alone, as diffusers' resnet resampling blocks); the sum scaled by ``skip_scale``
(EDM's 1/√2; 1: the plain sum, as diffusers' U-Net), as is the sum of an attention layer and its
input; multi-head self-attention at the resolutions listed. The noise
embedding is positional (or Fourier) of size ``embedding``, mapped by a 2-layer SiLU MLP to
4·``width`` channels. Convolutions use EDM's uniform Kaiming initialisation.

GroupNorm has EDM's min(32, C/4) groups, or ``groups`` groups at every layer (each layer's
channels must be a multiple). Narrow networks want more groups than EDM's rule gives: the
MNIST-cpu EDM config's U-Net (8–16–32 channels, 191k parameters) trained 1,200 steps with 8
groups denoised at σ ≤ 0.02 with a loss 9–39% lower than with EDM's 2–8 (identical batches and
noise draws; σ 0.005: 0.48 against 0.73), as diffusers' U-Net of the same levels with 8 groups
(0.49), at an equal loss elsewhere.

``patch`` p > 1 runs the U-Net on p×p patches: the image is rearranged to C·p² channels at
resolution H/p (``pixel_unshuffle``) and back at the output, so every level costs about p² times
less (the patch stem of Hoogeboom et al. 2023's simple diffusion); ``attention`` then lists
resolutions of the rearranged image.

``channels_last`` keeps weights and activations in NHWC strides (values and the input and output
layout unchanged). On this project's CPU (one thread, batch 32, the MNIST EDM config's U-Net) it
made a float32 training step 7% faster and a bf16 one 35% slower (GroupNorm's backward pass in
that layout), so it is off by default; GPUs with reduced precision are where it usually pays.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention import _groups
from .embeddings import make_embedding
from .patches import check_patch, from_patches, to_patches

EDM_SKIP_SCALE = math.sqrt(0.5)  # EDM's factor on residual and attention sums

__all__ = ["UNet"]


def _kaiming_uniform_(w: Tensor, scale: float = 1.0) -> Tensor:
    """EDM's 'kaiming_uniform': U(±√(3/fan_in)) times ``scale`` (0 for output layers)."""
    fan_in = w.shape[1] * w[0, 0].numel() if w.ndim > 1 else w.shape[0]
    with torch.no_grad():
        return w.uniform_(-1, 1).mul_(math.sqrt(3 / fan_in) * scale)


def _conv(cin: int, cout: int, k: int, scale: float = 1.0) -> nn.Conv2d:
    c = nn.Conv2d(cin, cout, k, padding=k // 2)
    _kaiming_uniform_(c.weight, scale)
    nn.init.zeros_(c.bias)
    c._keep_init = True
    return c


def _linear(cin: int, cout: int, scale: float = 1.0) -> nn.Linear:
    lin = nn.Linear(cin, cout)
    _kaiming_uniform_(lin.weight, scale)
    nn.init.zeros_(lin.bias)
    return lin


def _norm(channels: int, groups: int) -> nn.GroupNorm:
    """GroupNorm of ``groups`` groups (0: EDM's min(32, C/4))."""
    g = groups or _groups(channels)
    if channels % g:
        raise ValueError(f"groups: {g} groups do not divide a layer's {channels} channels")
    return nn.GroupNorm(g, channels, eps=1e-6)


class _Attention(nn.Module):
    def __init__(self, ch: int, groups: int = 0, head_channels: int = 64):
        super().__init__()
        self.heads = max(1, ch // head_channels)
        self.norm = _norm(ch, groups)
        self.qkv = _conv(ch, 3 * ch, 1)
        self.proj = _conv(ch, ch, 1, scale=0.0)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(n, 3, self.heads, c // self.heads, h * w).unbind(1)
        a = F.scaled_dot_product_attention(
            q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2)
        )
        return self.proj(a.transpose(-1, -2).reshape(n, c, h, w))


class _Block(nn.Module):
    def __init__(
        self,
        cin,
        cout,
        emb,
        *,
        dropout=0.0,
        attention=False,
        resample="",
        resample_proj=True,
        groups=0,
        skip_scale=EDM_SKIP_SCALE,
    ):
        super().__init__()
        self.resample, self.skip_scale = resample, skip_scale
        self.norm0 = _norm(cin, groups)
        self.conv0 = _conv(cin, cout, 3)
        self.affine = _linear(emb, 2 * cout)
        self.norm1 = _norm(cout, groups)
        self.dropout = nn.Dropout(dropout)
        self.conv1 = _conv(cout, cout, 3, scale=1e-5)
        self.skip = _conv(cin, cout, 1) if (cin != cout or (resample and resample_proj)) else None
        self.attn = _Attention(cout, groups) if attention else None

    def _rs(self, x: Tensor) -> Tensor:
        if self.resample == "down":
            return F.avg_pool2d(x, 2)
        if self.resample == "up":
            return F.interpolate(x, scale_factor=2.0, mode="nearest")
        return x

    def forward(self, x: Tensor, emb: Tensor) -> Tensor:
        h = self.conv0(self._rs(F.silu(self.norm0(x))))
        scale, shift = self.affine(emb)[:, :, None, None].to(h.dtype).chunk(2, dim=1)
        h = F.silu(self.norm1(h) * (1 + scale) + shift)
        h = self.conv1(self.dropout(h))
        s = self._rs(x)
        h = (h + (self.skip(s) if self.skip is not None else s)) * self.skip_scale
        if self.attn is not None:
            h = (h + self.attn(h)) * self.skip_scale
        return h


class UNet(nn.Module):
    """F(x, c_noise): images (N, C, H, W) and a noise label per sample → (N, C, H, W)."""

    def __init__(
        self,
        channels: int,
        size: int,
        width: int = 16,
        *,
        channel_mult: tuple[int, ...] = (1, 2, 2),
        num_blocks: int = 2,
        attention: tuple[int, ...] = (16,),
        dropout: float = 0.0,
        embedding: int = 256,
        embedding_kind: str = "positional",
        embedding_scale: float = 16.0,
        channels_last: bool = False,
        patch: int = 1,
        resample_proj: bool = True,
        groups: int = 0,
        skip_scale: float = EDM_SKIP_SCALE,
    ):
        super().__init__()
        rs = {"dropout": dropout, "resample_proj": resample_proj, "groups": groups}
        rs |= {"skip_scale": skip_scale}
        self.in_shape, self.patch = (channels, size, size), check_patch(patch, size)
        channels, size = channels * patch**2, size // patch
        if size % 2 ** (len(channel_mult) - 1):
            raise ValueError(
                f"size: {size} is not divisible by 2^{len(channel_mult) - 1} (channel_mult {channel_mult})"
            )
        emb = 4 * width
        self.embed = make_embedding(embedding_kind, embedding, embedding_scale)
        self.map = nn.Sequential(_linear(embedding, emb), nn.SiLU(), _linear(emb, emb), nn.SiLU())
        self.conv_in = _conv(channels, width * channel_mult[0], 3)
        self.enc = nn.ModuleList()
        skips = [width * channel_mult[0]]
        cout, res = width * channel_mult[0], size
        for level, mult in enumerate(channel_mult):
            if level > 0:
                self.enc.append(_Block(cout, cout, emb, resample="down", **rs))
                res //= 2
                skips.append(cout)
            for _ in range(num_blocks):
                cin, cout = cout, width * mult
                self.enc.append(_Block(cin, cout, emb, attention=res in attention, **rs))
                skips.append(cout)
        self.mid = nn.ModuleList(
            [
                _Block(cout, cout, emb, attention=True, **rs),
                _Block(cout, cout, emb, **rs),
            ]
        )
        self.dec = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            for i in range(num_blocks + 1):
                cin, cout = cout + skips.pop(), width * mult
                att = i == num_blocks and res in attention
                self.dec.append(_Block(cin, cout, emb, attention=att, **rs))
            if level > 0:
                self.dec.append(_Block(cout, cout, emb, resample="up", **rs))
                res *= 2
        self.norm_out = _norm(cout, groups)
        self.conv_out = _conv(cout, channels, 3, scale=1e-5)
        self.layout = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.layout)

    def forward(self, x: Tensor, c_noise: Tensor | float) -> Tensor:
        if x.shape[1:] != self.in_shape:
            raise ValueError(f"x: expected shape (N, {self.in_shape}), got {tuple(x.shape)}")
        c = torch.as_tensor(c_noise, dtype=x.dtype, device=x.device)
        c = c.expand(x.shape[0]) if c.ndim == 0 else c
        emb = self.map(self.embed(c).to(x.dtype))
        h = self.conv_in(to_patches(x, self.patch).contiguous(memory_format=self.layout))
        hs = [h]
        for b in self.enc:
            h = b(h, emb)
            hs.append(h)
        for b in self.mid:
            h = b(h, emb)
        for b in self.dec:
            if b.resample != "up":
                h = torch.cat([h, hs.pop()], dim=1)
            h = b(h, emb)
        out = self.conv_out(F.silu(self.norm_out(h)))
        return from_patches(out, self.patch).contiguous()

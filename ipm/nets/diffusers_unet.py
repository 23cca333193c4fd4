"""``diffusers.UNet2DModel`` as a denoiser body F(x, c_noise): the reference implementation of
the DDPM U-Net family, for EDM runs and benchmarks that compare ``ipm``'s
:class:`~ipm.nets.unet.UNet` with it at equal size. An optional dependency (``pip install
'ipm[bench]'``); the network is built from its config, nothing is downloaded.

The levels mirror :class:`~ipm.nets.unet.UNet`'s: ``width · channel_mult`` channels,
``num_blocks`` residual blocks per level, attention blocks at the listed resolutions and in the
middle. ``layout="ddpmpp"`` is the DDPM++ layout of ipm's U-Net: residual down- and up-sampling
blocks (``ResnetDownsampleBlock2D`` / ``ResnetUpsampleBlock2D``, or the attention blocks with
``downsample_type="resnet"``) whose shortcuts resample without a projection, as ipm's
``UNet(resample_proj=False)``, and scale-shift conditioning. ``"default"`` is diffusers' own
layout (strided and interpolating convolutions, additive conditioning). The noise label enters
diffusers' sinusoidal timestep embedding as it is (``flip_sin_to_cos``, no frequency shift: the
positional embedding EDM applies to c_noise = ¼ ln σ). ``patch`` p rearranges p×p patches to
channels around the network, as :class:`~ipm.nets.unet.UNet` does.
"""

from __future__ import annotations

from torch import Tensor, nn

from .patches import check_patch, from_patches, to_patches

__all__ = ["DiffusersUNet"]


class DiffusersUNet(nn.Module):
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
        layout: str = "ddpmpp",
        groups: int = 8,
        patch: int = 1,
    ):
        super().__init__()
        try:
            from diffusers import UNet2DModel
        except ImportError as e:  # an optional dependency
            raise ImportError(
                "net.kind 'diffusers_unet' needs the diffusers package: pip install 'ipm[bench]'"
            ) from e
        if layout not in ("ddpmpp", "default"):
            raise ValueError(f"layout: expected 'ddpmpp' or 'default', got {layout!r}")
        self.in_shape, self.patch = (channels, size, size), check_patch(patch, size)
        res = [size // patch // 2**i for i in range(len(channel_mult))]
        plain = "ResnetDownsampleBlock2D" if layout == "ddpmpp" else "DownBlock2D"
        down = tuple("AttnDownBlock2D" if r in attention else plain for r in res)
        up = tuple(b.replace("Down", "Up") for b in reversed(down))
        extra = (
            {"downsample_type": "resnet", "upsample_type": "resnet"}
            | {"resnet_time_scale_shift": "scale_shift"}
            if layout == "ddpmpp"
            else {}
        )
        self.net = UNet2DModel(
            sample_size=size // patch,
            in_channels=channels * patch**2,
            out_channels=channels * patch**2,
            block_out_channels=tuple(width * m for m in channel_mult),
            layers_per_block=num_blocks,
            down_block_types=down,
            up_block_types=up,
            norm_num_groups=groups,
            attention_head_dim=None,
            flip_sin_to_cos=True,
            freq_shift=0,
            **extra,
        )

    def forward(self, x: Tensor, c_noise: Tensor) -> Tensor:
        out = self.net(to_patches(x, self.patch), c_noise.reshape(-1).expand(x.shape[0])).sample
        return from_patches(out, self.patch)

"""The EDM U-Net (:mod:`ipm.nets.unet`)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ipm.nets import (
    UNet,
)


def test_unet_shapes_noise_conditioning_and_size_check():
    u = UNet(1, 16, 8, channel_mult=(1, 2), num_blocks=1, attention=(8,), embedding=16)
    x = torch.randn(3, 1, 16, 16)
    with torch.no_grad():  # move the zero-initialised output layers off zero
        for m in u.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.normal_(0, 0.1)
    y = u(x, torch.tensor([-1.0, 0.0, 1.0]))
    assert y.shape == x.shape
    assert not torch.allclose(u(x, 0.0), u(x, 1.0), atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        UNet(1, 18, 8, channel_mult=(1, 2, 2))


def test_channels_last_gives_the_same_outputs_in_nhwc_strides():
    from ipm.nets.unet import UNet

    torch.manual_seed(0)
    plain = UNet(1, 8, 8, channel_mult=(1, 2), num_blocks=1, attention=(4,))
    nhwc = UNet(1, 8, 8, channel_mult=(1, 2), num_blocks=1, attention=(4,), channels_last=True)
    nhwc.load_state_dict(plain.state_dict())
    assert nhwc.enc[0].conv0.weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.enc[0].conv0.weight.is_contiguous(memory_format=torch.channels_last)
    x, c = torch.randn(3, 1, 8, 8), torch.randn(3)
    out = nhwc(x, c)
    assert out.is_contiguous()
    torch.testing.assert_close(out, plain(x, c), rtol=1e-5, atol=1e-6)


def _randomise(net: nn.Module) -> nn.Module:
    """Move the zero-initialised output layers off zero, so outputs depend on every layer."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net


def test_patch_runs_the_unet_on_rearranged_patches():
    torch.manual_seed(0)
    patched = UNet(1, 16, 8, channel_mult=(1, 2), num_blocks=1, attention=(4,), patch=2)
    inner = UNet(4, 8, 8, channel_mult=(1, 2), num_blocks=1, attention=(4,))
    inner.load_state_dict(_randomise(patched).state_dict())
    x, c = torch.randn(3, 1, 16, 16), torch.randn(3)
    want = F.pixel_shuffle(inner(F.pixel_unshuffle(x, 2), c), 2)
    torch.testing.assert_close(patched(x, c), want, rtol=0, atol=0)
    # the rearrangement keeps each pixel's neighbourhood: pixel (0, 0) lands in channel 0 of
    # patch (0, 0), pixel (1, 1) in channel 3 of it
    y = torch.zeros(1, 1, 16, 16)
    y[0, 0, 1, 1] = 1.0
    assert F.pixel_unshuffle(y, 2)[0, 3, 0, 0] == 1.0
    with pytest.raises(ValueError, match="patch"):
        UNet(1, 16, 8, channel_mult=(1, 2), patch=3)


def test_diffusers_unet_matches_the_reference_built_by_hand():
    pytest.importorskip("diffusers")
    from diffusers import UNet2DModel

    from ipm.nets.diffusers_unet import DiffusersUNet

    torch.manual_seed(0)
    ours = DiffusersUNet(1, 16, 8, channel_mult=(1, 2), num_blocks=1, attention=(8,), patch=2)
    ref = UNet2DModel(
        sample_size=8,
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("AttnDownBlock2D", "ResnetDownsampleBlock2D"),
        up_block_types=("ResnetUpsampleBlock2D", "AttnUpBlock2D"),
        norm_num_groups=8,
        attention_head_dim=None,
        downsample_type="resnet",
        upsample_type="resnet",
        resnet_time_scale_shift="scale_shift",
    )
    ref.load_state_dict(_randomise(ours).net.state_dict())
    x, c = torch.randn(3, 1, 16, 16), torch.randn(3)
    want = F.pixel_shuffle(ref(F.pixel_unshuffle(x, 2), c).sample, 2)
    torch.testing.assert_close(ours(x, c), want, rtol=0, atol=0)
    assert not torch.allclose(ours(x, c), ours(x, c + 1), atol=1e-4)  # the label is used


def test_resample_proj_false_resamples_the_shortcut_without_a_convolution():
    kw = {"channel_mult": (1, 2), "num_blocks": 1, "attention": (), "embedding": 16}
    with_proj, without = UNet(1, 8, 4, **kw), UNet(1, 8, 4, resample_proj=False, **kw)
    down = [b for b in without.enc if b.resample == "down"]
    assert down and all(b.skip is None for b in down)
    assert all(b.skip is not None for b in with_proj.enc if b.resample == "down")
    # one 1×1 convolution (weights and bias) fewer per resampling block: down at 4 channels
    # (level 0), up at 8 (level 1)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(with_proj) - n(without) == (4 * 4 + 4) + (8 * 8 + 8)
    x, c = torch.randn(2, 1, 8, 8), torch.randn(2)
    with torch.no_grad():
        for p in without.parameters():
            p.add_(0.05 * torch.randn_like(p))
    b = down[0]
    h = torch.randn(2, 4, 8, 8)
    emb = without.map(without.embed(c))
    want = (b.conv1(b.dropout(torch.nn.functional.silu(
        b.norm1(b.conv0(F.avg_pool2d(F.silu(b.norm0(h)), 2)))
        * (1 + b.affine(emb)[:, :4, None, None]) + b.affine(emb)[:, 4:, None, None]
    ))) + F.avg_pool2d(h, 2)) / 2**0.5  # fmt: skip
    torch.testing.assert_close(b(h, emb), want)
    assert without(x, c).shape == x.shape


def test_groups_sets_every_groupnorm_and_must_divide_the_channels():
    kw = {"channel_mult": (1, 2), "num_blocks": 1, "attention": (4,), "embedding": 16}
    edm = UNet(1, 8, 8, **kw)
    eight = UNet(1, 8, 8, groups=8, **kw)
    norms = lambda m: [n for n in m.modules() if isinstance(n, torch.nn.GroupNorm)]  # noqa: E731
    assert {(n.num_channels, n.num_groups) for n in norms(edm)} >= {(8, 2), (16, 4)}
    assert norms(eight) and all(n.num_groups == 8 for n in norms(eight))
    # the same parameters, a different function
    eight.load_state_dict(edm.state_dict())
    with torch.no_grad():
        for p in eight.parameters():
            p.add_(0.05 * torch.randn_like(p))
        edm.load_state_dict(eight.state_dict())
        x, c = torch.randn(2, 1, 8, 8), torch.randn(2)
        assert not torch.allclose(edm(x, c), eight(x, c), atol=1e-4)
    with pytest.raises(ValueError, match="groups: 3 groups do not divide"):
        UNet(1, 8, 8, groups=3, **kw)


@pytest.mark.parametrize("skip_scale", [2**-0.5, 1.0])
def test_skip_scale_multiplies_every_residual_and_attention_sum(skip_scale):
    kw = {"channel_mult": (1, 2), "num_blocks": 1, "attention": (4,), "embedding": 16}
    net = _randomise(UNet(1, 8, 4, skip_scale=skip_scale, **kw))
    b = net.mid[0]  # a block with attention and no shortcut projection
    assert b.attn is not None and b.skip is None
    h, c = torch.randn(2, 8, 4, 4), torch.randn(2)
    emb = net.map(net.embed(c))
    s = b.affine(emb)[:, :, None, None]
    r = b.conv1(F.silu(b.norm1(b.conv0(F.silu(b.norm0(h)))) * (1 + s[:, :8]) + s[:, 8:]))
    r = (r + h) * skip_scale
    want = (r + b.attn(r)) * skip_scale
    torch.testing.assert_close(b(h, emb), want)
    # the same weights with the other scale: another function
    other = UNet(1, 8, 4, skip_scale=1.0 if skip_scale < 1 else 2**-0.5, **kw)
    other.load_state_dict(net.state_dict())
    x = torch.randn(2, 1, 8, 8)
    assert not torch.allclose(net(x, c), other(x, c), atol=1e-4)


def test_skip_scale_is_validated_and_reaches_the_unet():
    from ipm.config import ConfigError
    from ipm.nets.build import denoiser_body
    from ipm.nets.config import UNetConfig

    with pytest.raises(ConfigError, match="skip_scale"):
        UNetConfig(skip_scale=0.0)
    cfg = UNetConfig(width=4, channel_mult=(1, 2), num_blocks=1, attention=(), skip_scale=1.0)
    net = denoiser_body(cfg, (1, 8, 8))
    assert {m.skip_scale for m in net.modules() if hasattr(m, "skip_scale")} == {1.0}

"""The EDM U-Net (:mod:`ipm.nets.unet`)."""

import pytest
import torch
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

"""Networks built from configs on flat particles (:mod:`ipm.nets.build`)."""

import math

import pytest
import torch

from ipm.config import ConfigError
from ipm.nets.build import FlatImage, denoiser_body, discriminator_net, generator_net
from ipm.nets.config import DCGANConfig, MLPConfig, UNetConfig


def test_builders_on_flat_particles():
    shape = (1, 32, 32)
    g = generator_net(DCGANConfig(width=8, batch_norm=True, activation="relu"), 16, shape)
    x = g(torch.randn(5, 16))
    assert x.shape == (5, 1024)
    d = discriminator_net(DCGANConfig(width=8), shape, time_embedding=16)
    assert d(x, 0.3).shape == (5, 1)
    body = denoiser_body(
        UNetConfig(width=8, channel_mult=(1, 2), num_blocks=1, embedding=16), shape
    )
    assert body(x, torch.zeros(5)).shape == (5, 1024)
    # an MLP generator on images ends with tanh
    gm = generator_net(MLPConfig(width=8, depth=1), 4, shape)
    assert gm(100 * torch.randn(3, 4)).abs().max() <= 1
    with pytest.raises(ValueError, match=r"flat images of shape \(N, 1024\)"):
        d(torch.randn(2, 1000), 0.1)
    with pytest.raises(ConfigError, match="model.generator.kind.*needs image data"):
        generator_net(DCGANConfig(), 16, (2,), key="model.generator")
    assert isinstance(g, FlatImage) and math.prod(shape) == 1024


def test_diffusers_unet_body_reads_and_writes_flat_images_and_names_bad_keys():
    pytest.importorskip("diffusers")
    from ipm.nets.config import DiffusersUNetConfig

    cfg = DiffusersUNetConfig(width=8, channel_mult=(1, 2), num_blocks=1, attention=(8,))
    body = denoiser_body(cfg, (1, 16, 16))
    assert body(torch.randn(2, 256), torch.zeros(2)).shape == (2, 256)
    with pytest.raises(ConfigError, match="channel_mult"):
        DiffusersUNetConfig(width=12, channel_mult=(1, 2), groups=8)
    with pytest.raises(ConfigError, match="kind"):
        denoiser_body(cfg, (4,))

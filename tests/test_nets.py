"""Image networks, embeddings, time modulation and initialisation (issue 5)."""

import math

import pytest
import torch
from torch import nn

from ipm.config import ConfigError
from ipm.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    PositionalEmbedding,
    ResNetDiscriminator,
    ResNetGenerator,
    SelfAttention,
    TimeAffine,
    UNet,
    init_weights,
)
from ipm.nets.build import FlatImage, denoiser_body, discriminator_net, generator_net
from ipm.nets.config import DCGANConfig, MLPConfig, UNetConfig


@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_dcgan_shapes_and_tanh(size, channels):
    g = DCGANGenerator(16, channels, size, width=8)
    x = g(torch.randn(3, 16) * 100)  # large latents: tanh keeps the output in [−1, 1]
    assert x.shape == (3, channels, size, size) and x.abs().max() <= 1
    d = DCGANDiscriminator(channels, size, width=8)
    assert d(x).shape == (3, 1)
    with pytest.raises(ValueError, match="not time-conditioned"):
        d(x, 0.5)


@pytest.mark.parametrize("cls", [DCGANDiscriminator, ResNetDiscriminator])
def test_time_conditioned_discriminator(cls):
    d = cls(1, 32, 8, time_embedding=16)
    x = torch.randn(4, 1, 32, 32)
    # the modulation starts as the identity: f(x, t) does not depend on t at initialisation
    assert torch.allclose(d(x, 0.1), d(x, 0.9), atol=1e-6)
    with torch.no_grad():
        for m in d.modules():
            if isinstance(m, TimeAffine):
                m.mlp[-1].weight.normal_(0, 0.5)
    assert not torch.allclose(d(x, 0.1), d(x, 0.9), atol=1e-4)
    t = torch.rand(4)  # one time per sample = evaluating each sample at its own time
    per_sample = torch.cat([d(x[i : i + 1], float(t[i])) for i in range(4)])
    assert torch.allclose(d(x, t), per_sample, atol=1e-5)
    with pytest.raises(ValueError, match="pass a time"):
        d(x)
    with pytest.raises(ValueError, match="t: expected"):
        d(x, torch.rand(3))


def test_time_affine_formula():
    m = TimeAffine(4, 3)
    with torch.no_grad():
        m.mlp[-1].bias.copy_(torch.tensor([1.0, 2.0, 3.0, 0.5, -1.0, 0.0]))
    h, e = torch.randn(2, 3, 5, 5), torch.randn(2, 4)
    gamma = torch.tensor([1.0, 2.0, 3.0])[None, :, None, None]
    beta = torch.tensor([0.5, -1.0, 0.0])[None, :, None, None]
    assert torch.allclose(m(h, e), h * (1 + gamma) + beta)


def test_resnet_shapes_and_attention_identity_at_init():
    g = ResNetGenerator(16, 3, 64, width=8, attention=32)
    x = g(torch.randn(2, 16))
    assert x.shape == (2, 3, 64, 64) and x.abs().max() <= 1
    assert any(isinstance(m, SelfAttention) for m in g.modules())
    d = ResNetDiscriminator(3, 64, 8, attention=32)
    assert d(x).shape == (2, 1)
    a = SelfAttention(16)
    h = torch.randn(2, 16, 8, 8)
    assert torch.equal(a(h), h)  # γ = 0
    with torch.no_grad():
        a.gamma.fill_(1.0)
    assert not torch.allclose(a(h), h)


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


def test_positional_embedding_formula():
    e = PositionalEmbedding(8, max_positions=100)(torch.tensor([0.0, 2.0]))
    k = torch.arange(4) / 4
    freqs = (1 / 100) ** k
    want = torch.cat([(2 * freqs).cos(), (2 * freqs).sin()])
    assert torch.allclose(e[1], want) and torch.allclose(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))


def test_init_options():
    net = nn.Sequential(nn.Linear(64, 16), nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
    init_weights(net, "orthogonal", 1.41)
    w = net[0].weight
    assert torch.allclose(w @ w.T, 1.41**2 * torch.eye(16), atol=1e-5)
    assert torch.all(net[0].bias == 0) and torch.all(net[2].weight == 1)
    init_weights(net, "normal", 0.02)
    assert abs(float(net[0].weight.detach().std()) - 0.02) < 0.004
    # zero-initialised time modulations are kept as built
    m = TimeAffine(4, 3)
    init_weights(m, "normal", 1.0)
    assert torch.all(m.mlp[-1].weight == 0)
    with pytest.raises(ValueError, match="init"):
        init_weights(net, "xavier")


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

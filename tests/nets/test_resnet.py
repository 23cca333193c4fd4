"""The SAGAN-style ResNet (:mod:`ipm.nets.resnet`)."""

import torch

from ipm.nets import (
    ResNetDiscriminator,
    ResNetGenerator,
    SelfAttention,
)


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

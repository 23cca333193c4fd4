"""DCGAN generators and (time-conditioned) discriminators (:mod:`ipm.nets.dcgan`)."""

import pytest
import torch

from ipm.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    ResNetDiscriminator,
    TimeAffine,
)


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

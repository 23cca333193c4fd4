"""Time-affine modulation (App. D.2, :mod:`ipm.nets.modulation`)."""

import torch

from ipm.nets import (
    TimeAffine,
)


def test_time_affine_formula():
    m = TimeAffine(4, 3)
    with torch.no_grad():
        m.mlp[-1].bias.copy_(torch.tensor([1.0, 2.0, 3.0, 0.5, -1.0, 0.0]))
    h, e = torch.randn(2, 3, 5, 5), torch.randn(2, 4)
    gamma = torch.tensor([1.0, 2.0, 3.0])[None, :, None, None]
    beta = torch.tensor([0.5, -1.0, 0.0])[None, :, None, None]
    assert torch.allclose(m(h, e), h * (1 + gamma) + beta)

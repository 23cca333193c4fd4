"""Initialisation options (:mod:`ipm.nets.init`)."""

import pytest
import torch
from torch import nn

from ipm.nets import (
    TimeAffine,
    init_weights,
)


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

"""The NTK benchmark's baseline computes the kernel it is compared on."""

import torch

from benchmarks.ntk import torch_func_recipe
from ipm.generators import MLP
from ipm.ntk import empirical_ntk


def test_the_torch_func_recipe_baseline_is_the_full_empirical_ntk():
    torch.manual_seed(0)
    net = MLP(5, 3, width=16, depth=2, activation_name="leaky_relu").double()
    z = torch.randn(6, 5, dtype=torch.float64)
    ref = empirical_ntk(net, z, method="structured")
    got = torch_func_recipe(net, z)
    assert got.shape == (6, 6, 3, 3)
    assert torch.allclose(got, ref, rtol=1e-12, atol=1e-12)

"""The linear kernel on learned features (:mod:`ipm.kernels.features`)."""

import torch

from tests.helpers import DT


def test_feature_kernel_is_the_gram_of_its_features_and_its_sums_match_autograd():
    """k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩; grad_sum and grad_witness equal autograd of the Gram
    sums, and the one-pass witness gradient equals the two-sum default."""
    from ipm.kernels import FeatureKernel, Kernel

    g = torch.Generator().manual_seed(0)
    w1, w2 = torch.randn(3, 5, generator=g, dtype=DT), torch.randn(5, generator=g, dtype=DT)

    def phi(x, t):
        return torch.tanh(x @ w1 + t * w2)

    k = FeatureKernel(phi).at(0.3)
    x, y = torch.randn(4, 3, generator=g, dtype=DT), torch.randn(6, 3, generator=g, dtype=DT)
    torch.testing.assert_close(k(x, y), phi(x, 0.3) @ phi(y, 0.3).T)
    v = torch.randn(6, 2, generator=g, dtype=DT)
    torch.testing.assert_close(k.matvec(x, y, v), k(x, y) @ v)
    xg = x.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(k(xg, y).mean(1).sum(), xg)
    torch.testing.assert_close(k.grad_sum(x, y), want)
    wit = k.grad_witness(x, y, x)
    torch.testing.assert_close(wit, Kernel.grad_witness(k, x, y, x))
    torch.testing.assert_close(wit, k.grad_sum(x, y) - k.grad_sum(x, x))
    # the data's mean embedding is cached per set and time, and recomputed after a change
    m1 = k.mean_embedding(y)
    assert k.mean_embedding(y) is m1 and k.at(0.7).mean_embedding(y) is not m1
    y.add_(1.0)
    torch.testing.assert_close(k.mean_embedding(y), phi(y, 0.3).mean(0))

"""The squared-MMD flow and MMD² estimators (Table 2, :mod:`ipm.flows.mmd`), learned feature
kernels included."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.flows import (
    SquaredMMD,
    linear_mmd2_unbiased,
    mmd2,
)
from ipm.kernels import IMQ, RBF, Laplace
from tests.helpers import DT


def autograd_field(h, x):
    xg = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(h(xg).sum(), xg)
    return g


@given(
    kern=st.sampled_from(["rbf", "imq", "laplace"]),
    bw=st.floats(0.3, 3.0),
    n=st.integers(2, 30),
    m=st.integers(2, 30),
    d=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_mmd_flow_is_gradient_of_witness(kern, bw, n, m, d, seed):
    g = torch.Generator().manual_seed(seed)
    k = {"rbf": RBF(bw), "imq": IMQ(bw), "laplace": Laplace(bw)}[kern]
    data = torch.randn(m, d, generator=g, dtype=DT) + 1.0
    rho = torch.randn(n, d, generator=g, dtype=DT)
    x = torch.randn(5, d, generator=g, dtype=DT)
    flow = SquaredMMD(k, data, chunk_size=3)
    ref = autograd_field(lambda xx: flow.witness(xx, rho), x)
    torch.testing.assert_close(flow.field(x, particles=rho), ref, rtol=1e-9, atol=1e-12)


@given(n=st.integers(2, 40), seed=st.integers(0, 1000), bw=st.floats(0.2, 5.0))
def test_mmd2_nonnegative_zero_on_equal_sets_and_permutation_invariant(n, seed, bw):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g, dtype=DT)
    y = torch.randn(n + 3, 2, generator=g, dtype=DT) + 0.5
    k = RBF(bw)
    assert mmd2(x, y, k) >= -1e-12
    assert abs(mmd2(x, x, k).item()) < 1e-12
    perm = torch.randperm(n, generator=g)
    torch.testing.assert_close(mmd2(x[perm], y, k), mmd2(x, y, k), rtol=1e-10, atol=1e-14)
    # unbiased estimator: the U-statistic with the diagonal terms removed
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m = y.shape[0]
    ref = (
        (kxx.sum() - kxx.trace()) / (n * (n - 1))
        + (kyy.sum() - kyy.trace()) / (m * (m - 1))
        - 2 * kxy.mean()
    )
    torch.testing.assert_close(mmd2(x, y, k, unbiased=True), ref, rtol=1e-10, atol=1e-14)


def test_squared_mmd_with_a_feature_kernel_moves_along_the_mean_feature_difference():
    """DMMD's flow: ∇h(x) = ∇⟨φ(x, t), μ_t(p) − μ_t(ρ)⟩, the kernel bound to the flow's time."""
    from ipm.kernels import FeatureKernel

    g = torch.Generator().manual_seed(3)
    w = torch.randn(2, 4, generator=g, dtype=DT)
    phi = lambda x, t: torch.sin(x @ w) * t  # noqa: E731
    data = torch.randn(50, 2, generator=g, dtype=DT) + 2
    x = torch.randn(8, 2, generator=g, dtype=DT)
    xg = x.clone().requires_grad_(True)
    direction = (phi(data, 0.5).mean(0) - phi(x, 0.5).mean(0)).detach()
    (want,) = torch.autograd.grad((phi(xg, 0.5) * direction).sum(), xg)
    torch.testing.assert_close(SquaredMMD(FeatureKernel(phi), data).field(x, 0.5), want)


@given(
    n=st.integers(2, 9),
    m=st.integers(2, 9),
    f=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_linear_mmd2_unbiased_matches_gram_formula(n, m, f, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = (
        torch.randn(3, n, f, generator=g, dtype=torch.float64),
        torch.randn(3, m, f, generator=g, dtype=torch.float64),
    )
    for i in range(3):
        kaa, kbb, kab = a[i] @ a[i].T, b[i] @ b[i].T, a[i] @ b[i].T
        want = (
            (kaa.sum() - kaa.trace()) / (n * (n - 1))
            + (kbb.sum() - kbb.trace()) / (m * (m - 1))
            - 2 * kab.mean()
        )
        assert torch.allclose(linear_mmd2_unbiased(a, b)[i], want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel", [RBF(1.0, normalized=False), Laplace(1.0)])
def test_mmd2_in_float32_far_from_the_origin_matches_float64_at_the_origin(kernel):
    # ‖x‖² + ‖y‖² − 2⟨x, y⟩ at an offset of 300 cancels norms of 9e4 in float32 (relative
    # errors 1.5e-3 for RBF and 1.6e-2 for Laplace without centring); the kernels centre the
    # pair first, so what remains is float32's rounding of the inputs themselves (ulp 3e-5).
    g = torch.Generator().manual_seed(0)
    x = torch.randn(500, 2, generator=g, dtype=torch.float64)
    y = 1.2 * torch.randn(400, 2, generator=g, dtype=torch.float64) + 0.5
    want = float(mmd2(x, y, kernel))
    got = float(mmd2((x + 300).float(), (y + 300).float(), kernel))
    assert abs(got - want) <= 1e-4 * want
    field = kernel.grad_sum((x + 300).float(), (y + 300).float()).double()
    ref = kernel.grad_sum(x, y)
    assert (field - ref).abs().max() <= 3e-4 * ref.abs().max()

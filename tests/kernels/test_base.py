"""Kernels (:mod:`ipm.kernels.base`): chunked sums against dense Gram matrices and autograd, the
paper's RBF normalisation, the identity kernel, argument errors."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.kernels import IMQ, RBF, Identity, Laplace

KERNELS = {
    "rbf": lambda s: RBF(s),
    "rbf_unnormalized": lambda s: RBF(s, normalized=False),
    "imq": lambda s: IMQ(s),
    "laplace": lambda s: Laplace(s),
}


def dense_reference(name: str, s: float, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r2 = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    d = x.shape[1]
    if name == "rbf":
        return (s * math.sqrt(2 * math.pi)) ** (-d) * torch.exp(-r2 / (2 * s * s))
    if name == "rbf_unnormalized":
        return torch.exp(-r2 / (2 * s * s))
    if name == "imq":
        return (s * s + r2) ** -0.5
    return torch.exp(-r2.sqrt() / s)


@given(
    name=st.sampled_from(sorted(KERNELS)),
    n=st.integers(1, 40),
    m=st.integers(1, 40),
    d=st.integers(1, 4),
    bw=st.floats(0.3, 3.0),
    chunk=st.integers(1, 50),
    seed=st.integers(0, 1000),
)
def test_chunked_sums_match_dense_and_autograd(name, n, m, d, bw, chunk, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, dtype=torch.float64, generator=g)
    y = torch.randn(m, d, dtype=torch.float64, generator=g)
    v = torch.randn(m, 3, dtype=torch.float64, generator=g)
    w = torch.rand(m, dtype=torch.float64, generator=g)
    k = KERNELS[name](bw)
    ref = dense_reference(name, bw, x, y)
    torch.testing.assert_close(k(x, y), ref, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(k.matvec(x, y, v, chunk_size=chunk), ref @ v, rtol=1e-10, atol=1e-12)
    xg = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad((dense_reference(name, bw, xg, y) @ w).sum(), xg)
    got = k.grad_sum(x, y, w, chunk_size=chunk)
    # the Laplace gradient is undefined where x = y; random points never coincide
    torch.testing.assert_close(got, grad, rtol=1e-9, atol=1e-11)


def test_rbf_paper_normalisation_integrates_to_one():
    # k_RBF^σ(x, ·) is the N(x, σ² I) density (errata): check in 1-D and 2-D by quadrature.
    for d, sigma in ((1, 0.7), (2, 1.3)):
        grid = torch.linspace(-12, 12, 601, dtype=torch.float64)
        h = (grid[1] - grid[0]).item()
        pts = torch.cartesian_prod(*[grid] * d).reshape(-1, d)
        vals = RBF(sigma)(torch.zeros(1, d, dtype=torch.float64), pts)
        assert abs(vals.sum().item() * h**d - 1.0) < 1e-6


def test_identity_kernel_is_delta_on_particles():
    x = torch.randn(5, 2, dtype=torch.float64)
    v = torch.randn(5, 2, dtype=torch.float64)
    k = Identity()
    torch.testing.assert_close(k(x, x), torch.eye(5, dtype=torch.float64))
    assert k.matvec(x, x, v) is v
    torch.testing.assert_close(k.matvec(x, x.clone(), v), v)
    assert torch.count_nonzero(k.grad_sum(x, x)) == 0


def test_kernel_bad_inputs():
    with pytest.raises(ValueError, match="sigma: expected a finite number > 0"):
        RBF(0.0)
    with pytest.raises(ValueError, match="sigma"):
        Laplace(-1.0)
    with pytest.raises(ValueError, match="c: expected"):
        IMQ(c=float("nan"))
    k = RBF(1.0)
    with pytest.raises(ValueError, match="y: expected particles of dimension D=2"):
        k(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match=r"x: expected a batch of particles of shape \(N, D\)"):
        k(torch.zeros(3), torch.zeros(3, 3))
    with pytest.raises(TypeError, match="y: expected dtype torch.float32"):
        k(torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="y: expected finite"):
        k.grad_sum(torch.zeros(3, 2), torch.tensor([[float("inf"), 0.0]]))
    with pytest.raises(ValueError, match=r"w: expected shape \(3,\)"):
        k.grad_sum(torch.zeros(3, 2), torch.zeros(3, 2), torch.ones(4))


def test_mismatched_devices_name_the_argument():
    from ipm._checks import check_same_device_dtype

    cpu = torch.zeros(3, 2)
    meta = torch.empty(3, 2, device="meta")
    with pytest.raises(ValueError, match="y: expected device cpu .the device of x., got meta"):
        check_same_device_dtype([("x", cpu), ("y", meta)])
    with pytest.raises(
        TypeError, match="y: expected dtype torch.float32 .the dtype of x., got torch.float64"
    ):
        check_same_device_dtype([("x", cpu), ("y", cpu.double())])

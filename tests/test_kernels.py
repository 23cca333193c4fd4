import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.kernels import IMQ, RBF, Identity, Laplace, auto_chunk_size

DT = torch.float64

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


def test_auto_chunk_bounds_block():
    rows = auto_chunk_size(100_000, 100_000, 4)
    assert 1 <= rows <= 100_000 and rows * 100_000 * 4 <= 8 * 2**20


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

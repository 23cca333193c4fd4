"""The NTK's spectrum through the operator (:mod:`ipm.ntk.spectral`) and the measures built on it
(:mod:`ipm.ntk.measures`), against the materialised Gram in float64."""

import copy

import pytest
import torch

from ipm.generators import MLP
from ipm.nets.dcgan import DCGANGenerator
from ipm.ntk import (
    effective_rank,
    empirical_ntk,
    followable_share,
    kernel_alignment,
    ntk_eigs,
    ntk_frobenius_estimate,
    ntk_trace_estimate,
    participation_ratio,
)
from tests.helpers import DT


def _gram(model, z):
    k = empirical_ntk(model, z)
    n, _, d, _ = k.shape
    return k.permute(0, 2, 1, 3).reshape(n * d, n * d)


def _family(name: str, size: int = 4096):
    """A generator of the family and latents whose Gram has N·D = ``size``."""
    torch.manual_seed(0)
    if name == "mlp":  # D = 16
        return MLP(8, 16, width=32, depth=2).to(DT), torch.randn(size // 16, 8, dtype=DT)
    # a DCGAN generator for 1×16×16 images: D = 256
    g = DCGANGenerator(8, 1, 16, width=8, batch_norm=False).to(DT)
    return g, torch.randn(size // 256, 8, dtype=DT)


def _sin_largest_angle(a, b):
    """sin of the largest principal angle between the column spaces of orthonormal a and b."""
    return float(torch.linalg.matrix_norm(a - b @ (b.T @ a), ord=2))


@pytest.mark.parametrize(
    "size",
    [1024, pytest.param(4096, marks=pytest.mark.slow)],  # eigh of 4,096: 15 s here
)
@pytest.mark.parametrize("family", ["mlp", "dcgan"])
def test_iterative_eigenpairs_equal_dense_eigh_to_1e8_and_their_eigenspace_to_1e6(family, size):
    model, z = _family(family, size)
    lam, vec = torch.linalg.eigh(_gram(model, z))
    lam, vec = lam.flip(0), vec.flip(1)
    assert lam.numel() == size
    # k at the widest relative gap among 4..16, so that the top-k eigenspace is well defined
    gaps = (lam[3:16] - lam[4:17]) / lam[0]
    k = int(gaps.argmax()) + 4
    out = ntk_eigs(model, z, k, method="iterative", tol=1e-12)
    assert out.converged and out.products > 0
    assert out.values.shape == (k,) and out.vectors.shape == (k, len(z), size // len(z))
    assert torch.all(out.values[:-1] >= out.values[1:])
    assert float(((out.values - lam[:k]).abs() / lam[:k]).max()) <= 1e-8
    u = out.vectors.reshape(k, -1).T
    assert float((u.T @ u - torch.eye(k, dtype=DT)).abs().max()) <= 1e-10  # orthonormal
    assert _sin_largest_angle(u, vec[:, :k]) <= 1e-6
    if size <= 1024:  # the dense path is eigh itself
        dense = ntk_eigs(model, z, k, method="dense")
        assert torch.allclose(dense.values, lam[:k], rtol=1e-12, atol=0)
        assert _sin_largest_angle(dense.vectors.reshape(k, -1).T, vec[:, :k]) <= 1e-10


class Twin(torch.nn.Module):
    """Two equal copies of a generator side by side: the Gram is block-diagonal with two equal
    blocks, so every eigenvalue has multiplicity two."""

    def __init__(self, net):
        super().__init__()
        self.a, self.b = net, copy.deepcopy(net)

    def forward(self, z):
        return torch.cat([self.a(z), self.b(z)], 1)


def test_a_block_of_two_resolves_eigenvalues_of_multiplicity_two():
    model, z = _family("mlp", 512)
    twin = Twin(model)
    lam = torch.linalg.eigvalsh(_gram(model, z)).flip(0)
    out = ntk_eigs(twin, z, 6, method="iterative", block=2, tol=1e-11)
    assert out.converged
    want = lam[:3].repeat_interleave(2)
    assert float(((out.values - want).abs() / want).max()) <= 1e-8
    # one vector's Krylov space sees each double eigenvalue once (up to rounding)
    single = ntk_eigs(twin, z, 2, method="iterative", block=1, tol=1e-11)
    assert float((single.values[1] - lam[0]).abs() / lam[0]) > 1e-3


def test_a_loose_tolerance_stops_early_and_a_short_budget_says_unconverged():
    model, z = _family("mlp", 1024)
    tight = ntk_eigs(model, z, 6, method="iterative", tol=1e-12)
    loose = ntk_eigs(model, z, 6, method="iterative", tol=1e-3)
    assert loose.products < tight.products and float(loose.residuals.max()) <= 1e-3
    short = ntk_eigs(model, z, 6, method="iterative", tol=1e-14, max_restarts=0)
    assert not short.converged and short.restarts == 0


def test_hutchinson_trace_and_frobenius_are_within_their_error_bars():
    model, z = _family("mlp", 512)
    g = _gram(model, z)
    for estimate, exact in (
        (ntk_trace_estimate(model, z, samples=64, seed=1), float(g.trace())),
        (ntk_frobenius_estimate(model, z, samples=64, seed=1), float(g.norm())),
    ):
        assert estimate.samples == 64 and 0 < estimate.stderr < 0.2 * exact
        assert abs(estimate.value - exact) <= 4 * estimate.stderr
    # deflated by the top eigenpairs, only the rest of the spectrum is sampled: within its
    # (smaller) error bars
    top = ntk_eigs(model, z, 8, method="dense")
    for fn, exact in (
        (ntk_trace_estimate, float(g.trace())),
        (ntk_frobenius_estimate, float(g.norm())),
    ):
        plain = fn(model, z, samples=64, seed=1)
        deflated = fn(model, z, samples=64, seed=1, deflate=top)
        assert abs(deflated.value - exact) <= 4 * deflated.stderr
        assert deflated.stderr < plain.stderr
    with pytest.raises(ValueError, match=r"deflate: eigenvectors of shape \(4, 16\)"):
        ntk_trace_estimate(model, z[:8], deflate=ntk_eigs(model, z[:4], 2))
    few = ntk_trace_estimate(model, z, samples=4, seed=1)
    many = ntk_trace_estimate(model, z, samples=64, seed=1)
    assert many.stderr < few.stderr


def test_alignment_share_and_ranks_match_their_definitions_on_the_dense_kernel():
    model, z = _family("mlp", 384)
    n = z.shape[0]
    g = _gram(model, z)
    full = ntk_eigs(model, z, n * 16, method="dense")
    # alignment: 1 with itself up to scale; the eigenpair form equals the dense centred form
    assert kernel_alignment(g, 3.0 * g, n_particles=n) == pytest.approx(1.0, abs=1e-12)
    other = MLP(8, 16, width=32, depth=2).to(DT)
    g2 = _gram(other, z)
    full2 = ntk_eigs(other, z, n * 16, method="dense")
    h = torch.kron(torch.eye(n, dtype=DT) - 1.0 / n, torch.eye(16, dtype=DT))
    ca, cb = h @ g @ h, h @ g2 @ h
    want = float((ca * cb).sum() / (ca.norm() * cb.norm()))
    assert 0 < want < 0.999
    assert kernel_alignment(g, g2, n_particles=n) == pytest.approx(want, abs=1e-12)
    assert kernel_alignment(full, full2) == pytest.approx(want, abs=1e-10)
    assert kernel_alignment(full, g2, n_particles=n) == pytest.approx(want, abs=1e-10)
    plain = float((g * g2).sum() / (g.norm() * g2.norm()))
    assert abs(plain - want) > 1e-3  # the centring matters here
    assert kernel_alignment(g, g2, n_particles=n, centred=False) == pytest.approx(plain, abs=1e-12)
    assert kernel_alignment(full, full2, centred=False) == pytest.approx(plain, abs=1e-10)
    # followable share: an eigenvector is all in, the rest of the spectrum all out
    top = ntk_eigs(model, z, 5, method="dense")
    assert followable_share(top, full.vectors[2]) == pytest.approx(1.0, abs=1e-12)
    assert followable_share(top, full.vectors[7] + full.vectors[40]) == pytest.approx(0, abs=1e-12)
    mix = full.vectors[0] + full.vectors[10]
    assert followable_share(top, mix) == pytest.approx(0.5, abs=1e-12)
    # effective rank: k for a flat spectrum, 1 for one direction; participation ratio exact
    assert effective_rank(torch.ones(7, dtype=DT)) == pytest.approx(7.0)
    assert effective_rank(torch.tensor([2.0, 0, 0], dtype=DT)) == pytest.approx(1.0)
    lam = full.values.clamp_min(0)
    pr = participation_ratio(float(g.trace()), float(g.norm()))
    assert pr == pytest.approx(float(lam.sum() ** 2 / lam.pow(2).sum()), rel=1e-10)
    assert 1 <= effective_rank(full) <= n * 16


def test_bad_arguments_are_named():
    model, z = _family("mlp", 64)
    with pytest.raises(ValueError, match=r"k: expected an integer in \[1, N·D = 64\]"):
        ntk_eigs(model, z, 65)
    with pytest.raises(ValueError, match="method: expected 'auto'"):
        ntk_eigs(model, z, 2, method="lanczos")
    with pytest.raises(ValueError, match=r"block: expected an integer in \[1, N·D = 64\], got 0"):
        ntk_eigs(model, z, 5, method="iterative", block=0)
    with pytest.raises(ValueError, match=r"basis: expected an integer in \(5, N·D = 64\]"):
        ntk_eigs(model, z, 5, method="iterative", basis=5)
    with pytest.raises(ValueError, match=r"keep: expected an integer in \[k = 5, basis = 20\)"):
        ntk_eigs(model, z, 5, method="iterative", keep=20)
    with pytest.raises(ValueError, match="samples: expected an integer >= 2"):
        ntk_trace_estimate(model, z, samples=1)
    top = ntk_eigs(model, z, 3)
    with pytest.raises(ValueError, match=r"field: expected shape \(4, 16\)"):
        followable_share(top, torch.zeros(5, 16, dtype=DT))
    with pytest.raises(ValueError, match="n_particles: needed"):
        kernel_alignment(torch.eye(64, dtype=DT), torch.eye(64, dtype=DT))

"""The empirical NTK (Eq. 12, :func:`ipm.ntk.empirical_ntk`): every method against explicit
Jacobians, symmetry and positive semi-definiteness, argument errors."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.generators import MLP
from ipm.ntk import (
    NTKMethod,
    StructuredUnsupported,
    empirical_ntk,
    ntk_diagonal,
    ntk_operator,
    ntk_trace,
)
from tests.helpers import DT
from tests.ntk.reference import make_conv, reference_ntk, rel_err


@given(
    width=st.integers(2, 12),
    depth=st.integers(1, 3),
    d_out=st.integers(1, 4),
    n1=st.integers(1, 6),
    n2=st.integers(1, 6),
    act=st.sampled_from(["leaky_relu", "tanh", "relu", "gelu", "sigmoid"]),
    param=st.sampled_from(["standard", "ntk"]),
    seed=st.integers(0, 10_000),
)
def test_every_method_matches_explicit_jacobians(width, depth, d_out, n1, n2, act, param, seed):
    torch.manual_seed(seed)
    m = MLP(3, d_out, width=width, depth=depth, activation_name=act, parameterization=param).to(DT)
    z1, z2 = torch.randn(n1, 3, dtype=DT), torch.randn(n2, 3, dtype=DT)
    ref = reference_ntk(m, z1, z2)
    for method in ("jacobian_contraction", "ntk_vector_products", "structured", "auto"):
        k = empirical_ntk(
            m, z1, z2, method=method, chunk_size=2 if method != "structured" else None
        )
        assert k.shape == (n1, n2, d_out, d_out)
        assert rel_err(k, ref) <= 1e-10, method
        tr = ntk_trace(m, z1, z2, method=method)
        assert rel_err(tr, ref.diagonal(dim1=-2, dim2=-1).sum(-1)) <= 1e-10, method
        dg = ntk_diagonal(m, z1, method=method)
        ref_diag = reference_ntk(m, z1, z1)[torch.arange(n1), torch.arange(n1)]
        assert rel_err(dg, ref_diag) <= 1e-10, method


@pytest.mark.parametrize("method", ["jacobian_contraction", "ntk_vector_products", "auto"])
def test_generic_methods_on_conv_with_eval_batchnorm(method):
    m = make_conv()
    z1, z2 = torch.randn(3, 3, dtype=DT), torch.randn(2, 3, dtype=DT)
    ref = reference_ntk(m, z1, z2)
    assert ref.shape == (3, 2, 16, 16)
    assert rel_err(empirical_ntk(m, z1, z2, method=method, chunk_size=2), ref) <= 1e-10
    with pytest.raises(StructuredUnsupported, match="expected an nn.Sequential"):
        empirical_ntk(m, z1, method="structured")


@given(n=st.integers(1, 12), seed=st.integers(0, 1000), sym_blocks=st.integers(1, 4))
def test_ntk_is_symmetric_psd(n, seed, sym_blocks):
    torch.manual_seed(seed)
    m = MLP(4, 3, width=16, depth=2, parameterization="ntk").to(DT)
    z = torch.randn(n, 4, dtype=DT)
    # a small block budget forces the blocked, mirrored symmetric path
    k = empirical_ntk(m, z, block_bytes=sym_blocks * 3 * n * 3 * 8)
    mat = k.permute(0, 2, 1, 3).reshape(3 * n, 3 * n)
    torch.testing.assert_close(mat, mat.T, rtol=1e-12, atol=1e-12)
    eig = torch.linalg.eigvalsh(mat)
    assert eig.min() >= -1e-10 * eig.abs().max()
    torch.testing.assert_close(k, reference_ntk(m, z, z), rtol=1e-10, atol=1e-10)


def test_params_override_evaluates_at_given_parameters():
    m = MLP(2, 2, width=8, depth=1).to(DT)
    z = torch.randn(3, 2, dtype=DT)
    theta0 = {k: v.detach().clone() for k, v in m.named_parameters()}
    k0 = empirical_ntk(m, z)
    with torch.no_grad():
        for p in m.parameters():
            p.add_(1.0)
    for method in NTKMethod:
        torch.testing.assert_close(
            empirical_ntk(m, z, params=theta0, method=method), k0, rtol=1e-10, atol=1e-12
        )
    assert (empirical_ntk(m, z) - k0).abs().max() > 1e-3


def test_float32_supported():
    m = MLP(3, 2, width=8, depth=2)
    z = torch.randn(4, 3)
    k = empirical_ntk(m, z)
    assert k.dtype == torch.float32
    torch.testing.assert_close(
        k, empirical_ntk(m, z, method="jacobian_contraction"), rtol=1e-4, atol=1e-5
    )


def test_ntk_bad_inputs():
    m = MLP(3, 2, width=8, depth=1)
    with pytest.raises(TypeError, match="z1: expected dtype torch.float32"):
        empirical_ntk(m, torch.zeros(2, 3, dtype=DT))
    with pytest.raises(ValueError, match="z1: expected finite"):
        empirical_ntk(m, torch.full((2, 3), float("nan")))
    with pytest.raises(ValueError, match="method: expected one of"):
        empirical_ntk(m, torch.zeros(2, 3), method="magic")
    with pytest.raises(ValueError, match="z2: expected per-sample shape"):
        empirical_ntk(m, torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"v: expected shape \(2, D\)"):
        ntk_operator(m, torch.zeros(2, 3), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="v: expected D=2 columns"):
        ntk_operator(m, torch.zeros(2, 3), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="params: keys must match"):
        empirical_ntk(m, torch.zeros(2, 3), params={"x": torch.zeros(1)})


@pytest.mark.parametrize("same", [True, False])
def test_jacobian_contraction_computes_once_or_recomputes_by_chunks_alike(same, monkeypatch):
    """Within the Jacobian cache every per-sample Jacobian is computed once, all of a set in one
    call (the plain vmap(jacrev) recipe), and contracted once; beyond it (cache 0) the second set's chunks are recomputed per chunk of the first.
    Both give the explicit kernel, and the cached regime computes each Jacobian once."""
    import ipm.ntk._functional as fn
    from ipm.ntk._common import buffer_dict, per_sample_fn
    from ipm.ntk.methods import NTKKind

    torch.manual_seed(0)
    m = MLP(3, 2, width=8, depth=2).to(DT)
    z1, z2 = torch.randn(7, 3, dtype=DT), None if same else torch.randn(5, 3, dtype=DT)
    ref = reference_ntk(m, z1, z1 if same else z2)
    f, p = per_sample_fn(m, buffer_dict(m)), {k: t.detach() for k, t in m.named_parameters()}
    counted, plain = [], fn._jacobians
    monkeypatch.setattr(fn, "_jacobians", lambda f, p, z: counted.append(len(z)) or plain(f, p, z))
    once = fn.jacobian_contraction(f, p, z1, z2, NTKKind.FULL, chunk=3)
    assert counted == ([7] if same else [7, 5])  # every particle's Jacobian once, in one call
    counted.clear()
    again = fn.jacobian_contraction(f, p, z1, z2, NTKKind.FULL, chunk=3, cache_bytes=0)
    assert sum(counted) == 7 + 3 * (7 if same else 5)  # the columns once per row chunk
    assert rel_err(once, ref) <= 1e-12 and rel_err(again, ref) <= 1e-12

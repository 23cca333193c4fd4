"""The matrix-free NTK operator (Eq. 13–14, :func:`ipm.ntk.ntk_operator`) against the materialised
kernel, structured and generic paths."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from ipm.generators import MLP
from ipm.ntk import (
    StructuredUnsupported,
    ntk_operator,
)
from ipm.ntk._structured import (
    structured_operator,
    supports_structured,
    supports_structured_operator,
)
from tests.helpers import DT
from tests.ntk.reference import make_conv, reference_ntk, rel_err


def _operator_in_child(queue):
    torch.manual_seed(0)
    model = MLP(3, 2, width=10, depth=2).to(DT)
    z, v = torch.randn(6, 3, dtype=DT), torch.randn(6, 2, dtype=DT)
    params = {k: t.detach() for k, t in model.named_parameters()}
    queue.put(structured_operator(model, params, z, v, None, False, blocks=2).sum().item())


def make_plain_conv(kind: str, seed: int) -> nn.Sequential:
    """Conv generators with no BatchNorm: the structured operator's domain."""
    torch.manual_seed(seed)
    if kind == "transposed":  # DCGAN-like, with output padding and a bias-free layer
        m = nn.Sequential(
            nn.Linear(3, 6 * 2 * 2),
            nn.Unflatten(1, (6, 2, 2)),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(6, 4, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 2, 3, 2, 1, output_padding=1, bias=False),
            nn.Tanh(),
        )
    elif kind == "strided":  # latents enter as images; dilation, groups, Flatten, Linear head
        m = nn.Sequential(
            nn.Unflatten(1, (2, 5, 5)),
            nn.Conv2d(2, 4, 3, 1, 2, dilation=2, groups=2),
            nn.Tanh(),
            nn.Conv2d(4, 3, 3, 2, 1),
            nn.Flatten(),
            nn.Linear(27, 4),
        )
    else:  # 1-d
        m = nn.Sequential(
            nn.Unflatten(1, (1, 6)),
            nn.Conv1d(1, 3, 3, padding=1),
            nn.SiLU(),
            nn.ConvTranspose1d(3, 2, 2, 2),
        )
    return m.to(DT)


LATENT = {"transposed": 3, "strided": 50, "1d": 6}


@given(
    n=st.integers(1, 8),
    m_out=st.integers(1, 5),
    mean=st.booleans(),
    chunk=st.integers(1, 4),
    seed=st.integers(0, 1000),
    blocks=st.integers(1, 4),
    act=st.sampled_from(["leaky_relu", "tanh", "gelu"]),  # gelu: the autograd derivative
)
def test_operator_equals_materialised_kernel_contraction(n, m_out, mean, chunk, seed, blocks, act):
    torch.manual_seed(seed)
    model = MLP(3, 2, width=10, depth=2, activation_name=act).to(DT)
    z, z_out = torch.randn(n, 3, dtype=DT), torch.randn(m_out, 3, dtype=DT)
    v = torch.randn(n, 2, dtype=DT)
    ref = torch.einsum("ijde,je->id", reference_ntk(model, z_out, z), v) / (n if mean else 1)
    for structured in (True, False):
        got = ntk_operator(model, z, v, z_out, mean=mean, structured=structured, chunk_size=chunk)
        assert rel_err(got, ref) <= 1e-10
    # the block-parallel sweep (particles split over worker threads), forced on small inputs
    params = {k: t.detach() for k, t in model.named_parameters()}
    for zo in (None, z_out):
        want = ref if zo is not None else ntk_operator(model, z, v, mean=mean, structured=False)
        got = structured_operator(model, params, z, v, zo, mean, blocks=blocks)
        assert rel_err(got, want) <= 1e-10


def test_block_parallel_operator_works_in_a_forked_child():
    # The parent's worker threads are not inherited by a forked child: the child must make its
    # own pool rather than wait forever on the parent's.
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("no fork start method on this platform")
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    _operator_in_child(queue)  # the parent's pool now exists
    want = queue.get(timeout=10)
    proc = ctx.Process(target=_operator_in_child, args=(queue,))
    proc.start()
    proc.join(timeout=60)
    if proc.is_alive():
        proc.kill()
        pytest.fail("the operator hung in a forked child")
    assert proc.exitcode == 0
    assert queue.get(timeout=10) == pytest.approx(want, rel=1e-12)


@given(
    kind=st.sampled_from(["transposed", "strided", "1d"]),
    n=st.integers(1, 6),
    m_out=st.integers(1, 4),
    mean=st.booleans(),
    blocks=st.integers(1, 3),
    seed=st.integers(0, 1000),
)
def test_structured_operator_on_conv_models(kind, n, m_out, mean, blocks, seed):
    # Convolutions (transposed or not, strides, padding, output padding, dilation, groups, no
    # bias), reshapes and activations: the explicit sweeps against the materialised kernel.
    model = make_plain_conv(kind, seed)
    assert supports_structured_operator(model) and not supports_structured(model)
    d_in = LATENT[kind]
    z, z_out = torch.randn(n, d_in, dtype=DT), torch.randn(m_out, d_in, dtype=DT)
    d = model(z[:1]).reshape(1, -1).shape[1]
    v = torch.randn(n, d, dtype=DT)
    params = {k: t.detach() for k, t in model.named_parameters()}
    for zo in (None, z_out):
        zz = z if zo is None else zo
        ref = torch.einsum("ijde,je->id", reference_ntk(model, zz, z), v) / (n if mean else 1)
        got = structured_operator(model, params, z, v, zo, mean, blocks=blocks)
        assert got.shape == ref.shape
        assert rel_err(got, ref) <= 1e-10
    # ntk_operator dispatches to the same path; v may come in the output's own shape
    out_shape = model(z[:1]).shape[1:]
    got = ntk_operator(model, z, v.reshape(n, *out_shape), mean=mean)
    want = ntk_operator(model, z, v, mean=mean, structured=False)
    assert rel_err(got, want) <= 1e-10


def test_structured_operator_leaves_unsupported_layers_to_torch_func():
    assert not supports_structured_operator(make_conv())  # BatchNorm: generic path
    reflect = nn.Sequential(
        nn.Unflatten(1, (1, 4)), nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect")
    )
    assert not supports_structured_operator(reflect)
    with pytest.raises(StructuredUnsupported, match="BatchNorm2d"):
        structured_operator(
            make_conv().net,
            {},
            torch.zeros(1, 8, 2, 2, dtype=DT),
            torch.zeros(1, 64, dtype=DT),
            None,
            False,
        )


def test_operator_falls_back_when_a_linear_layer_gets_images():
    # nn.Linear on the channel axis of an image batch: structurally covered, but not (N, features)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Unflatten(1, (2, 3, 4)), nn.Conv2d(2, 2, 3, padding=1), nn.Tanh(), nn.Linear(4, 3)
    ).to(DT)
    z, v = torch.randn(3, 24, dtype=DT), torch.randn(3, 18, dtype=DT)
    params = {k: t.detach() for k, t in model.named_parameters()}
    with pytest.raises(StructuredUnsupported, match="Linear layer '3' gets an input of shape"):
        structured_operator(model, params, z, v, None, False)
    ref = torch.einsum("ijde,je->id", reference_ntk(model, z, z), v)
    assert rel_err(ntk_operator(model, z, v), ref) <= 1e-10


def test_operator_on_conv_generator():
    m = make_conv()
    z = torch.randn(4, 3, dtype=DT)
    v = torch.randn(4, 1, 4, 4, dtype=DT)
    ref = torch.einsum("ijde,je->id", reference_ntk(m, z, z), v.reshape(4, -1))
    assert rel_err(ntk_operator(m, z, v, chunk_size=3), ref) <= 1e-10


def _awkward_generators() -> dict[str, nn.Module]:
    """Generators the structured sweeps once mishandled: in-place activations (which overwrote
    the pre-activations the sweeps keep) and Linear layers whose weight is computed."""
    from torch.nn.utils import parametrizations

    torch.manual_seed(0)

    def mlp(act, first=None):
        return nn.Sequential(first or nn.Linear(3, 8), act, nn.Linear(8, 2)).to(DT).eval()

    return {
        "ELU(inplace)": mlp(nn.ELU(inplace=True)),
        "SiLU(inplace)": mlp(nn.SiLU(inplace=True)),
        "Hardtanh(inplace)": mlp(nn.Hardtanh(-0.5, 0.5, inplace=True)),
        "weight_norm": mlp(nn.Tanh(), parametrizations.weight_norm(nn.Linear(3, 8))),
        "spectral_norm": mlp(nn.Tanh(), parametrizations.spectral_norm(nn.Linear(3, 8))),
    }


@pytest.mark.parametrize("name", list(_awkward_generators()))
def test_default_kernel_and_operator_equal_the_generic_path_on_awkward_layers(name):
    from ipm.ntk import empirical_ntk

    model = _awkward_generators()[name]
    z, v = torch.randn(7, 3, dtype=DT), torch.randn(7, 2, dtype=DT)
    generic = empirical_ntk(model, z, method="jacobian_contraction")  # (N, N, D, D)
    assert rel_err(empirical_ntk(model, z), generic) <= 1e-12
    want = torch.einsum("ijab,jb->ia", generic, v)
    assert rel_err(ntk_operator(model, z, v), want) <= 1e-12
    assert rel_err(ntk_operator(model, z, v, structured=False), want) <= 1e-12
    if "norm" in name:  # a computed weight is not the structured path's to take
        with pytest.raises(StructuredUnsupported, match="computes its weight"):
            empirical_ntk(model, z, method="structured")

"""A network in reduced precision: autocast inside, float32 outside, float64 untouched, the
same state-dict keys; a compiled network gives the eager outputs; a platform that cannot compile
is told so naming ``train.compile``."""

import pytest
import torch
from torch import nn

from ipm.nets import precision
from ipm.nets.precision import autocast, compile_network


def net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 64), nn.SiLU(), nn.Linear(64, 8))


def test_bf16_runs_inside_and_returns_float32_close_to_fp32():
    x = torch.randn(16, 8)
    plain, fast = net(), autocast(net(), "bf16")
    seen = []
    fast[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    with torch.no_grad():
        want, got = plain(x), fast(x)
    assert seen == [torch.bfloat16] and got.dtype == torch.float32
    err = float((got - want).norm() / want.norm())
    assert 0 < err < 2e-2
    assert list(fast.state_dict()) == list(plain.state_dict())


def test_float64_calls_and_fp32_are_untouched():
    x = torch.randn(4, 8, dtype=torch.float64)
    plain, fast = net().double(), autocast(net().double(), "bf16")
    assert torch.equal(fast(x), plain(x))
    m = net()
    assert autocast(m, "fp32") is m and "forward" not in vars(m)


def test_a_module_is_put_in_reduced_precision_once():
    m = autocast(net(), "bf16")
    with pytest.raises(ValueError, match="already runs in bf16"):
        autocast(m, "fp16")


def test_a_compiled_network_gives_the_eager_outputs_and_gradients():
    x = torch.randn(16, 8, requires_grad=True)
    eager, compiled = net(), compile_network(net())
    y0, y1 = eager(x), compiled(x)
    torch.testing.assert_close(y1, y0, rtol=1e-5, atol=1e-6)
    g0 = torch.autograd.grad(y0.square().sum(), eager[0].weight)[0]
    g1 = torch.autograd.grad(y1.square().sum(), compiled[0].weight)[0]
    torch.testing.assert_close(g1, g0, rtol=1e-5, atol=1e-6)
    assert list(compiled.state_dict()) == list(eager.state_dict())


def test_a_platform_that_cannot_compile_is_named(monkeypatch):
    def broken(self, *a, **k):
        raise RuntimeError("no C++ compiler found\nmore detail")

    monkeypatch.setattr(nn.Module, "compile", broken)
    precision.check_compile.cache_clear()
    try:
        with pytest.raises(ValueError, match="train.compile: .*no C\\+\\+ compiler found"):
            compile_network(net())
    finally:
        precision.check_compile.cache_clear()


@pytest.mark.parametrize(
    ("caps", "expected"),
    [({"avx512_bf16": True}, "bf16"), ({"amx_bf16": True}, "bf16"),
     ({"avx512_bf16": False, "amx_bf16": False}, "fp32"), ({}, "fp32")],
)  # fmt: skip
def test_auto_is_bf16_only_where_the_cpu_computes_in_it_natively(monkeypatch, caps, expected):
    from ipm.nets.precision import native_bf16, resolve_precision

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: caps)
    assert native_bf16("cpu") == (expected == "bf16")
    assert resolve_precision("auto", "cpu") == expected
    assert resolve_precision("fp16", "cpu") == "fp16"  # a concrete precision is kept
    net = autocast(nn.Linear(3, 2), "auto")
    assert getattr(net, "_ipm_precision", None) == (None if expected == "fp32" else "bf16")
    with pytest.raises(ValueError, match="precision: expected"):
        resolve_precision("bf8", "cpu")

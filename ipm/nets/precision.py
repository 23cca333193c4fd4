"""Reduced precision and compilation of networks, in place.

A network run in ``bf16`` or ``fp16`` executes its forward pass under :func:`torch.autocast`
(matrix products and convolutions in the reduced type, reductions and normalisations in float32,
as autocast decides) and returns its floating outputs in the dtype of its input, so that
whatever the caller computes around it (EDM's preconditioning, noise levels, losses, particle
updates) stays in float32, as NVlabs/edm keeps them. A float64 call runs in full precision: the
float64 paths (NTK, validation) are never reduced.

``auto`` is bf16 where the device computes in bfloat16 natively (a CUDA device with bfloat16,
a CPU with AVX512-BF16 or AMX-BF16), else fp32: on a CPU without those instructions bfloat16 is
emulated, and the MNIST-cpu configs' training steps ran 1.2–3.2× slower in it than in float32
(``python -m benchmarks.models --configs mnist-cpu --precision fp32 bf16``).

Both changes are made on the module itself (its ``forward`` and :meth:`torch.nn.Module.compile`),
so its ``state_dict`` keys, and the checkpoints holding them, are those of the plain network.
"""

from __future__ import annotations

import functools
from typing import Literal

import torch
from torch import Tensor, nn

__all__ = [
    "PRECISIONS",
    "Precision",
    "autocast",
    "check_compile",
    "compile_network",
    "native_bf16",
    "resolve_precision",
]

Precision = Literal["fp32", "bf16", "fp16", "auto"]

#: a run's ``train.precision`` → the autocast dtype (None: float32, no autocast)
PRECISIONS: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}


def native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA device that supports it without
    emulation, or a CPU with AVX512-BF16 or AMX-BF16 instructions."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        caps = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
        return bool(caps.get("avx512_bf16") or caps.get("amx_bf16"))
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``precision`` itself, or for ``"auto"``: ``"bf16"`` where :func:`native_bf16`, else
    ``"fp32"``."""
    if precision not in (*PRECISIONS, "auto"):
        raise ValueError(f"precision: expected one of {[*PRECISIONS, 'auto']}, got {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def _first_floating(args, kwargs) -> Tensor | None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, Tensor) and a.is_floating_point():
            return a
    return None


def _cast(out, dtype: torch.dtype):
    if isinstance(out, Tensor):
        return out.to(dtype) if out.is_floating_point() else out
    if isinstance(out, tuple):
        return tuple(_cast(o, dtype) for o in out)
    return out


def autocast(module: nn.Module, precision: Precision) -> nn.Module:
    """Makes ``module`` run its forward pass in ``precision`` (in place; returns it).

    Calls whose first floating input is float32 run under autocast to the precision's dtype on
    that input's device, and their floating outputs come back as float32; calls in any other
    dtype (float64) run unchanged. ``fp32`` leaves the module as it is; ``auto`` is resolved on
    the device of the module's parameters (:func:`resolve_precision`)."""
    if precision == "auto":
        param = next(module.parameters(), None)
        precision = resolve_precision("auto", param.device if param is not None else "cpu")
    dtype = PRECISIONS[precision]
    if dtype is None:
        return module
    if getattr(module, "_ipm_precision", None) is not None:
        raise ValueError(f"autocast: the module already runs in {module._ipm_precision}")
    plain = module.forward

    @functools.wraps(plain)
    def forward(*args, **kwargs):
        x = _first_floating(args, kwargs)
        if x is None or x.dtype != torch.float32:
            return plain(*args, **kwargs)
        with torch.autocast(x.device.type, dtype=dtype):
            out = plain(*args, **kwargs)
        return _cast(out, x.dtype)

    module.forward = forward
    module._ipm_precision = precision
    return module


@functools.cache
def check_compile() -> None:
    """Compiles and runs a two-layer network once; raises ValueError naming ``train.compile``
    with the compiler's reason if this platform cannot (e.g. no C++ compiler for the CPU)."""
    net = nn.Sequential(nn.Linear(3, 4), nn.SiLU(), nn.Linear(4, 1))
    try:
        net.compile()
        net(torch.zeros(2, 3)).sum().backward()
    except Exception as e:  # noqa: BLE001  (any failure of the compiler stack)
        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e) else ''}"
        raise ValueError(
            f"train.compile: torch.compile cannot run on this platform ({reason}); "
            "set train.compile=false"
        ) from None


def compile_network(module: nn.Module) -> nn.Module:
    """Compiles ``module`` in place with :func:`torch.compile` (after checking the platform can,
    :func:`check_compile`); returns it."""
    check_compile()
    module.compile()
    return module

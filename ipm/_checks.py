"""Argument checks shared by the whole package.

Every public entry point validates its inputs here, so that a bad shape, a NaN, a
non-positive bandwidth or a device/dtype mismatch fails early with a message that names
the argument, what was expected and what was received.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = [
    "as_scalar_tensor",
    "check_finite",
    "check_particles",
    "check_positive",
    "check_positive_int",
    "check_same_device_dtype",
]


def check_particles(x: object, name: str, dim: int | None = None, *, finite: bool = True) -> Tensor:
    """Check that ``x`` is a floating tensor of shape (N, D) with N ≥ 1 (and D == ``dim`` if
    given)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor of shape (N, D), got {type(x).__name__}")
    if x.ndim != 2:
        raise ValueError(
            f"{name}: expected a batch of particles of shape (N, D), got shape {tuple(x.shape)}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected a floating-point tensor, got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one particle, got shape {tuple(x.shape)}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(
            f"{name}: expected particles of dimension D={dim}, got shape {tuple(x.shape)} "
            f"(dimension {x.shape[1]})"
        )
    if finite:
        check_finite(x, name)
    return x


def check_finite(x: Tensor, name: str) -> Tensor:
    """Raise ValueError naming ``name`` if ``x`` holds NaN or inf."""
    if x.is_floating_point() and not bool(torch.isfinite(x).all()):
        n_nan = int(torch.isnan(x).sum())
        n_inf = int(torch.isinf(x).sum())
        raise ValueError(
            f"{name}: expected finite values, got {n_nan} NaN and {n_inf} inf "
            f"entries in a tensor of shape {tuple(x.shape)}"
        )
    return x


def check_positive(value: object, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number > 0 (>= 0 if ``allow_zero``)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(
                f"{name}: expected a scalar, got a tensor of shape {tuple(value.shape)}"
            )
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: expected a real number, got {type(value).__name__}")
    v = float(value)
    ok = v >= 0 if allow_zero else v > 0
    if not math.isfinite(v) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name}: expected a finite number {bound}, got {value!r}")
    return v


def check_positive_int(value: object, name: str) -> int:
    """Check that ``value`` is an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected an integer >= 1, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value}")
    return value


def check_same_device_dtype(named: Iterable[tuple[str, Tensor]]) -> None:
    """Raise TypeError/ValueError when the named tensors disagree in dtype or device."""
    items = [(n, t) for n, t in named if t is not None]
    if not items:
        return
    n0, t0 = items[0]
    for n, t in items[1:]:
        if t.dtype != t0.dtype:
            raise TypeError(f"{n}: expected dtype {t0.dtype} (the dtype of {n0}), got {t.dtype}")
        if t.device != t0.device:
            raise ValueError(
                f"{n}: expected device {t0.device} (the device of {n0}), got {t.device}"
            )


def as_scalar_tensor(value: float | Tensor, like: Tensor) -> Tensor:
    """A 0-d tensor with the dtype and device of ``like``."""
    if isinstance(value, Tensor):
        return value.to(dtype=like.dtype, device=like.device)
    return torch.tensor(value, dtype=like.dtype, device=like.device)

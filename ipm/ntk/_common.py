"""Shared plumbing of the NTK paths: parameters, buffers and a per-sample function."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import functional_call

__all__ = [
    "DEFAULT_NTK_BLOCK_BYTES",
    "batch_fn",
    "buffer_dict",
    "check_latents",
    "output_dim",
    "param_dict",
    "per_sample_fn",
]

#: Memory budget of one chunk of per-sample Jacobians or of one result block (bytes).
DEFAULT_NTK_BLOCK_BYTES = 256 * 2**20


def param_dict(model: nn.Module, params: dict[str, Tensor] | None) -> dict[str, Tensor]:
    """The parameters to differentiate: ``params`` if given (checked), else the model's own."""
    own = {k: v.detach() for k, v in model.named_parameters()}
    if params is None:
        return own
    if not isinstance(params, dict):
        raise TypeError(f"params: expected a dict name -> tensor, got {type(params).__name__}")
    missing = sorted(set(own) - set(params))
    unknown = sorted(set(params) - set(own))
    if missing or unknown:
        raise ValueError(
            f"params: keys must match the model's parameters; missing {missing}, unknown {unknown}"
        )
    for k, v in params.items():
        if v.shape != own[k].shape:
            raise ValueError(
                f"params[{k!r}]: expected shape {tuple(own[k].shape)}, got {tuple(v.shape)}"
            )
    return {k: v.detach() for k, v in params.items()}


def buffer_dict(model: nn.Module) -> dict[str, Tensor]:
    return {k: v for k, v in model.named_buffers()}


def check_latents(z: object, name: str, ref: Tensor | None = None) -> Tensor:
    """Latents z: a tensor with a leading batch dimension, finite, on the parameters' device."""
    if not isinstance(z, Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor of shape (N, ...), got {type(z).__name__}"
        )
    if z.ndim < 1 or z.shape[0] < 1:
        raise ValueError(
            f"{name}: expected a non-empty batch of shape (N, ...), got {tuple(z.shape)}"
        )
    if z.is_floating_point() and not bool(torch.isfinite(z).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    if ref is not None:
        if z.device != ref.device:
            raise ValueError(f"{name}: expected device {ref.device} (the model's), got {z.device}")
        if z.is_floating_point() and z.dtype != ref.dtype:
            raise TypeError(f"{name}: expected dtype {ref.dtype} (the model's), got {z.dtype}")
    return z


def batch_fn(model: nn.Module, buffers: dict[str, Tensor]):
    """g(params, z) for a batch z, flattened to (N, D)."""

    def f(params: dict[str, Tensor], z: Tensor) -> Tensor:
        out = functional_call(model, (params, buffers), (z,))
        return out.reshape(z.shape[0], -1)

    return f


def per_sample_fn(model: nn.Module, buffers: dict[str, Tensor]):
    """g(params, z_i) for one sample z_i (no batch dim), flattened to (D,)."""

    def f(params: dict[str, Tensor], zi: Tensor) -> Tensor:
        out = functional_call(model, (params, buffers), (zi.unsqueeze(0),))
        return out.reshape(-1)

    return f


def output_dim(model: nn.Module, params, buffers, z: Tensor) -> int:
    with torch.no_grad():
        return batch_fn(model, buffers)(params, z[:1]).shape[1]

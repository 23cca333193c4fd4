"""The exact empirical NTK k_{g_θ}(z, z') = ∇_θ g_θ(z)ᵀ ∇_θ g_θ(z') of Eq. 12, by a chosen method."""

from __future__ import annotations

from torch import Tensor, nn

from ._common import (
    DEFAULT_NTK_BLOCK_BYTES,
    buffer_dict,
    check_latents,
    output_dim,
    param_dict,
    per_sample_fn,
)
from ._functional import jacobian_contraction, ntk_vector_products
from ._structured import structured_ntk, supports_structured
from .methods import NTKKind, NTKMethod


def empirical_ntk(
    model: nn.Module,
    z1: Tensor,
    z2: Tensor | None = None,
    *,
    kind: NTKKind | str = NTKKind.FULL,
    method: NTKMethod | str = NTKMethod.AUTO,
    params: dict[str, Tensor] | None = None,
    chunk_size: int | None = None,
    block_bytes: int = DEFAULT_NTK_BLOCK_BYTES,
) -> Tensor:
    r"""Exact empirical NTK k_{g_θ}(z, z') = ∇_θ g_θ(z)ᵀ ∇_θ g_θ(z') of Eq. 12.

    Args:
        model: any ``nn.Module`` mapping a batch (N, ...) to (N, ...) outputs, flattened to D.
            Buffers are used as they are (put BatchNorm in eval mode first).
        z1: (N1, ...) latents. z2: (N2, ...) latents (default: z1).
        kind: ``"full"`` (N1, N2, D, D), ``"trace"`` (N1, N2) or ``"diagonal"`` (N1, D, D,
            the blocks K(z_i, z_i); requires z2 None). See :class:`NTKKind`.
        method: see :class:`NTKMethod` for each algorithm's cost.
        params: parameters θ to evaluate at (default: the model's current ones).
        chunk_size: particles per block for the torch.func methods (default: from
            ``block_bytes``, the memory budget of one block).

    Returns:
        The kernel in the dtype and device of the model's parameters. The full kernel may be a
        non-contiguous view (it is built in (N1, D, N2, D) layout).
    """
    kind = _enum(NTKKind, kind, "kind")
    method = _enum(NTKMethod, method, "method")
    p = param_dict(model, params)
    ref = next(iter(p.values()))
    z1 = check_latents(z1, "z1", ref)
    if z2 is not None:
        z2 = check_latents(z2, "z2", ref)
        if z2.shape[1:] != z1.shape[1:]:
            raise ValueError(
                f"z2: expected per-sample shape {tuple(z1.shape[1:])} (that of z1), got {tuple(z2.shape[1:])}"
            )
        if kind is NTKKind.DIAGONAL:
            raise ValueError("z2: the diagonal blocks K(z_i, z_i) take one particle set; got z2")
    if chunk_size is not None and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(f"chunk_size: expected an integer >= 1, got {chunk_size!r}")
    buffers = buffer_dict(model)
    n_params = sum(t.numel() for t in p.values())
    if method is NTKMethod.AUTO:
        if supports_structured(model):
            method = NTKMethod.STRUCTURED
        else:
            d = output_dim(model, p, buffers, z1)
            per_sample = d * n_params * ref.element_size()
            method = (
                NTKMethod.JACOBIAN_CONTRACTION
                if 2 * per_sample <= block_bytes
                else NTKMethod.NTK_VECTOR_PRODUCTS
            )
    if method is NTKMethod.STRUCTURED:
        return structured_ntk(model, p, z1, z2, kind, block_bytes)
    f = per_sample_fn(model, buffers)
    if chunk_size is None:
        d = output_dim(model, p, buffers, z1)
        per_sample = d * n_params * ref.element_size()
        chunk_size = max(1, block_bytes // max(1, 2 * per_sample))
        if method is NTKMethod.NTK_VECTOR_PRODUCTS:
            chunk_size = max(1, int(chunk_size**0.5))
    impl = jacobian_contraction if method is NTKMethod.JACOBIAN_CONTRACTION else ntk_vector_products
    return impl(f, p, z1, z2, kind, chunk_size)


def ntk_trace(model: nn.Module, z1: Tensor, z2: Tensor | None = None, **kw) -> Tensor:
    """The trace (scalar) NTK Σ_d K_dd(z_i, z'_j), shape (N1, N2)."""
    return empirical_ntk(model, z1, z2, kind=NTKKind.TRACE, **kw)


def ntk_diagonal(model: nn.Module, z: Tensor, **kw) -> Tensor:
    """The diagonal blocks K(z_i, z_i), shape (N, D, D)."""
    return empirical_ntk(model, z, kind=NTKKind.DIAGONAL, **kw)


def as_gram(kernel: Tensor) -> Tensor:
    """An (N, N, D, D) kernel as its (N·D, N·D) Gram, particle-major (row index particle ×
    output); a square Gram is returned as it is."""
    if kernel.ndim == 4:
        n, _, d, _ = kernel.shape
        return kernel.permute(0, 2, 1, 3).reshape(n * d, n * d)
    if kernel.ndim == 2 and kernel.shape[0] == kernel.shape[1]:
        return kernel
    raise ValueError(
        f"kernel: expected an (N, N, D, D) kernel or a square Gram, got shape {tuple(kernel.shape)}"
    )


def _enum(cls, value, name):
    try:
        return cls(value)
    except ValueError:
        choices = ", ".join(repr(m.value) for m in cls)
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}") from None

"""The matrix-free NTK operator of Eq. 13–14: A_θ(V)(z) = J(z)·(Jᵀ V), no kernel materialised."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.func import jvp, vjp

from .._checks import check_finite
from ._common import batch_fn, buffer_dict, check_latents, param_dict
from ._structured import (
    StructuredUnsupported,
    structured_operator,
    supports_structured_operator,
)

__all__ = ["ntk_operator"]


def ntk_operator(
    model: nn.Module,
    z: Tensor,
    v: Tensor,
    z_out: Tensor | None = None,
    *,
    params: dict[str, Tensor] | None = None,
    mean: bool = False,
    chunk_size: int | None = None,
    structured: bool = True,
) -> Tensor:
    r"""Apply the generator NTK to a field V without materialising the kernel (Eq. 14).

    .. math:: [A_θ(V)](z_o) = \sum_j k_{g_θ}(z_o, z_j) V_j = J(z_o)\,\big(\sum_j J(z_j)^\top V_j\big)

    computed with one vector-Jacobian product (the bracket, a parameter-shaped vector) and one
    Jacobian-vector product per chunk. With ``mean=True`` the sum is an average over the
    N latents, i.e. the expectation E_{z'} of Eq. 14 under the empirical latent law.

    Args:
        model: the generator g_θ; its output is flattened to D values per sample.
        z: (N, ...) latents z_j.
        v: (N, D) or (N, *output_shape) field values V_j = V(g(z_j)).
        z_out: (M, ...) latents where the result is evaluated (default ``z``).
        params: parameters θ to evaluate at (default: the model's own), e.g. a frozen θ_0.
        chunk_size: particles per vjp/jvp call (default: all at once); memory is linear in it.
        structured: for nn.Sequential models of Linear layers, zero-padded convolutions,
            Flatten/Unflatten and element-wise activations, use explicit reverse/tangent sweeps
            sharing one forward pass, on one particle block per CPU core (same result up to
            rounding, fewer FLOPs); ``False`` forces the generic ``torch.func`` vjp + jvp.

    Returns:
        (M, D) tensor, in the output dtype of the model.
    """
    p = param_dict(model, params)
    ref = next(iter(p.values()))
    z = check_latents(z, "z", ref)
    z_out = z if z_out is None else check_latents(z_out, "z_out", ref)
    if not isinstance(v, Tensor):
        raise TypeError(f"v: expected a torch.Tensor, got {type(v).__name__}")
    v = v.reshape(v.shape[0], -1) if v.ndim >= 1 else v
    if v.ndim != 2 or v.shape[0] != z.shape[0]:
        raise ValueError(
            f"v: expected shape ({z.shape[0]}, D) (one row per latent), got {tuple(v.shape)}"
        )
    if v.dtype != ref.dtype or v.device != ref.device:
        raise TypeError(
            f"v: expected dtype {ref.dtype} on {ref.device} (the model's), got {v.dtype} on {v.device}"
        )
    check_finite(v, "v")
    if structured and supports_structured_operator(model):
        try:
            return structured_operator(model, p, z, v, z_out, mean)
        except StructuredUnsupported:
            pass  # a layer's input the sweeps do not cover (e.g. Linear on a 4-d tensor)
    f = batch_fn(model, buffer_dict(model))
    n = z.shape[0]
    cs = chunk_size or n
    # Jᵀ V = Σ_j J(z_j)ᵀ V_j: one vjp per chunk, summed in parameter space.
    ct = None
    for i in range(0, n, cs):
        out, vjp_fn = vjp(lambda q, zb=z[i : i + cs]: f(q, zb), p)
        if out.shape[1] != v.shape[1]:
            raise ValueError(
                f"v: expected D={out.shape[1]} columns (the generator's output size), got {v.shape[1]}"
            )
        (g,) = vjp_fn(v[i : i + cs])
        ct = g if ct is None else {k: ct[k] + g[k] for k in ct}
    if mean:
        ct = {k: t / n for k, t in ct.items()}
    # J(z_o) (Jᵀ V): one jvp per chunk of evaluation points.
    m = z_out.shape[0]
    cs_out = chunk_size or m
    outs = [_jvp(f, p, ct, z_out[i : i + cs_out]) for i in range(0, m, cs_out)]
    return torch.cat(outs, dim=0)


def _jvp(f, p: dict[str, Tensor], tangent: dict[str, Tensor], z: Tensor) -> Tensor:
    """J(z) · tangent by forward mode, or, for layers without forward-mode derivatives
    (``weight_norm``, ``spectral_norm``), as the vjp of a vjp: J u = ∂/∂w ⟨Jᵀ w, u⟩."""
    try:
        return jvp(lambda q: f(q, z), (p,), (tangent,))[1]
    except NotImplementedError:
        pass
    out, vjp_fn = vjp(lambda q: f(q, z), p)
    w = torch.zeros_like(out)
    (ju,) = vjp(lambda w_: sum((vjp_fn(w_)[0][k] * tangent[k]).sum() for k in tangent), w)[1](
        torch.ones((), dtype=out.dtype, device=out.device)
    )
    return ju

"""Generic empirical NTK of any ``nn.Module`` through ``torch.func``.

Two algorithms (see :class:`~ipm.ntk.methods.NTKMethod`): Jacobian contraction and
NTK-vector products. Both work on blocks of particles so that memory stays bounded.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.func import jacrev, jvp, vjp, vmap

from .methods import NTKKind

__all__ = ["jacobian_contraction", "ntk_vector_products"]


def _blocks(n: int, size: int):
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))


def _jacobians(f, params, z: Tensor) -> list[Tensor]:
    """Per-sample Jacobians, one (N, D, P_k) tensor per parameter tensor."""
    jac = vmap(jacrev(f), (None, 0))(params, z)
    return [j.flatten(2) for j in jac.values()]


def _contract(j1: list[Tensor], j2: list[Tensor], kind: NTKKind) -> Tensor:
    if kind is NTKKind.FULL:
        return sum(torch.einsum("adp,bep->abde", a, b) for a, b in zip(j1, j2))
    if kind is NTKKind.TRACE:
        return sum(torch.einsum("adp,bdp->ab", a, b) for a, b in zip(j1, j2))
    return sum(torch.einsum("adp,aep->ade", a, a) for a in j1)  # DIAGONAL


#: Memory for per-sample Jacobians held at once (bytes): within it the Jacobians of all
#: particles are computed in one ``vmap(jacrev)`` call and the kernel is one contraction, the
#: plain torch.func recipe (filling a buffer chunk by chunk costs a second pass over fresh memory,
#: a quarter of the time at N = 256); beyond it the second set's chunks of ``chunk`` particles
#: are recomputed for every chunk of the first (memory stays at two chunks, the work grows by the
#: number of chunks).
JACOBIAN_CACHE_BYTES = 4 * 2**30


def jacobian_contraction(
    f,
    params,
    z1: Tensor,
    z2: Tensor | None,
    kind: NTKKind,
    chunk: int,
    cache_bytes: int = JACOBIAN_CACHE_BYTES,
) -> Tensor:
    """K from per-sample Jacobians: all at once within ``cache_bytes``, else block by block of
    ``chunk`` particles."""
    if kind is NTKKind.DIAGONAL:
        return torch.cat(
            [_contract(_jacobians(f, params, z1[s]), None, kind) for s in _blocks(len(z1), chunk)]
        )
    same = z2 is None
    z2 = z1 if same else z2
    with torch.no_grad():
        d = f(params, z1[0]).numel()
    per_sample = d * sum(p.numel() * p.element_size() for p in params.values())
    if per_sample * (len(z1) + (0 if same else len(z2))) <= cache_bytes:
        j1 = _jacobians(f, params, z1)
        return _contract(j1, j1 if same else _jacobians(f, params, z2), kind)
    rows = []
    for s1 in _blocks(len(z1), chunk):
        ja = _jacobians(f, params, z1[s1])
        blocks = (_jacobians(f, params, z2[s2]) for s2 in _blocks(len(z2), chunk))
        rows.append(torch.cat([_contract(ja, jb, kind) for jb in blocks], dim=1))
    return torch.cat(rows, dim=0)


def ntk_vector_products(
    f, params, z1: Tensor, z2: Tensor | None, kind: NTKKind, chunk: int
) -> Tensor:
    """K(z, z') e_d = J(z) (J(z')^T e_d): a vjp at z' and a jvp at z for every basis vector."""

    def pair(zi: Tensor, zj: Tensor) -> Tensor:
        out_j, vjp_fn = vjp(lambda p: f(p, zj), params)
        basis = torch.eye(out_j.shape[0], dtype=out_j.dtype, device=out_j.device)

        def column(e: Tensor) -> Tensor:
            (ct,) = vjp_fn(e)
            return jvp(lambda p: f(p, zi), (params,), (ct,))[1]

        cols = vmap(column)(basis)  # cols[d'] = K(zi, zj)[:, d']
        return cols.T

    if kind is NTKKind.DIAGONAL:
        diag = vmap(lambda zi: pair(zi, zi))
        return torch.cat([diag(z1[s]) for s in _blocks(len(z1), chunk)])
    z2 = z1 if z2 is None else z2
    grid = vmap(vmap(pair, (None, 0)), (0, None))
    rows = []
    for s1 in _blocks(len(z1), chunk):
        row = []
        for s2 in _blocks(len(z2), chunk):
            k = grid(z1[s1], z2[s2])
            row.append(k.diagonal(dim1=-2, dim2=-1).sum(-1) if kind is NTKKind.TRACE else k)
        rows.append(torch.cat(row, dim=1))
    return torch.cat(rows, dim=0)

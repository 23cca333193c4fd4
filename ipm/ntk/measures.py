r"""What a generator's NTK lets it follow: alignment, followable share and effective rank.

A kernel here is the N·D × N·D Gram of an empirical NTK, given either materialised (an
(N, N, D, D) kernel from :func:`~ipm.ntk.empirical_ntk` or its (N·D, N·D) Gram) or by its top
eigenpairs (:class:`~ipm.ntk.spectral.NTKEigs`, the rank-k truncation Σ_i λ_i u_i u_iᵀ).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .kernel import as_gram
from .spectral import Estimate, NTKEigs

__all__ = ["effective_rank", "followable_share", "kernel_alignment", "participation_ratio"]


def _centre(u: Tensor) -> Tensor:
    """u (..., N, D) minus its mean over particles: the projection H_N ⊗ I_D."""
    return u - u.mean(dim=-2, keepdim=True)


def _centred_factor(kernel: NTKEigs, centred: bool = True) -> Tensor:
    """W with K_c = W Wᵀ for the truncation: W = (H ⊗ I) U Λ^{1/2}, shape (N·D, k) (without
    the centring H when ``centred`` is False)."""
    u = kernel.vectors.to(torch.float64)  # (k, N, D)
    u = _centre(u) if centred else u
    return u.reshape(u.shape[0], -1).T * kernel.values.to(torch.float64).clamp_min(0).sqrt()


def _centred_dense(kernel: Tensor, n_particles: int) -> Tensor:
    g = kernel.to(torch.float64)
    n = g.shape[0]
    if n % n_particles:
        raise ValueError(f"kernel: a Gram of size {n} is not N·D for N = {n_particles}")
    d = n // n_particles
    h = torch.eye(n_particles, dtype=g.dtype, device=g.device) - 1.0 / n_particles
    p = torch.kron(h, torch.eye(d, dtype=g.dtype, device=g.device))
    return p @ g @ p


def kernel_alignment(
    a: NTKEigs | Tensor,
    b: NTKEigs | Tensor,
    n_particles: int | None = None,
    *,
    centred: bool = True,
) -> float:
    r"""Centred kernel alignment (Cortes, Mohri and Rostamizadeh, 2012) of two NTK Grams,

    .. math:: ρ(K, K') = \frac{⟨K_c, K'_c⟩_F}{‖K_c‖_F\,‖K'_c‖_F}, \qquad K_c = P K P,\;
              P = (I_N − \tfrac{1}{N} 1 1ᵀ) ⊗ I_D,

    the cosine between the kernels once every particle's Jacobian has had the mean Jacobian over
    the particles removed (the feature-space centring of Cortes et al., applied per output). 1
    for kernels equal up to scale; for PSD kernels it lies in [0, 1]. From eigenpairs it is the
    alignment of the rank-k truncations, computed from k × k products (never N·D × N·D); a
    materialised kernel is centred exactly. ``n_particles`` is needed only when both are Grams.

    ``centred=False`` gives the uncentred alignment ⟨K, K'⟩_F / (‖K‖_F ‖K'‖_F) (Cristianini et
    al. 2002), which keeps the mode that moves all particles together; a generator's NTK at
    initialisation is often dominated by it (its output biases), which the centred form removes.
    """
    if isinstance(a, NTKEigs) and isinstance(b, NTKEigs):
        wa, wb = _centred_factor(a, centred), _centred_factor(b, centred)
        cross = (wa.T @ wb).pow(2).sum()
        return float(cross / ((wa.T @ wa).norm() * (wb.T @ wb).norm()))
    dense = []
    for x in (a, b):
        if isinstance(x, NTKEigs):
            n = x.vectors.shape[1]
            w = x.vectors.to(torch.float64).reshape(x.vectors.shape[0], -1)
            x = w.T @ (w * x.values.to(torch.float64)[:, None])
            dense.append((x, n))
        else:
            n = x.shape[0] if x.ndim == 4 else n_particles
            if n is None:
                raise ValueError("n_particles: needed to centre an (N·D, N·D) Gram")
            dense.append((as_gram(x), n))
    (ga, na), (gb, nb) = dense
    if ga.shape != gb.shape or na != nb:
        raise ValueError(f"the kernels differ in size: {tuple(ga.shape)} and {tuple(gb.shape)}")
    if centred:
        ga, gb = _centred_dense(ga, na), _centred_dense(gb, nb)
    return float((ga * gb).sum() / (ga.norm() * gb.norm()))


def followable_share(eigs: NTKEigs, field: Tensor) -> float:
    r"""The share of a field's energy in the NTK's top-k eigenspace,

    .. math:: s_k(V) = \frac{‖U_kᵀ v‖^2}{‖v‖^2}, \qquad v = \mathrm{vec}(V),\; V_i = ∇h_ρ(g_θ(z_i)),

    where U_k holds the k leading eigenvectors. Under Eq. 13–14 the particles move along
    A_θ(∇h_ρ) = K v; the components of v outside the leading eigenspace are scaled by eigenvalues
    below λ_k, so 1 − s_k bounds the share of the flow the generator follows only slowly.
    ``field``: (N, D) or (N, *output_shape).
    """
    u = eigs.vectors.to(torch.float64)
    v = field.reshape(field.shape[0], -1).to(torch.float64)
    if v.shape != u.shape[1:]:
        raise ValueError(f"field: expected shape {tuple(u.shape[1:])} (N, D), got {tuple(v.shape)}")
    total = v.pow(2).sum()
    if total == 0:
        raise ValueError("field: the zero field has no direction to share")
    coef = (u * v).sum(dim=(1, 2))
    return float(coef.pow(2).sum() / total)


def effective_rank(values: Tensor | NTKEigs) -> float:
    r"""The entropy effective rank of Roy and Vetterli (2007), exp(−Σ_i p_i log p_i) with
    p_i = λ_i / Σ_j λ_j: between 1 (one direction) and the number of eigenvalues given (a flat
    spectrum). From the top k eigenvalues it is the effective rank of the rank-k truncation."""
    lam = (values.values if isinstance(values, NTKEigs) else values).to(torch.float64)
    lam = lam.clamp_min(0)
    if lam.numel() == 0 or lam.sum() <= 0:
        raise ValueError("values: expected at least one positive eigenvalue")
    p = lam / lam.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def participation_ratio(trace: float | Estimate, frobenius: float | Estimate) -> float:
    r"""(tr K)² / ‖K‖_F² = (Σλ)² / Σλ², the effective number of directions the whole spectrum
    spreads over (1 ≤ · ≤ N·D), from the exact or Hutchinson-estimated trace and Frobenius norm."""
    t = trace.value if isinstance(trace, Estimate) else float(trace)
    f = frobenius.value if isinstance(frobenius, Estimate) else float(frobenius)
    if not f > 0 or not math.isfinite(t):
        raise ValueError(f"frobenius: expected a positive norm, got {f!r}")
    return t * t / (f * f)

r"""The spectrum of the empirical NTK through the matrix-free operator (Eq. 12–14).

The Gram of the empirical NTK on N particles is the (N·D) × (N·D) symmetric positive
semi-definite matrix K with blocks K[(i, ·), (j, ·)] = k_{g_θ}(z_i, z_j) (D × D): row index
particle × output. Its product with a field V (N, D) is :func:`~ipm.ntk.ntk_operator`,
A_θ(V)(z_i) = Σ_j k_{g_θ}(z_i, z_j) V_j (Eq. 14 with the sum in place of the mean), one vjp and
one jvp, so its top eigenpairs, trace and Frobenius norm are available at sizes where K itself
(N²D² numbers) cannot be held.

``ntk_eigs``        the k largest eigenpairs: thick-restart (Krylov–Schur) Lanczos (iterative) or
                    ``torch.linalg.eigh`` of the materialised Gram (dense, small N·D)
``ntk_trace_estimate``, ``ntk_frobenius_estimate``
                    Hutchinson estimates of tr K and ‖K‖_F with their standard errors
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ._common import check_latents, param_dict
from .kernel import as_gram, empirical_ntk
from .operator import ntk_operator

__all__ = [
    "Estimate",
    "NTKEigs",
    "gram_eigs",
    "gram_operator",
    "ntk_eigs",
    "ntk_frobenius_estimate",
    "ntk_trace_estimate",
]

#: N·D up to which ``method="auto"`` materialises the Gram and calls ``eigh``
DENSE_MAX = 2048


@dataclass(frozen=True)
class NTKEigs:
    """The k largest eigenpairs of the NTK Gram.

    Attributes:
        values: (k,) eigenvalues, descending, float64.
        vectors: (k, N, D) orthonormal eigenvectors (as (k, N·D) rows), float64.
        residuals: (k,) ‖K u − λ u‖ of each pair, relative to the largest eigenvalue.
        products: operator products K v used (for ``dense``: 0, the Gram was materialised).
        restarts: Krylov restarts (``dense``: 0).
        converged: every residual is within the tolerance (``dense``: True).
    """

    values: Tensor
    vectors: Tensor
    residuals: Tensor
    products: int
    restarts: int
    converged: bool


@dataclass(frozen=True)
class Estimate:
    """A Monte-Carlo estimate: the value, its standard error and the number of probes."""

    value: float
    stderr: float
    samples: int


def gram_operator(
    model: nn.Module,
    z: Tensor,
    *,
    params: dict[str, Tensor] | None = None,
    chunk_size: int | None = None,
) -> Callable[[Tensor], Tensor]:
    """``apply(V)``: the Gram K applied to each of b fields V (b, N, D), in the model's dtype."""

    def apply(v: Tensor) -> Tensor:
        return torch.stack(
            [ntk_operator(model, z, vi, params=params, chunk_size=chunk_size) for vi in v]
        )

    return apply


def _sizes(model: nn.Module, z: Tensor, params) -> tuple[int, int, Tensor]:
    p = param_dict(model, params)
    ref = next(iter(p.values()))
    z = check_latents(z, "z", ref)
    with torch.no_grad():
        d = model(z[:1]).reshape(1, -1).shape[1]
    return z.shape[0], d, ref


def gram_eigs(gram: Tensor, n_particles: int, k: int) -> NTKEigs:
    """The k largest eigenpairs of a materialised Gram (N·D × N·D, particle-major, e.g.
    :func:`~ipm.ntk.kernel.as_gram` of an empirical NTK) by ``torch.linalg.eigh`` in float64:
    the dense path of :func:`ntk_eigs`."""
    g = gram.to(torch.float64)
    if g.ndim != 2 or g.shape[0] != g.shape[1] or g.shape[0] % n_particles:
        raise ValueError(
            f"gram: expected a square N·D Gram for N = {n_particles}, got {tuple(g.shape)}"
        )
    values, vectors = torch.linalg.eigh(g)
    values, vectors = values.flip(0)[:k], vectors.flip(1)[:, :k]
    res = (g @ vectors - vectors * values).norm(dim=0) / values[0].abs().clamp_min(1e-300)
    return NTKEigs(values, vectors.T.reshape(k, n_particles, -1), res, 0, 0, True)


def _rayleigh_ritz(q: Tensor, aq: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenpairs (descending) of the projection Qᵀ A Q, with A Q given."""
    h = q.T @ aq
    theta, s = torch.linalg.eigh((h + h.T) / 2)
    return theta.flip(0), s.flip(1)


def _orthonormal_block(w: Tensor, basis: Tensor | None, gen: torch.Generator) -> Tensor:
    """The columns of w orthonormalised against ``basis`` and each other (two Gram–Schmidt
    passes, float64); a column that vanishes (the Krylov space has closed) is replaced by a
    random direction orthogonal to everything kept."""
    for _ in range(2):
        if basis is not None:
            w = w - basis @ (basis.T @ w)
        q, r = torch.linalg.qr(w)
        w = q
    scale = r.diagonal().abs()
    weak = scale <= 1e-10 * max(float(scale.max()), 1e-300)
    if bool(weak.any()):
        fresh = torch.randn(w.shape[0], int(weak.sum()), dtype=w.dtype, generator=gen)
        keep = torch.cat([basis, w[:, ~weak]], 1) if basis is not None else w[:, ~weak]
        for _ in range(2):
            fresh = fresh - keep @ (keep.T @ fresh)
            fresh = torch.linalg.qr(fresh)[0]
        w = torch.cat([w[:, ~weak], fresh], 1)
    return w


def ntk_eigs(
    model: nn.Module,
    z: Tensor,
    k: int,
    *,
    params: dict[str, Tensor] | None = None,
    method: str = "auto",
    block: int = 1,
    basis: int | None = None,
    keep: int | None = None,
    tol: float = 1e-10,
    max_restarts: int = 500,
    seed: int = 0,
    chunk_size: int | None = None,
    progress: bool = False,
) -> NTKEigs:
    r"""The k largest eigenpairs of the empirical NTK's Gram K (N·D × N·D), K u = λ u.

    ``method="iterative"`` never materialises K: a thick-restart (Krylov–Schur) Lanczos method,
    in blocks of ``block`` columns. The basis Q grows from a random block, each new block being
    the products of the last one orthonormalised against all of Q (float64, twice), until it
    holds ``basis`` columns; the Ritz pairs of QᵀKQ come from the stored products KQ (no extra
    product). If the top k are not yet converged, Q restarts from the ``keep`` leading Ritz
    vectors, their products and the next Krylov block (the residual directions, orthogonal to
    Q), and grows again. It stops when every one of the k residuals ‖K u − θ u‖ is at most
    ``tol`` times the largest Ritz value θ_1; then each eigenvalue is within that residual of
    an eigenvalue of K (Weyl) and each eigenvector's angle to its eigenspace is at most the
    residual over the gap to the rest of the spectrum (Davis–Kahan). Products are applied in
    the model's dtype; the basis and Ritz problem are float64, so the attainable tolerance is
    the model dtype's rounding (about 1e-7 in float32, 1e-15 in float64) relative to θ_1.

    Every product is one vjp and one jvp of the generator (:func:`gram_operator`), a block of
    them costing the same per column, so the single-vector recurrence (``block=1``, the
    default, as in ARPACK) reaches a given polynomial degree in the fewest products; a block
    of b columns resolves an eigenvalue of multiplicity up to b, which one vector finds only
    through rounding.

    ``method="dense"`` materialises K (:func:`~ipm.ntk.empirical_ntk`) and calls
    ``torch.linalg.eigh`` in float64; ``"auto"`` takes it when N·D ≤ :data:`DENSE_MAX`.

    Args:
        model: the generator g_θ; its output is flattened to D values per particle.
        z: (N, ...) latents.
        k: how many eigenpairs, 1 ≤ k ≤ N·D.
        params: parameters θ to evaluate at (default: the model's own), e.g. a frozen θ_0.
        method: ``"auto"``, ``"iterative"`` or ``"dense"``.
        block: columns added to the basis per step, ≥ 1.
        basis: the largest basis, > k (default max(2k + 1, 20), ARPACK's, at most N·D).
        keep: Ritz vectors kept at a restart, k ≤ keep < basis (default halfway between k and
            ``basis``); each restart then costs basis − keep products.
        tol: relative residual at which the pairs count as converged.
        max_restarts: restarts before giving up (the result then has ``converged=False``).
        seed: the seed of the starting block.
        chunk_size: particles per vjp/jvp call of the operator's generic path.
        progress: a tqdm bar over restarts showing the largest residual.

    Returns:
        :class:`NTKEigs` with values (k,) descending and vectors (k, N, D), both float64.
    """
    n_part, d, ref = _sizes(model, z, params)
    n = n_part * d
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= n:
        raise ValueError(f"k: expected an integer in [1, N·D = {n}], got {k!r}")
    if method not in ("auto", "iterative", "dense"):
        raise ValueError(f"method: expected 'auto', 'iterative' or 'dense', got {method!r}")
    if method == "dense" or (method == "auto" and n <= DENSE_MAX):
        return gram_eigs(as_gram(empirical_ntk(model, z, params=params)), n_part, k)
    m, p, b = _krylov_sizes(n, k, block, basis, keep)
    if not tol > 0:
        raise ValueError(f"tol: expected a positive number, got {tol!r}")
    apply = gram_operator(model, z, params=params, chunk_size=chunk_size)

    def product(cols: Tensor) -> Tensor:  # (n, c) float64 -> (n, c) float64
        v = cols.T.reshape(-1, n_part, d).to(ref.dtype)
        return apply(v).reshape(cols.shape[1], n).T.to(torch.float64)

    gen = torch.Generator().manual_seed(seed)
    # the basis Q and its products KQ, filled column by column up to m (no copies as they grow)
    q, aq = torch.empty(n, m, dtype=torch.float64), torch.empty(n, m, dtype=torch.float64)

    def put(start: int, w: Tensor) -> int:
        """Store w and its products from column ``start``; the columns now filled."""
        q[:, start : start + w.shape[1]], aq[:, start : start + w.shape[1]] = w, product(w)
        return start + w.shape[1]

    first = torch.randn(n, b, dtype=torch.float64, generator=gen)
    products = filled = put(0, _orthonormal_block(first, None, gen))
    from tqdm.auto import tqdm

    bar = tqdm(total=max_restarts, desc=f"ntk_eigs k={k}", disable=not progress, leave=False)
    restarts, converged = 0, False
    try:
        while True:
            while filled < m:  # the next block: the products of the last b columns
                w = _orthonormal_block(aq[:, filled - b : filled], q[:, :filled], gen)
                w = w[:, : m - filled]
                products, filled = products + w.shape[1], put(filled, w)
            theta, s = _rayleigh_ritz(q, aq)
            top = max(float(theta[0].abs()), 1e-300)
            x, ax = q @ s[:, :k], aq @ s[:, :k]
            res = (ax - x * theta[:k]).norm(dim=0) / top
            worst = float(res.max())
            bar.set_postfix(residual=f"{worst:.2e}", products=products, refresh=False)
            if worst <= tol:
                converged = True
                break
            if restarts >= max_restarts:
                break
            restarts += 1
            bar.update(1)
            # the next Krylov block, orthogonal to all of Q, continues the kept Ritz space
            w = _orthonormal_block(aq[:, m - b :], q, gen)[:, : m - p]
            # the Ritz vectors are orthonormal up to rounding: re-orthonormalise, keep KQ in step
            kept, r = torch.linalg.qr(q @ s[:, :p])
            aq[:, :p] = torch.linalg.solve_triangular(r, aq @ s[:, :p], upper=True, left=False)
            q[:, :p] = kept
            products, filled = products + w.shape[1], put(p, _orthonormal_block(w, kept, gen))
    finally:
        bar.close()
    vectors = x.T.reshape(k, n_part, d)
    return NTKEigs(theta[:k].clone(), vectors, res, products, restarts, converged)


def _krylov_sizes(n: int, k: int, block, basis, keep) -> tuple[int, int, int]:
    """Validated (basis, keep, block) of the Krylov–Schur iteration for an n × n Gram."""
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= n:
        raise ValueError(f"block: expected an integer in [1, N·D = {n}], got {block!r}")
    m = min(n, max(2 * k + 1, 20)) if basis is None else basis
    if isinstance(m, bool) or not isinstance(m, int) or not k < m <= n:
        raise ValueError(f"basis: expected an integer in ({k}, N·D = {n}] (above k), got {basis!r}")
    p = (k + m) // 2 if keep is None else keep
    if isinstance(p, bool) or not isinstance(p, int) or not k <= p < m:
        raise ValueError(f"keep: expected an integer in [k = {k}, basis = {m}), got {keep!r}")
    return m, p, min(block, m - p)


def _probes(n_part: int, d: int, samples: int, seed: int, dtype) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    signs = torch.randint(0, 2, (samples, n_part, d), generator=gen).to(dtype)
    return 2 * signs - 1  # Rademacher


def _mean_and_stderr(x: Tensor) -> tuple[float, float]:
    m = x.numel()
    return float(x.mean()), float(x.std(unbiased=True) / math.sqrt(m)) if m > 1 else math.inf


def _check_samples(samples: int) -> None:
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ValueError(
            f"samples: expected an integer >= 2 (for a standard error), got {samples!r}"
        )


def _deflation(eigs: NTKEigs | None, n_part: int, d: int) -> Tensor | None:
    """The (k, N·D) float64 eigenvectors to project out, checked against the probe shape."""
    if eigs is None:
        return None
    if not isinstance(eigs, NTKEigs):
        raise TypeError(f"deflate: expected NTKEigs from ntk_eigs, got {type(eigs).__name__}")
    if tuple(eigs.vectors.shape[1:]) != (n_part, d):
        raise ValueError(
            f"deflate: eigenvectors of shape {tuple(eigs.vectors.shape[1:])}, expected "
            f"{(n_part, d)} (N, D) of these latents"
        )
    return eigs.vectors.reshape(eigs.vectors.shape[0], -1).to(torch.float64)


def _projected(apply, u: Tensor | None):
    """v ↦ P K P v with P = I − U Uᵀ (K itself when u is None)."""
    if u is None:
        return apply

    def proj(v: Tensor) -> Tensor:
        w = v.reshape(v.shape[0], -1).to(torch.float64)
        return (w - (w @ u.T) @ u).reshape(v.shape).to(v.dtype)

    return lambda v: proj(apply(proj(v)))


def ntk_trace_estimate(
    model: nn.Module,
    z: Tensor,
    samples: int = 32,
    *,
    params: dict[str, Tensor] | None = None,
    seed: int = 0,
    deflate: NTKEigs | None = None,
) -> Estimate:
    """Hutchinson's estimate of tr K = Σ_i tr k_{g_θ}(z_i, z_i): the mean of vᵀKv over
    Rademacher probes v (N, D), unbiased, with variance 2(‖K‖_F² − Σ_a K_aa²)/samples; the
    standard error is the probes' sample standard deviation over √samples.

    ``deflate``: top eigenpairs of K (:func:`ntk_eigs`); then tr K = Σ_i λ_i + tr(PKP) with
    P = I − U Uᵀ, and only the second term is estimated (as in Hutch++, Meyer et al. 2021):
    its variance holds the rest of the spectrum alone, so a kernel dominated by a few
    directions, as a generator's NTK is, is estimated far more precisely."""
    _check_samples(samples)
    n_part, d, ref = _sizes(model, z, params)
    u = _deflation(deflate, n_part, d)
    apply = _projected(gram_operator(model, z, params=params), u)
    v = _probes(n_part, d, samples, seed, ref.dtype)
    quad = torch.stack([(vi * apply(vi[None])[0]).sum() for vi in v]).to(torch.float64)
    value, se = _mean_and_stderr(quad)
    head = float(deflate.values.sum()) if u is not None else 0.0
    return Estimate(head + value, se, samples)


def ntk_frobenius_estimate(
    model: nn.Module,
    z: Tensor,
    samples: int = 32,
    *,
    params: dict[str, Tensor] | None = None,
    seed: int = 0,
    deflate: NTKEigs | None = None,
) -> Estimate:
    """Hutchinson's estimate of ‖K‖_F = (tr K²)^{1/2}: ‖K v‖² over Rademacher probes v has mean
    ‖K‖_F²; the value is the square root of its mean and the standard error follows by the delta
    method, se(‖K‖_F²) / (2‖K‖_F).

    ``deflate``: top eigenpairs of K; then ‖K‖_F² = Σ_i λ_i² + ‖PKP‖_F² with P = I − U Uᵀ and
    only the second term is estimated (see :func:`ntk_trace_estimate`)."""
    _check_samples(samples)
    n_part, d, ref = _sizes(model, z, params)
    u = _deflation(deflate, n_part, d)
    apply = _projected(gram_operator(model, z, params=params), u)
    v = _probes(n_part, d, samples, seed, ref.dtype)
    sq = torch.stack([apply(vi[None])[0].pow(2).sum() for vi in v]).to(torch.float64)
    mean, se = _mean_and_stderr(sq)
    if u is not None:
        mean += float(deflate.values.pow(2).sum())
    root = math.sqrt(max(mean, 0.0))
    return Estimate(root, se / (2 * root) if root > 0 else math.inf, samples)

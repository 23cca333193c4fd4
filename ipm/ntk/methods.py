"""Which NTK algorithm to use, and what each one costs.

Notation: N1, N2 particles, D output dimension (a generated sample flattened), P parameters,
L layers of width n, "fwd"/"bwd" one forward/backward pass of one sample.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["NTKKind", "NTKMethod"]


class NTKMethod(str, Enum):
    """Algorithm for the empirical NTK k_θ(z, z') = ∇_θ g_θ(z)^T ∇_θ g_θ(z') (Eq. 12).

    ``JACOBIAN_CONTRACTION``
        Per-sample Jacobians ∂g(z)/∂θ by ``vmap(jacrev)``, then contracted over parameters.
        Time O((N1 + N2)·D·bwd + N1·N2·D²·P) and memory O((N1 + N2)·D·P) while all per-sample
        Jacobians fit in ``ipm.ntk._functional.JACOBIAN_CACHE_BYTES`` (4 GiB): each is computed
        once, a chunk at a time, and contracted once. Beyond it, memory O(chunk·D·P): the
        second set's chunks are recomputed for every chunk of the first. Best for generic
        modules with small D·P.
    ``NTK_VECTOR_PRODUCTS``
        For each pair (z, z') and basis vector e_d: one vjp at z' then one jvp at z
        (J(z) J(z')^T e_d); no Jacobian is stored. Time O(N1·N2·D·(fwd + bwd)), memory
        O(chunk² · D · activations). Preferable when a per-sample Jacobian does not fit.
    ``STRUCTURED``
        Layer-wise factorisation for MLPs made of ``Linear`` layers and element-wise
        activations: K_l(z, z') = (s_w²⟨a_{l−1}(z), a_{l−1}(z')⟩ + s_b²)·δ_l(z) δ_l(z')^T,
        with a_{l−1} the layer's input and δ_l = ∂g/∂(layer output) (D × n_l). No per-sample
        parameter Jacobian ever exists. Time O(N·D·Σ n_l n_{l−1} + N1·N2·D²·Σ n_l), memory
        O(N·D·Σ n_l) plus one bounded block of the result. Raises if a module is unsupported.
    ``AUTO``
        ``STRUCTURED`` when the model is supported, else ``JACOBIAN_CONTRACTION`` when a
        chunk of per-sample Jacobians fits the memory budget, else ``NTK_VECTOR_PRODUCTS``.
    """

    JACOBIAN_CONTRACTION = "jacobian_contraction"
    NTK_VECTOR_PRODUCTS = "ntk_vector_products"
    STRUCTURED = "structured"
    AUTO = "auto"


class NTKKind(str, Enum):
    """Which part of the NTK to return.

    ``FULL``: every D×D block, shape (N1, N2, D, D).
    ``TRACE``: Σ_d K_dd, the scalar (trace) NTK, shape (N1, N2).
    ``DIAGONAL``: the diagonal blocks K(z_i, z_i), shape (N, D, D).
    """

    FULL = "full"
    TRACE = "trace"
    DIAGONAL = "diagonal"

"""The exact empirical Neural Tangent Kernel of a generator (Eq. 12–14).

``empirical_ntk``  full D×D blocks, trace NTK or diagonal blocks, by a chosen :class:`NTKMethod`;
``ntk_operator``   the matrix-free A_θ(V) of Eq. 14.
``ntk_eigs``       the top eigenpairs of the NTK's Gram through the operator; Hutchinson
                   estimates of its trace and Frobenius norm (:mod:`ipm.ntk.spectral`).
``kernel_alignment``, ``followable_share``, ``effective_rank``, ``participation_ratio``
                   what the spectrum says about the fields a generator can follow
                   (:mod:`ipm.ntk.measures`).
"""

from __future__ import annotations

from ._structured import StructuredUnsupported, supports_structured
from .kernel import as_gram, empirical_ntk, ntk_diagonal, ntk_trace
from .measures import effective_rank, followable_share, kernel_alignment, participation_ratio
from .methods import NTKKind, NTKMethod
from .operator import ntk_operator
from .spectral import (
    Estimate,
    NTKEigs,
    gram_eigs,
    gram_operator,
    ntk_eigs,
    ntk_frobenius_estimate,
    ntk_trace_estimate,
)

__all__ = [
    "Estimate",
    "NTKEigs",
    "NTKKind",
    "NTKMethod",
    "StructuredUnsupported",
    "as_gram",
    "effective_rank",
    "empirical_ntk",
    "followable_share",
    "gram_eigs",
    "gram_operator",
    "kernel_alignment",
    "ntk_diagonal",
    "ntk_eigs",
    "ntk_frobenius_estimate",
    "ntk_operator",
    "ntk_trace",
    "ntk_trace_estimate",
    "participation_ratio",
    "supports_structured",
]

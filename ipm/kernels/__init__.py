"""Kernels on data space (radial, identity, learned features), chunked kernel sums; the
generator NTK lives in :mod:`ipm.ntk`."""

from .base import IMQ, RBF, Identity, Kernel, Laplace, RadialKernel
from .features import FeatureKernel
from .sums import DEFAULT_BLOCK_BYTES, auto_chunk_size, softmax_weighted_mean, sq_dists

__all__ = [
    "DEFAULT_BLOCK_BYTES",
    "FeatureKernel",
    "IMQ",
    "RBF",
    "Identity",
    "Kernel",
    "Laplace",
    "RadialKernel",
    "auto_chunk_size",
    "softmax_weighted_mean",
    "sq_dists",
]

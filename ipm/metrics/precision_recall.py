"""Improved precision and recall (Kynkäänniemi et al., 2019) on k-NN feature manifolds.

The manifold of a feature set is the union of balls around its points, each of radius the
distance to the point's k-th nearest neighbour within the set. Precision is the fraction of
generated features inside the real manifold (are samples realistic?); recall is the fraction
of real features inside the generated manifold (is the data covered?).

Distances are computed in row blocks, so no N × M matrix larger than ``block`` × M is held.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .._checks import check_particles, check_positive_int

__all__ = ["PrecisionRecall", "knn_radii", "precision_recall"]


@dataclass(frozen=True)
class PrecisionRecall:
    precision: float
    recall: float
    k: int


def knn_radii(x: Tensor, k: int = 3, block: int = 1024) -> Tensor:
    """Distance from each row of x (N, D) to its k-th nearest other row: (N,)."""
    x = check_particles(x, "x").double()
    k = check_positive_int(k, "k")
    if x.shape[0] <= k:
        raise ValueError(f"knn_radii: need more than k={k} points, got {x.shape[0]}")
    out = []
    for s in range(0, x.shape[0], block):
        d = torch.cdist(x[s : s + block], x)
        # the k+1 smallest include the point itself at distance 0
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(out)


def _inside(query: Tensor, centres: Tensor, radii: Tensor, block: int) -> Tensor:
    hits = []
    for s in range(0, query.shape[0], block):
        d = torch.cdist(query[s : s + block], centres)
        hits.append((d <= radii[None, :]).any(1))
    return torch.cat(hits)


def precision_recall(real: Tensor, fake: Tensor, k: int = 3, block: int = 1024) -> PrecisionRecall:
    """Precision and recall of ``fake`` features against ``real`` features (k-NN manifolds)."""
    real = check_particles(real, "real").double()
    fake = check_particles(fake, "fake", real.shape[1]).to(real)
    p = _inside(fake, real, knn_radii(real, k, block), block).double().mean()
    r = _inside(real, fake, knn_radii(fake, k, block), block).double().mean()
    return PrecisionRecall(float(p), float(r), k)

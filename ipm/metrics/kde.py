"""Gaussian-KDE log-likelihood of held-out data under generated samples (for 2-D data).

log p̂(y) = logsumexp_i [−‖y − x_i‖²/(2h²)] − log N − (D/2) log(2πh²), averaged over held-out
points y. The bandwidth h is the one among ``bandwidths`` that maximises the likelihood of a
held-out half of the *samples* under a KDE on the other half (no test data is used to choose
it). Higher is better; the log-likelihood of the data under its own law is the ceiling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .._checks import check_particles, check_positive

__all__ = ["kde_log_likelihood", "select_bandwidth"]


def _mean_log_density(y: Tensor, x: Tensor, h: float, block: int) -> float:
    d = x.shape[1]
    total = 0.0
    for s in range(0, y.shape[0], block):
        sq = torch.cdist(y[s : s + block], x).square()
        total += float(torch.logsumexp(-sq / (2 * h * h), dim=1).sum())
    norm = math.log(x.shape[0]) + 0.5 * d * math.log(2 * math.pi * h * h)
    return total / y.shape[0] - norm


def select_bandwidth(samples: Tensor, bandwidths: Sequence[float], block: int = 2048) -> float:
    """The bandwidth maximising the KDE likelihood of one half of ``samples`` under the other."""
    x = check_particles(samples, "samples").double()
    if x.shape[0] < 4:
        raise ValueError(f"select_bandwidth: need ≥ 4 samples, got {x.shape[0]}")
    if not bandwidths:
        raise ValueError("select_bandwidth: bandwidths is empty")
    half = x.shape[0] // 2
    scores = [
        _mean_log_density(x[half:], x[:half], check_positive(h, "bandwidth"), block)
        for h in bandwidths
    ]
    return float(bandwidths[max(range(len(scores)), key=scores.__getitem__)])


def kde_log_likelihood(
    samples: Tensor,
    held_out: Tensor,
    bandwidth: float | None = None,
    *,
    bandwidths: Sequence[float] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0),
    block: int = 2048,
) -> tuple[float, float]:
    """(mean log-likelihood of ``held_out`` under a Gaussian KDE of ``samples``, bandwidth)."""
    x = check_particles(samples, "samples").double()
    y = check_particles(held_out, "held_out", x.shape[1]).to(x)
    h = select_bandwidth(x, bandwidths, block) if bandwidth is None else bandwidth
    return _mean_log_density(y, x, check_positive(h, "bandwidth"), block), float(h)

"""Sample-quality metrics for low-dimensional data (the 2-D Gaussians benchmark).

- :func:`wasserstein2`: exact W2 between two empirical laws (optimal transport by POT's network
  simplex, squared Euclidean cost).
- :func:`mmd2_gaussian`: unbiased squared MMD with the Gaussian kernel exp(−‖x − y‖²/(2h²)).
- :func:`mode_coverage`: for a mixture with known means and a common std, the modes holding at
  least ``min_fraction`` of the samples within ``n_std`` std, and the fraction of samples farther
  than ``n_std`` std from every mode.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor

from .._checks import check_particles, check_positive, check_positive_int
from ..flows.mmd import mmd2
from ..kernels import RBF

__all__ = ["SampleMetrics", "evaluate_samples", "mmd2_gaussian", "mode_coverage", "wasserstein2"]


def wasserstein2(x: Tensor, y: Tensor) -> float:
    """Exact W2 = (min_π Σ π_ij ‖x_i − y_j‖²)^{1/2} between uniform empirical laws (POT ``emd2``)."""
    import ot

    x = check_particles(x, "x")
    y = check_particles(y, "y", x.shape[1])
    xa = x.detach().double().cpu().numpy()
    ya = y.detach().double().cpu().numpy()
    cost = ot.dist(xa, ya, metric="sqeuclidean")
    a = np.full(len(xa), 1.0 / len(xa))
    b = np.full(len(ya), 1.0 / len(ya))
    return float(np.sqrt(max(ot.emd2(a, b, cost, numItermax=10_000_000), 0.0)))


def mmd2_gaussian(x: Tensor, y: Tensor, bandwidth: float = 1.0) -> float:
    """Unbiased MMD² with k(x, y) = exp(−‖x − y‖²/(2 h²)); mean 0 for equal laws."""
    check_positive(bandwidth, "bandwidth")
    x = check_particles(x, "x").double()
    y = check_particles(y, "y", x.shape[1]).to(x)
    return float(mmd2(x, y, RBF(bandwidth, normalized=False), unbiased=True))


def mode_coverage(
    x: Tensor, means: Tensor, std: float, *, n_std: float = 3.0, min_fraction: float = 0.01
) -> tuple[int, float]:
    """(modes covered, off-mode fraction) of samples x against modes ``means`` (K, D).

    A sample is on mode k when ‖x − μ_k‖ ≤ n_std · std; a mode is covered when at least
    ``min_fraction`` of the samples are on it.
    """
    x = check_particles(x, "x")
    means = check_particles(means, "means", x.shape[1]).to(x)
    check_positive(std, "std")
    d = torch.cdist(x, means)  # (N, K)
    on = d <= n_std * std
    frac = on.to(torch.float64).mean(0)
    covered = int((frac >= min_fraction).sum())
    off = float((~on.any(1)).to(torch.float64).mean())
    return covered, off


@dataclass(frozen=True)
class SampleMetrics:
    """What ``ipm evaluate`` reports on the Gaussians (the metrics of the paper's official
    implementation for its 2-D experiments)."""

    w2: float
    w2_std: float
    mmd2: float
    modes_covered: int
    n_modes: int
    off_mode_fraction: float
    # mean log-likelihood (nats) of the held-out reference under a Gaussian KDE of the samples,
    # its bandwidth (chosen on the samples alone), and the ceiling E log p_data(reference)
    kde_log_likelihood: float = float("nan")
    kde_bandwidth: float = float("nan")
    data_log_likelihood: float = float("nan")

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate_samples(
    samples: Tensor,
    reference: Tensor,
    means: Tensor,
    std: float,
    *,
    w2_n: int = 2000,
    w2_draws: int = 5,
    bandwidth: float = 1.0,
    generator: torch.Generator | None = None,
    log_prob=None,
) -> SampleMetrics:
    """Metrics of ``samples`` against fresh ``reference`` data of the same size.

    W2 is the mean ± std over ``w2_draws`` random subsets of ``w2_n`` points from each set
    (exact OT is cubic in n); MMD², mode coverage and the KDE log-likelihood of the reference
    (:mod:`.kde`; with ``log_prob``, the data law's exact log-density, also its ceiling) use all
    points.
    """
    samples = check_particles(samples, "samples")
    reference = check_particles(reference, "reference", samples.shape[1])
    check_positive_int(w2_n, "w2_n")
    check_positive_int(w2_draws, "w2_draws")
    n = min(w2_n, samples.shape[0], reference.shape[0])
    w2s = []
    for _ in range(w2_draws):
        i = torch.randperm(samples.shape[0], generator=generator)[:n]
        j = torch.randperm(reference.shape[0], generator=generator)[:n]
        w2s.append(wasserstein2(samples[i], reference[j]))
    covered, off = mode_coverage(samples, means, std)
    from .kde import kde_log_likelihood

    kde_ll, h = kde_log_likelihood(samples, reference)
    data_ll = float(log_prob(reference).double().mean()) if log_prob is not None else float("nan")
    return SampleMetrics(
        w2=float(np.mean(w2s)),
        w2_std=float(np.std(w2s)),
        mmd2=mmd2_gaussian(samples, reference, bandwidth),
        modes_covered=covered,
        n_modes=int(means.shape[0]),
        off_mode_fraction=off,
        kde_log_likelihood=kde_ll,
        kde_bandwidth=h,
        data_log_likelihood=data_ll,
    )

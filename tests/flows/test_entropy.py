"""The entropy flow and the kernel-density score (:mod:`ipm.flows.entropy`)."""

import torch

from ipm.distributions import Gaussian
from ipm.flows import (
    Entropy,
    ExactScore,
    KernelDensityScore,
)
from tests.helpers import DT


def test_entropy_and_kde_score():
    rho = Gaussian(torch.zeros(2, dtype=DT), 2.0)
    x = torch.randn(5, 2, dtype=DT)
    torch.testing.assert_close(Entropy(ExactScore(rho)).field(x), -rho.score(x))
    # a KDE of many particles approaches the true score of rho smoothed by the bandwidth
    # (evaluated in the bulk, |x| <~ 1 std, where the Monte-Carlo error is small)
    pts = rho.sample(100_000, generator=torch.Generator().manual_seed(1))
    xc = 0.5 * x
    est = KernelDensityScore(0.5)(xc, particles=pts)
    torch.testing.assert_close(est, rho.score(xc, 0.5), atol=0.04, rtol=0)
    assert (est - rho.score(xc, 0.0)).abs().max() > 0  # the smoothing is part of the estimate

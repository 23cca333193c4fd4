"""The KDE log-likelihood (:mod:`ipm.metrics.kde`)."""

from __future__ import annotations

import math

import pytest
import torch

from ipm.metrics import (
    kde_log_likelihood,
)


def test_kde_log_likelihood_of_a_gaussian():
    """Held-out N(0, I₂) under a KDE of N(0, I₂) samples: close to E log p = −(log 2π + 1)."""
    g = torch.Generator().manual_seed(0)
    ll, h = kde_log_likelihood(torch.randn(4000, 2, generator=g), torch.randn(2000, 2, generator=g))
    assert ll == pytest.approx(-(math.log(2 * math.pi) + 1), abs=0.08)
    assert 0.1 <= h <= 0.5
    worse, _ = kde_log_likelihood(
        torch.randn(4000, 2, generator=g) + 2, torch.randn(2000, 2, generator=g), bandwidth=h
    )
    assert worse < ll - 1

"""KID with the cubic polynomial kernel (:mod:`ipm.metrics.kid`)."""

from __future__ import annotations

import pytest
import torch

from ipm.metrics import (
    kid,
    polynomial_mmd2_unbiased,
)


def test_polynomial_mmd_matches_explicit_sums():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(7, 3, generator=g, dtype=torch.float64)
    y = torch.randn(5, 3, generator=g, dtype=torch.float64) + 1

    def k(a, b):
        return (float(a @ b) / 3 + 1) ** 3

    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    assert float(polynomial_mmd2_unbiased(x, y)) == pytest.approx(sxx + syy - 2 * sxy, rel=1e-10)


def test_kid_near_zero_for_equal_laws_and_positive_for_shifted():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(2000, 16, generator=g), torch.randn(2000, 16, generator=g)
    same = kid(x, y, subsets=20, subset_size=500, generator=g)
    shifted = kid(x, y + 0.5, subsets=20, subset_size=500, generator=g)
    assert abs(same.mean) < 3 * same.std + 1e-3
    assert shifted.mean > 20 * max(abs(same.mean), same.std)

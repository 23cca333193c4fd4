"""The Fréchet distance (:mod:`ipm.metrics.frechet`): scipy's sqrtm, closed forms, streamed moments."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ipm.metrics import (
    FeatureStats,
    GaussianFit,
    frechet_distance,
)


def _fit(x: np.ndarray) -> GaussianFit:
    return GaussianFit(x.mean(0), np.cov(x, rowvar=False), x.shape[0])


def _scipy_fd(a: GaussianFit, b: GaussianFit) -> float:
    covmean = scipy.linalg.sqrtm(a.cov @ b.cov)
    d = a.mean - b.mean
    return float(d @ d + np.trace(a.cov) + np.trace(b.cov) - 2 * np.trace(covmean).real)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_matches_scipy_sqrtm(seed):
    rng = np.random.default_rng(seed)
    d = 24
    x = rng.normal(size=(300, d)) @ rng.normal(size=(d, d)) + rng.normal(size=d)
    y = rng.normal(size=(400, d)) @ rng.normal(size=(d, d)) * 0.7
    a, b = _fit(x), _fit(y)
    ours, ref = frechet_distance(a, b), _scipy_fd(a, b)
    assert abs(ours - ref) <= 1e-6 * abs(ref)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 12), st.integers(3, 60))
def test_frechet_zero_on_itself_and_symmetric(seed, d, n):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.1, 3.0, size=d)
    y = rng.normal(size=(n + 5, d)) + 0.5
    a, b = _fit(x), _fit(y)
    scale = np.trace(a.cov) + np.trace(b.cov) + 1.0
    assert frechet_distance(a, a) <= 1e-9 * scale  # includes n < d: singular covariances
    # √ of round-off-sized eigenvalues (singular Σ when n ≤ d) limits symmetry to ~√ε relative
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    assert frechet_distance(a, b) > 0


def test_frechet_of_gaussians_closed_form():
    """Equal isotropic covariances: FD² = ‖μ₁ − μ₂‖² exactly."""
    a = GaussianFit(np.zeros(3), 2.0 * np.eye(3), 10)
    b = GaussianFit(np.array([1.0, 2.0, 2.0]), 2.0 * np.eye(3), 10)
    assert frechet_distance(a, b) == pytest.approx(9.0, abs=1e-12)
    c = GaussianFit(np.zeros(3), 8.0 * np.eye(3), 10)  # (√8 − √2)² · 3 = 6
    assert frechet_distance(a, c) == pytest.approx(6.0, abs=1e-12)


def test_frechet_rejects_mismatched_feature_spaces():
    with pytest.raises(ValueError, match="different feature spaces"):
        frechet_distance(
            GaussianFit(np.zeros(2), np.eye(2), 3), GaussianFit(np.zeros(3), np.eye(3), 3)
        )


def test_streaming_stats_equal_batch_moments_despite_large_offset(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 6)) * 1e-3 + 1e4  # a large mean, a tiny spread
    s = FeatureStats(6)
    for chunk in np.array_split(x, 7):
        s.update(torch.from_numpy(chunk))
    fit = s.fit()
    np.testing.assert_allclose(fit.mean, x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(fit.cov, np.cov(x, rowvar=False), rtol=1e-6, atol=1e-14)
    fit.save(tmp_path / "ref.npz")
    back = GaussianFit.load(tmp_path / "ref.npz")
    assert back.n == 1000 and np.array_equal(back.cov, fit.cov)
    with pytest.raises(ValueError, match="dimension D=6"):
        s.update(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="NaN"):
        s.update(torch.full((2, 6), float("nan")))


@pytest.mark.parametrize("d,n", [(64, 16), (128, 40)])
def test_rank_deficient_covariances_add_no_square_roots_of_round_off(d, n):
    # fewer samples than features: Σ = A Aᵀ/(n−1) of rank n − 1, and the nonzero eigenvalues of
    # Σ_a Σ_b are the squared singular values of Aᵀ B/(n−1), so tr (Σ_a Σ_b)^{1/2} is its nuclear
    # norm, an n×n computation with no null space. Square roots of the d − n + 1 round-off
    # eigenvalues put a relative error of about 1e-8 into FD²; taken as 0, round-off remains.
    rng = np.random.default_rng(0)
    fa, fb = rng.normal(size=(n, d)), 1.3 * rng.normal(size=(n, d)) + 0.3
    a, b = (GaussianFit(f.mean(0), np.cov(f, rowvar=False), n) for f in (fa, fb))
    ca, cb = fa - fa.mean(0), fb - fb.mean(0)
    cross = np.linalg.svd(ca @ cb.T, compute_uv=False).sum() / (n - 1)
    want = ((a.mean - b.mean) ** 2).sum() + np.trace(a.cov) + np.trace(b.cov) - 2 * cross
    assert abs(frechet_distance(a, b) - want) <= 1e-13 * want
    assert frechet_distance(a, a) <= 1e-12 * np.trace(a.cov)

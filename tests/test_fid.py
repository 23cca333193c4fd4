"""Feature-space metrics: Fréchet distance, streaming statistics, KID, precision/recall, KDE,
and the two feature extractors (FID-InceptionV3 from a file, the shipped MNIST classifier)."""

from __future__ import annotations

import math
import sys
import types

import numpy as np
import pytest
import scipy.linalg
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ipm.metrics import (
    FeatureStats,
    GaussianFit,
    fid_from_features,
    frechet_distance,
    kde_log_likelihood,
    kid,
    knn_radii,
    polynomial_mmd2_unbiased,
    precision_recall,
)
from ipm.metrics.features import feature_space, feature_stats
from ipm.metrics.inception import (
    INCEPTION_ENV,
    INCEPTION_FILE,
    FIDInceptionV3,
    InceptionWeightsError,
    load_fid_inception,
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


def test_precision_recall_cases():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(500, 4, generator=g)
    pr = precision_recall(real, real.clone())
    assert (pr.precision, pr.recall) == (1.0, 1.0)
    far = precision_recall(real, torch.randn(500, 4, generator=g) + 100)
    assert (far.precision, far.recall) == (0.0, 0.0)
    # fakes on one half-space of the reals: precise, but they cover only about half the data
    half = real[real[:, 0] > 0]
    pr = precision_recall(real, half)
    assert pr.precision == 1.0 and 0.3 < pr.recall < 0.7
    r = knn_radii(torch.tensor([[0.0], [1.0], [3.0]]), k=1)
    assert r.tolist() == [1.0, 1.0, 2.0]


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


def test_fid_from_features_detects_a_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 8, generator=g)
    assert fid_from_features(x, torch.randn(3000, 8, generator=g)) < 0.05
    assert fid_from_features(x, torch.randn(3000, 8, generator=g) + 1) == pytest.approx(8, rel=0.05)


# --- FID-InceptionV3 from a local file --------------------------------------------------------


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    torch.manual_seed(0)
    net = FIDInceptionV3()
    path = tmp_path_factory.mktemp("inc") / INCEPTION_FILE
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, path)  # like the 2015 port: no BatchNorm step counters
    return path


def test_inception_loads_from_path_and_gives_pool_features(inception_file, monkeypatch):
    net = load_fid_inception(inception_file)
    imgs = torch.rand(2, 3, 32, 32) * 2 - 1
    f = net(imgs)
    assert f.shape == (2, 2048) and torch.isfinite(f).all()
    assert (f >= 0).all()  # average of ReLU outputs
    # the folder holding the file, and the environment variable, give the same network
    monkeypatch.setenv(INCEPTION_ENV, str(inception_file.parent))
    torch.testing.assert_close(load_fid_inception()(imgs), f)
    space = feature_space("inception", inception_file)
    grey = space(imgs[:, :1])
    assert grey.shape == (2, 2048)
    torch.testing.assert_close(grey, net(imgs[:, :1].expand(-1, 3, -1, -1)))


def test_inception_missing_file_raises_documented_error(tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    with pytest.raises(InceptionWeightsError, match=INCEPTION_ENV):
        load_fid_inception()
    missing = tmp_path / "nowhere" / INCEPTION_FILE
    with pytest.raises(InceptionWeightsError, match=str(missing).replace("\\", "\\\\")) as e:
        load_fid_inception(missing)
    assert "never downloaded" in str(e.value)
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(RuntimeError, match="does not match FID-InceptionV3"):
        load_fid_inception(bad)
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(InceptionWeightsError, match="cannot read"):
        load_fid_inception(tmp_path / "junk.pth")


def test_torch_fidelity_space_contract(monkeypatch, tmp_path):
    """Without the extra, a clear ImportError; with it, uint8 RGB goes in, 2048-d comes out."""
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)
    with pytest.raises(ImportError, match=r"ipm\[fid\]"):
        feature_space("torch-fidelity", tmp_path / "w.pth")
    seen = {}

    class FakeExtractor(torch.nn.Module):
        def __init__(self, name, features, feature_extractor_weights_path):
            super().__init__()
            seen["args"] = (name, tuple(features), feature_extractor_weights_path)

        def forward(self, x):
            seen["input"] = x
            return (x.float().mean((2, 3)).repeat(1, 683)[:, :2048],)

    mod = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    mod.FeatureExtractorInceptionV3 = FakeExtractor
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", mod)
    w = tmp_path / "w.pth"
    w.write_bytes(b"x")
    space = feature_space("torch-fidelity", w)
    f = space(torch.tensor([-1.0, 1.0]).view(2, 1, 1, 1).expand(2, 1, 4, 4))
    assert seen["args"] == ("inception-v3-compat", ("2048",), str(w))
    assert seen["input"].dtype == torch.uint8 and seen["input"].shape == (2, 3, 4, 4)
    assert seen["input"][0].max() == 0 and seen["input"][1].min() == 255
    assert f.shape == (2, 2048)


def test_feature_space_rejects_unknown_name():
    with pytest.raises(ValueError, match="'vgg'"):
        feature_space("vgg")


def test_feature_stats_streams_batches_and_keeps_rows():
    space = feature_space("classifier")
    g = torch.Generator().manual_seed(0)
    batches = [torch.rand(5, 1, 32, 32, generator=g) * 2 - 1 for _ in range(3)]
    stats, kept = feature_stats(space, iter(batches), keep=7)
    allf = space(torch.cat(batches)).double()
    assert stats.n == 15 and kept.shape == (7, 128)
    np.testing.assert_allclose(stats.fit().mean, allf.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        space(torch.full((1, 1, 32, 32), float("nan")))

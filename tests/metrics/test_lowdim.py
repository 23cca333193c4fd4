"""2-D metrics (:mod:`ipm.metrics.lowdim`): exact W2, unbiased MMD², mode coverage."""

import pytest
import torch

from ipm.distributions import five_gaussians
from ipm.metrics import evaluate_samples, mmd2_gaussian, mode_coverage, wasserstein2


def test_w2_of_a_translation_is_the_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 2, generator=g, dtype=torch.float64)
    c = torch.tensor([0.3, -0.4], dtype=torch.float64)
    assert wasserstein2(x, x) < 1e-7  # sqrt of a rounding-level cost
    assert abs(wasserstein2(x, x + c) - 0.5) < 1e-9  # W2(μ, μ(· − c)) = |c|


def test_mmd2_unbiased_is_centred_for_equal_laws_and_large_for_different():
    p = five_gaussians()
    g = torch.Generator().manual_seed(1)
    same = [
        mmd2_gaussian(p.sample(500, generator=g), p.sample(500, generator=g)) for _ in range(20)
    ]
    mean = sum(same) / len(same)
    assert abs(mean) < 5e-4
    far = mmd2_gaussian(p.sample(500, generator=g), torch.randn(500, 2, generator=g))
    assert far > 50 * max(abs(s) for s in same)


def test_mode_coverage_counts_modes_and_off_mode_points():
    p = five_gaussians()
    means = p.means
    x = torch.cat([means[:3].repeat_interleave(10, 0), torch.tensor([[0.0, 0.0]] * 10)])
    covered, off = mode_coverage(x, means, 0.5)
    assert covered == 3
    assert abs(off - 10 / 40) < 1e-12
    m = evaluate_samples(p.sample(2000), p.sample(2000), means, 0.5, w2_n=300, w2_draws=2)
    assert m.modes_covered == 5 and m.off_mode_fraction < 0.02 and m.w2 < 0.6


def test_kde_log_likelihood_in_evaluate_samples_approaches_the_ceiling():
    """Samples from the data law: the KDE log-likelihood of held-out data is near the exact
    E log p (the ceiling); samples on only two modes score far lower."""
    p = five_gaussians()
    g = torch.Generator().manual_seed(0)
    ref = p.sample(3000, generator=g)
    good = evaluate_samples(
        p.sample(3000, generator=g), ref, p.means, 0.5, w2_n=200, w2_draws=1, log_prob=p.log_prob
    )
    assert good.data_log_likelihood == pytest.approx(float(p.log_prob(ref).double().mean()))
    assert (
        good.data_log_likelihood - 0.2 < good.kde_log_likelihood < good.data_log_likelihood + 0.05
    )
    two = p.sample(3000, generator=g)
    two = two[torch.cdist(two, p.means).argmin(1) < 2]
    bad = evaluate_samples(two, ref, p.means, 0.5, w2_n=200, w2_draws=1, log_prob=p.log_prob)
    assert bad.kde_log_likelihood < good.kde_log_likelihood - 1

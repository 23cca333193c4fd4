"""The paper's 2-D data (:mod:`ipm.distributions.gaussians2d`): geometry and stratified sampling."""

import math

import torch

from ipm.distributions import GaussianMixture, five_gaussians


def test_five_gaussians_geometry():
    for radius in (3.0, 5.0):
        p = five_gaussians(radius=radius, dtype=torch.float64)
        assert p.n_components == 5
        torch.testing.assert_close(
            p.means.norm(dim=1), torch.full((5,), radius, dtype=torch.float64)
        )
        torch.testing.assert_close(p.covs, 0.25 * torch.eye(2, dtype=torch.float64).expand(5, 2, 2))
        angles = torch.atan2(p.means[:, 1], p.means[:, 0]) % (2 * math.pi)
        torch.testing.assert_close(
            angles.sort().values.diff(), torch.full((4,), 2 * math.pi / 5, dtype=torch.float64)
        )


def test_stratified_sampling_has_exact_component_counts():
    mix = GaussianMixture(
        torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64),
        torch.tensor([[-10.0, 0.0], [0.0, 0.0], [10.0, 0.0]], dtype=torch.float64),
        0.01 * torch.eye(2, dtype=torch.float64).expand(3, 2, 2).clone(),
    )
    x = mix.sample(101, stratified=True, generator=torch.Generator().manual_seed(0))
    counts = [
        (x[:, 0] < -5).sum().item(),
        (x[:, 0].abs() < 5).sum().item(),
        (x[:, 0] > 5).sum().item(),
    ]
    assert counts == [20, 51, 30]  # 20.2, 50.5, 30.3 by largest remainder

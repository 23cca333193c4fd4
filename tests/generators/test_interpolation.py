"""Latent interpolations (Appendix C.3): endpoints, and the prior's law along the path."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ipm.generators.interpolation import INTERPOLATIONS, interpolate


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(INTERPOLATIONS), st.integers(2, 40), st.integers(0, 1000))
def test_endpoints_are_the_latents(method, d, seed):
    g = torch.Generator().manual_seed(seed)
    z0, z1 = (
        torch.randn(3, d, generator=g, dtype=torch.float64),
        torch.randn(3, d, generator=g, dtype=torch.float64),
    )
    path = interpolate(z0, z1, torch.linspace(0, 1, 5, dtype=torch.float64), method)
    assert path.shape == (3, 5, d)
    torch.testing.assert_close(path[:, 0], z0, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(path[:, -1], z1, atol=1e-5, rtol=1e-5)


def test_midpoint_laws():
    """Linear midpoints shrink by √2 in std; Cauchy-linear keeps N(0, 1) coordinates;
    spherical Cauchy-linear keeps χ_D norms."""
    g = torch.Generator().manual_seed(0)
    d, n = 64, 4000
    z0, z1 = (
        torch.randn(n, d, generator=g, dtype=torch.float64),
        torch.randn(n, d, generator=g, dtype=torch.float64),
    )
    half = torch.tensor([0.5], dtype=torch.float64)
    lin = interpolate(z0, z1, half, "linear")[:, 0]
    assert float(lin.std()) == pytest.approx(1 / math.sqrt(2), rel=0.02)
    cl = interpolate(z0, z1, half, "cauchy_linear")[:, 0]
    assert float(cl.std()) == pytest.approx(1.0, rel=0.02) and abs(float(cl.mean())) < 0.01
    scl = interpolate(z0, z1, half, "spherical_cauchy_linear")[:, 0]
    norms = scl.norm(dim=1)
    assert float(norms.mean()) == pytest.approx(float(z0.norm(dim=1).mean()), rel=0.01)
    assert float(norms.std()) == pytest.approx(float(z0.norm(dim=1).std()), rel=0.1)
    sph = interpolate(z0, z1, half, "spherical")[:, 0]
    torch.testing.assert_close(sph.norm(dim=1), (z0.norm(dim=1) + z1.norm(dim=1)) / 2)


def test_bad_arguments():
    z = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="method"):
        interpolate(z, z, torch.tensor([0.5]), "cubic")
    with pytest.raises(ValueError, match="times in"):
        interpolate(z, z, torch.tensor([1.5]))
    with pytest.raises(ValueError, match="equal shapes"):
        interpolate(z, torch.zeros(2, 4), torch.tensor([0.5]))

"""Score-based flows in σ-time (Eq. 7–9, 21) and the score difference (Eq. 19, 26–27;
:mod:`ipm.flows.score`)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import (
    EDMFamily,
    EDMFlow,
    EDMProbabilityFlow,
    ExactScore,
    Langevin,
    NCSNFlow,
    ScoreDifference,
)
from tests.helpers import DT


def test_score_flows_in_sigma_time():
    p = five_gaussians(dtype=DT)
    rho = Gaussian(torch.zeros(2, dtype=DT), 4.0)
    x = torch.randn(7, 2, dtype=DT)
    s = 0.8
    torch.testing.assert_close(EDMProbabilityFlow(p).field(x, s), -s * p.score(x, s))
    torch.testing.assert_close(
        EDMFlow(p, ExactScore(rho)).field(x, s), -s * (2 * p.score(x, s) - rho.score(x))
    )
    for a in (0.0, 0.5, 1.0):
        fam = EDMFamily(p, a, ExactScore(rho))
        torch.testing.assert_close(
            fam.field(x, s), -s * (2 * p.score(x, s) - (1 - a) * rho.score(x))
        )
        assert fam.diffusion(s) == pytest.approx((2 * a * s) ** 0.5)
        # the deterministic velocity b − (g²/2)∇log ρ is the same for every α (Fokker–Planck)
        det = fam.field(x, s) + 0.5 * fam.diffusion(s) ** 2 * rho.score(x)
        torch.testing.assert_close(det, EDMFlow(p, ExactScore(rho)).field(x, s))
    assert not EDMFlow(p).stochastic and EDMFamily(p, 1.0).stochastic
    torch.testing.assert_close(
        NCSNFlow(p, 0.5, ExactScore(rho)).field(x, 3.0), p.score(x, 0.5) - rho.score(x)
    )
    lang = Langevin(p, lambda t: 1.0 / (1 + t))
    torch.testing.assert_close(lang.field(x, 1.0), p.score(x, 0.5))
    assert lang.diffusion(0.0) == pytest.approx(2**0.5)


@given(
    seed=st.integers(0, 1000),
    sigma=st.floats(0.1, 3.0),
    mu_p=st.floats(0.0, 2.0),
    mu_r=st.floats(0.0, 2.0),
)
def test_score_difference(seed, sigma, mu_p, mu_r):
    p = five_gaussians(dtype=DT)
    g = torch.Generator().manual_seed(seed)
    pts = torch.randn(20, 2, generator=g, dtype=DT)
    x = torch.randn(4, 2, generator=g, dtype=DT)
    from ipm.distributions import Empirical

    flow = ScoreDifference(p, mu_p=mu_p, mu_rho=mu_r)
    ref = mu_p * p.score(x, sigma) - mu_r * Empirical(pts).score(x, sigma)
    torch.testing.assert_close(flow.field(x, sigma, particles=pts), ref, rtol=1e-10, atol=1e-12)


def test_score_difference_takes_one_sigma_per_particle():
    """With t of shape (N,), each row is the score difference at its own σ (Eq. 27's draws)."""
    p = five_gaussians().to(DT)
    g = torch.Generator().manual_seed(0)
    x = 2 * torch.randn(5, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0], dtype=DT)
    q = Gaussian(torch.zeros(2, dtype=DT), 1.5)
    flow = ScoreDifference(ExactScore(p), ExactScore(q), mu_p=1.5, mu_rho=0.5)
    rows = torch.cat([flow.field(x[i : i + 1], float(sigma[i])) for i in range(5)])
    torch.testing.assert_close(flow.field(x, sigma), rows)
    with pytest.raises(ValueError, match="sigma"):
        flow.field(x, -sigma)


def test_noised_field_is_the_flow_at_noised_points_times_a_power_of_sigma():
    from ipm.flows import NoisedField

    p = five_gaussians().to(DT)
    g = torch.Generator().manual_seed(1)
    x, eps = torch.randn(4, 2, generator=g, dtype=DT), torch.randn(4, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.2, 0.5, 1.0, 3.0], dtype=DT)
    flow = ScoreDifference(ExactScore(p), ExactScore(Gaussian(torch.zeros(2, dtype=DT), 1.0)))
    xt = x + sigma[:, None] * eps
    for k in (1, 2):
        want = sigma[:, None] ** k * flow.field(xt, sigma)
        torch.testing.assert_close(NoisedField(flow, sigma, eps, power=k).field(x), want)


def test_edm_flows_take_one_sigma_per_particle():
    """In σ-time a per-particle σ scales each particle's row (the probability-flow ODE and the
    α-family's drift); the SDE's diffusion needs one σ."""
    from ipm.flows import EDMFamily, EDMProbabilityFlow, ExactScore

    p = five_gaussians().to(DT)
    x = torch.randn(4, 2, generator=torch.Generator().manual_seed(4), dtype=DT)
    sigma = torch.tensor([0.3, 1.0, 2.0, 5.0], dtype=DT)
    for flow in (EDMProbabilityFlow(ExactScore(p)), EDMFamily(ExactScore(p), 1.0)):
        rows = torch.cat([flow.field(x[i : i + 1], float(sigma[i])) for i in range(4)])
        torch.testing.assert_close(flow.field(x, sigma), rows)
    with pytest.raises(ValueError, match="one σ"):
        EDMFamily(ExactScore(p), 1.0).diffusion(sigma)

"""Forward-KL and f-divergence flows (Table 2, :mod:`ipm.flows.kl`)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.distributions import Gaussian
from ipm.flows import (
    ExactScore,
    FDivergence,
    ForwardKL,
    analytic_log_ratio,
)
from tests.helpers import DT


def gaussians(seed, d):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=DT)
    p = Gaussian(torch.randn(d, generator=g, dtype=DT), a @ a.T / d + 0.5 * torch.eye(d, dtype=DT))
    rho = Gaussian(
        torch.randn(d, generator=g, dtype=DT), torch.rand(d, generator=g, dtype=DT) + 0.3
    )
    return p, rho


def autograd_field(h, x):
    xg = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(h(xg).sum(), xg)
    return g


@given(d=st.integers(1, 4), seed=st.integers(0, 1000))
def test_forward_kl_is_gradient_of_log_ratio(d, seed):
    p, rho = gaussians(seed, d)
    x = torch.randn(6, d, dtype=DT)
    flow = ForwardKL(p, ExactScore(rho))
    ref = autograd_field(lambda xx: p.log_prob(xx) - rho.log_prob(xx), x)
    torch.testing.assert_close(flow.field(x), ref, rtol=1e-10, atol=1e-12)
    # the f-divergence form with f(r) = r log r gives the same field (h = −log r − 1)
    fkl = FDivergence("kl", analytic_log_ratio(rho, p))
    torch.testing.assert_close(fkl.field(x), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kind, hfun",
    [
        ("reverse_kl", lambda lr: torch.exp(-lr)),
        ("js", lambda lr: -0.5 * torch.log(2 * torch.exp(lr) / (torch.exp(lr) + 1))),
        ("chi2", lambda lr: -2 * (torch.exp(lr) - 1)),
    ],
)
def test_f_divergence_fields_match_closed_form_h(kind, hfun):
    p, rho = gaussians(3, 2)
    x = torch.randn(8, 2, dtype=DT)
    flow = FDivergence(kind, analytic_log_ratio(rho, p))
    ref = autograd_field(lambda xx: hfun(rho.log_prob(xx) - p.log_prob(xx)), x)
    torch.testing.assert_close(flow.field(x), ref, rtol=1e-9, atol=1e-12)

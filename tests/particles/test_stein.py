"""Stein flows, SVGD and the frozen NTK (Eq. 17–18)."""

import torch

from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import ExactScore, ForwardKL, SquaredMMD
from ipm.generators import MLP
from ipm.kernels import RBF, Identity
from ipm.ntk import ntk_operator
from ipm.particles import FrozenNTK, SteinFlow, stein_field, svgd_field
from tests.helpers import DT


def test_stein_flow_identity_kernel_and_frozen_ntk():
    torch.manual_seed(0)
    p = five_gaussians(dtype=DT)
    flow = SquaredMMD(RBF(1.0), p.sample(100))
    x = torch.randn(12, 2, dtype=DT)
    # Identity kernel: the Stein flow is the plain field scaled by 1/N
    torch.testing.assert_close(SteinFlow(flow, Identity()).field(x), flow.field(x) / 12)
    # A frozen NTK kernel: the Stein field is the NTK operator applied to the field (Eq. 18)
    gen = MLP(3, 2, width=16, depth=2).to(DT)
    z = torch.randn(12, 3, dtype=DT)
    xz = gen(z).detach()
    frozen = FrozenNTK(gen, z)
    torch.testing.assert_close(
        stein_field(frozen, xz, flow.field(xz)), ntk_operator(gen, z, flow.field(xz), mean=True)
    )


def test_svgd_is_stein_flow_of_kl_in_expectation():
    # With ρ = N(0, I) known, E_ρ[k ∇log ρ] = −E_ρ[∇k]: SVGD equals the Stein flow of the
    # exact forward-KL field, up to Monte-Carlo error.
    torch.manual_seed(0)
    p = Gaussian(torch.tensor([1.0, -1.0], dtype=DT), 0.5)
    rho = Gaussian.standard(2, dtype=DT)
    pts = rho.sample(20_000)
    x = torch.randn(5, 2, dtype=DT)
    k = RBF(1.0)
    stein = stein_field(k, x, ForwardKL(p, ExactScore(rho)).field(pts), pts)
    torch.testing.assert_close(svgd_field(k, x, p, pts), stein, atol=5e-3, rtol=0)

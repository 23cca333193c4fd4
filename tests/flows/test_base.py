"""Flows add and scale (:mod:`ipm.flows.base`), and bad inputs are named."""

import pytest
import torch

from ipm.distributions import five_gaussians
from ipm.flows import (
    DiscriminatorFlow,
    EDMFamily,
    EDMProbabilityFlow,
    Entropy,
    FDivergence,
    KernelDensityScore,
    Langevin,
    ScoreDifference,
    SquaredMMD,
)
from ipm.kernels import RBF
from tests.helpers import DT


def test_flow_sum_is_weighted_sum():
    p = five_gaussians(dtype=DT)
    data = p.sample(50)
    x = torch.randn(10, 2, dtype=DT)
    a, b = SquaredMMD(RBF(1.0), data), Entropy(KernelDensityScore(0.5))
    torch.testing.assert_close((a + 0.3 * b).field(x), a.field(x) + 0.3 * b.field(x))
    with pytest.raises(ValueError, match="stochastic"):
        a + Langevin(p)


def test_flow_bad_inputs():
    p = five_gaussians()
    data = p.sample(20)
    flow = SquaredMMD(RBF(1.0), data)
    with pytest.raises(ValueError, match="x: expected particles of dimension D=2"):
        flow.field(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x: expected finite values"):
        flow.field(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="particles: expected particles of dimension D=2"):
        flow.field(torch.zeros(4, 2), particles=torch.zeros(3, 5))
    with pytest.raises(TypeError, match="particles: expected dtype torch.float32"):
        flow.field(torch.zeros(4, 2), particles=torch.zeros(3, 2, dtype=DT))
    with pytest.raises(ValueError, match="field"):
        DiscriminatorFlow(lambda x: x.sum(1) * float("inf"), "ipm").field(torch.ones(2, 2))
    with pytest.raises(ValueError, match="sigma: expected a finite number > 0"):
        ScoreDifference(p, sigma=0.0)
    with pytest.raises(ValueError, match="alpha: expected a number in"):
        EDMFamily(p, 1.5)
    with pytest.raises(ValueError, match="t: EDMProbabilityFlow reads σ from the time t"):
        EDMProbabilityFlow(p).field(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="t .= sigma."):
        EDMProbabilityFlow(p).field(torch.zeros(2, 2), -1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        KernelDensityScore(-0.1)
    with pytest.raises(ValueError, match="kind: expected one of"):
        FDivergence("hellinger-ish", lambda x, p: x[:, 0])

"""The discriminator flow −∇(c∘f) (Eq. 16, 20; :mod:`ipm.flows.discriminator`)."""

import torch

from ipm.flows import (
    DiscriminatorFlow,
)
from tests.helpers import DT


def test_discriminator_flow_is_minus_grad_c_of_f():
    w = torch.tensor([1.5, -0.5], dtype=DT)
    f = lambda x: x @ w  # noqa: E731
    x = torch.randn(5, 2, dtype=DT)
    # NS: c(f) = softplus(−f) → −∇c = sigmoid(−f) ∇f
    ns = DiscriminatorFlow(f, "ns").field(x)
    torch.testing.assert_close(ns, torch.sigmoid(-(x @ w))[:, None] * w)
    torch.testing.assert_close(DiscriminatorFlow(f, "ipm").field(x), -w.expand(5, 2))
    torch.testing.assert_close(DiscriminatorFlow(f, "hinge").field(x), w.expand(5, 2))
    ft = DiscriminatorFlow(lambda x, t: t * (x @ w), "ipm", time_conditioned=True)
    torch.testing.assert_close(ft.field(x, 0.5), -0.5 * w.expand(5, 2))

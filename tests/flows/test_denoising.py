"""Denoising (Eq. 23–24, :mod:`ipm.flows.denoising`): EDM's preconditioning, the loss, the score."""

import torch

from ipm.flows import (
    DenoiserScore,
    EDMDenoiser,
)
from tests.helpers import DT


def test_denoiser_score_and_loss_are_eq_23_and_24():
    """s = (D − x)/σ² with one σ per row (clamped D on request); the loss is the mean of
    ‖D(x + σε, σ) − x‖², weighted by λ(σ) = (σ² + σ_d²)/(σ σ_d)² with σ_d."""
    from ipm.flows import DenoiserScore, denoising_loss

    def den(x, s):
        s = torch.as_tensor(s, dtype=x.dtype)
        return 3 * x / (1 + (s[:, None] if s.ndim else s))

    g = torch.Generator().manual_seed(2)
    x, eps = torch.randn(5, 2, generator=g, dtype=DT), torch.randn(5, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.1, 0.3, 1.0, 2.0, 5.0], dtype=DT)
    want = (3 * x / (1 + sigma[:, None]) - x) / sigma[:, None] ** 2
    torch.testing.assert_close(DenoiserScore(den)(x, sigma), want)
    clamped = (torch.clamp(3 * x / (1 + sigma[:, None]), -0.5, 0.5) - x) / sigma[:, None] ** 2
    torch.testing.assert_close(DenoiserScore(den, clamp=(-0.5, 0.5))(x, sigma), clamped)
    sq = ((den(x + sigma[:, None] * eps, sigma) - x) ** 2).sum(1)
    torch.testing.assert_close(denoising_loss(den, x, sigma, eps), sq.mean())
    lam = (sigma**2 + 0.25) / (sigma * 0.5) ** 2
    torch.testing.assert_close(
        denoising_loss(den, x, sigma, eps, sigma_data=0.5), (lam * sq).mean()
    )


def test_edm_preconditioning_limits():
    torch.manual_seed(0)
    den = EDMDenoiser(2, 0.5, width=16, depth=2, activation="relu", embedding=8).double()
    x = torch.randn(5, 2, dtype=DT)
    # σ → 0: c_skip → 1, c_out → 0, so D(x, σ) → x (the data are their own denoised value)
    assert torch.allclose(den(x, 1e-8), x, atol=1e-7)
    # the score is (D − x)/σ² (Eq. 24)
    s = torch.tensor(0.7, dtype=DT)
    assert torch.allclose(DenoiserScore(den)(x, s), (den(x, s) - x) / 0.49)

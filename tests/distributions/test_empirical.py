"""The empirical law's smoothed score (:mod:`ipm.distributions.empirical`)."""

import torch

from ipm.distributions import Empirical, kde_score


def test_empirical_score_is_exact_smoothed_mixture_score():
    pts = torch.randn(30, 3, dtype=torch.float64)
    x = torch.randn(9, 3, dtype=torch.float64).requires_grad_()
    emp = Empirical(pts)
    (g,) = torch.autograd.grad(emp.log_prob(x, 0.4).sum(), x)
    torch.testing.assert_close(emp.score(x.detach(), 0.4), g, rtol=1e-10, atol=1e-12)
    # chunking does not change the estimate
    torch.testing.assert_close(
        kde_score(x.detach(), pts, 0.4, chunk_size=2), emp.score(x.detach(), 0.4)
    )

"""Noise schedules (:mod:`ipm.schedules`)."""

import torch

from ipm.schedules import vp_schedule


def test_vp_schedule_preserves_variance():
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    a, s = vp_schedule(t)
    assert torch.allclose(a * a + s * s, torch.ones_like(t)) and a[0] == 1 and abs(a[-1]) < 1e-12

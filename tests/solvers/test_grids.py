"""Time grids (:mod:`ipm.solvers.grids`)."""

import torch

from ipm.solvers import (
    edm_grid,
    heun,
)
from tests.helpers import DT


def test_edm_grid_matches_karras_formula():
    g = edm_grid(7, 0.002, 40.0, 7.0)
    assert g.shape == (8,) and g.dtype == torch.float64 and g[-1] == 0
    i = torch.arange(7, dtype=DT)
    ref = (40.0 ** (1 / 7) + i / 6 * (0.002 ** (1 / 7) - 40.0 ** (1 / 7))) ** 7
    torch.testing.assert_close(g[:-1], ref)
    res = heun(lambda x, t: -x / max(t, 1e-9), torch.ones(1, 1, dtype=DT), g, euler_last_step=True)
    assert res.nfe == 2 * 7 - 1

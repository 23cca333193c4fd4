"""DMMD (Galashov et al. 2024) learns a flow to the data."""

import torch

from ipm.distributions import circle_of_gaussians
from ipm.engine import config_from_dict, load_run, train
from ipm.flows import mmd2
from ipm.kernels import RBF
from tests.helpers import dmmd_model, run_config


def _data_mmd(x):
    p = circle_of_gaussians(5, 3.0, 0.5)
    y = p.sample(x.shape[0], generator=torch.Generator().manual_seed(7))
    return float(mmd2(x.double(), y.double(), RBF(1.0)))


def test_dmmd_learns_a_flow_to_the_data(tmp_path):
    train(
        config_from_dict(run_config(dmmd_model(eta=0.1, optim={"lr": 1e-3}), 300)), tmp_path / "d"
    )
    _, model, _ = load_run(tmp_path / "d")
    s = model.sample(500, generator=torch.Generator().manual_seed(0))
    assert s.nfe == 20
    start = torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    assert _data_mmd(s.x) < 0.3 * _data_mmd(start)

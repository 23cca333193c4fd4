"""DMMD (Galashov et al. 2024) learns a flow to the data."""

import torch

from ipm.distributions import circle_of_gaussians
from ipm.engine import config_from_dict, load_run, train
from ipm.flows import mmd2
from ipm.kernels import RBF
from ipm.schedules import vp_schedule
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


def test_the_field_norms_are_the_witness_gradient_at_noised_reference_points(tmp_path):
    train(config_from_dict(run_config(dmmd_model(), 20)), tmp_path / "d")
    assert (tmp_path / "d" / "figures" / "field_norms.png").is_file()
    _, model, _ = load_run(tmp_path / "d")
    levels = torch.tensor([1.0, 0.5, 0.05])
    norms = model.field_norms(levels, n=64, generator=torch.Generator().manual_seed(3))
    assert norms.shape == (3, 64)
    x = model.reference[:64]
    eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    for i, t in enumerate(levels.tolist()):
        alpha, sigma = vp_schedule(torch.tensor(t))
        z = (alpha * x + sigma * eps).requires_grad_(True)
        with torch.no_grad():
            w = model.phi(model.reference, t).mean(0) - model.phi(z, t).mean(0)
        (g,) = torch.autograd.grad((model.phi(z, t) * w).sum(), z)
        torch.testing.assert_close(norms[i], g.norm(dim=1), rtol=1e-5, atol=1e-6)

"""The SD flow (Weber 2023): particles and a generator move towards the data."""

import pytest
import torch

from ipm.distributions import circle_of_gaussians
from ipm.engine import config_from_dict, load_run, train
from ipm.flows import mmd2
from ipm.kernels import RBF
from tests.helpers import SILU_NET, run_config, sd_flow_model


def _data_mmd(x):
    p = circle_of_gaussians(5, 3.0, 0.5)
    y = p.sample(x.shape[0], generator=torch.Generator().manual_seed(7))
    return float(mmd2(x.double(), y.double(), RBF(1.0)))


def test_sd_flow_particles_move_towards_the_data(tmp_path):
    net = {"width": 64, "depth": 2, "activation": "silu"}
    model = sd_flow_model(eta=0.5, score_steps=4, warmup=100, net=net, optim={"lr": 2e-3})
    train(config_from_dict(run_config(model, 400, batch=128)), tmp_path / "r")
    _, model, _ = load_run(tmp_path / "r")
    x = model.sample(500, generator=torch.Generator().manual_seed(0)).x
    start = torch.randn(500, 2, generator=torch.Generator().manual_seed(3))
    assert _data_mmd(x) < 0.3 * _data_mmd(start)
    with pytest.raises(ValueError, match="pool holds 500"):
        model.sample(501)


def test_sd_flow_generator_variant_trains(tmp_path):
    cfg = run_config(sd_flow_model(variant="generator", generator=SILU_NET, latent_dim=4), 20)
    train(config_from_dict(cfg), tmp_path / "g")
    _, model, _ = load_run(tmp_path / "g")
    assert model.sample(7).x.shape == (7, 2) and "generator" in model.networks

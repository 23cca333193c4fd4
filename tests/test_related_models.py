"""The seeds' related systems on the engine (issue 5): SD flow (arXiv 2304.12906) and DMMD
(arXiv 2405.06780)."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.config import ConfigError
from ipm.distributions import circle_of_gaussians
from ipm.engine import config_from_dict, load_checkpoint, load_run, train
from ipm.flows import linear_mmd2_unbiased, mmd2
from ipm.kernels import RBF
from ipm.schedules import vp_schedule

TINY = {"width": 32, "depth": 2, "activation": "silu"}


def run_cfg(model: dict, steps: int, batch: int = 64) -> dict:
    return {
        "seed": 0,
        "model": model,
        "train": {
            "steps": steps,
            "batch_size": batch,
            "log_every": 10,
            "checkpoint_every": 10,
            "progress": False,
        },
        "eval": {"animation": False, "figure_points": 200},
    }


def sd(**kw):
    m = {"name": "sd_flow", "n_particles": 500, "net": TINY, "embedding_dim": 16, "warmup": 5}
    return {**m, **kw}


def dmmd(**kw):
    m = {
        "name": "dmmd",
        "features": 16,
        "net": TINY,
        "time_embedding": 16,
        "levels_per_step": 4,
        "flow_levels": 10,
        "steps_per_level": 2,
        "reference": 256,
    }
    return {**m, **kw}


@given(
    n=st.integers(2, 9),
    m=st.integers(2, 9),
    f=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_linear_mmd2_unbiased_matches_gram_formula(n, m, f, seed):
    g = torch.Generator().manual_seed(seed)
    a, b = (
        torch.randn(3, n, f, generator=g, dtype=torch.float64),
        torch.randn(3, m, f, generator=g, dtype=torch.float64),
    )
    for i in range(3):
        kaa, kbb, kab = a[i] @ a[i].T, b[i] @ b[i].T, a[i] @ b[i].T
        want = (
            (kaa.sum() - kaa.trace()) / (n * (n - 1))
            + (kbb.sum() - kbb.trace()) / (m * (m - 1))
            - 2 * kab.mean()
        )
        assert torch.allclose(linear_mmd2_unbiased(a, b)[i], want, rtol=1e-10, atol=1e-12)


def test_vp_schedule_preserves_variance():
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    a, s = vp_schedule(t)
    assert torch.allclose(a * a + s * s, torch.ones_like(t)) and a[0] == 1 and abs(a[-1]) < 1e-12


def _data_mmd(x):
    p = circle_of_gaussians(5, 3.0, 0.5)
    y = p.sample(x.shape[0], generator=torch.Generator().manual_seed(7))
    return float(mmd2(x.double(), y.double(), RBF(1.0)))


def test_sd_flow_particles_move_towards_the_data(tmp_path):
    net = {"width": 64, "depth": 2, "activation": "silu"}
    model = sd(eta=0.5, score_steps=4, warmup=100, net=net, optim={"lr": 2e-3})
    train(config_from_dict(run_cfg(model, 400, batch=128)), tmp_path / "r")
    _, model, _ = load_run(tmp_path / "r")
    x = model.sample(500, generator=torch.Generator().manual_seed(0)).x
    start = torch.randn(500, 2, generator=torch.Generator().manual_seed(3))
    assert _data_mmd(x) < 0.3 * _data_mmd(start)
    with pytest.raises(ValueError, match="pool holds 500"):
        model.sample(501)


def test_sd_flow_generator_variant_trains(tmp_path):
    cfg = run_cfg(sd(variant="generator", generator=TINY, latent_dim=4), 20)
    train(config_from_dict(cfg), tmp_path / "g")
    _, model, _ = load_run(tmp_path / "g")
    assert model.sample(7).x.shape == (7, 2) and "generator" in model.networks


@pytest.mark.parametrize("model", [sd(), dmmd()], ids=["sd_flow", "dmmd"])
def test_resume_is_exact(tmp_path, model):
    cfg = config_from_dict(run_cfg(model, 25))
    train(cfg, tmp_path / "a", stop_after=12)
    train(cfg, tmp_path / "a", resume=True)
    train(cfg, tmp_path / "b")
    pa, pb = (load_checkpoint(tmp_path / f"{r}/checkpoints/last.pt") for r in "ab")
    for n in pa["networks"]:
        for k in pa["networks"][n]:
            assert torch.equal(pa["networks"][n][k], pb["networks"][n][k]), (n, k)
    assert pa["extra"].keys() == pb["extra"].keys() and pa["extra"]
    assert all(torch.equal(pa["extra"][k], pb["extra"][k]) for k in pa["extra"])


def test_dmmd_learns_a_flow_to_the_data(tmp_path):
    train(config_from_dict(run_cfg(dmmd(eta=0.1, optim={"lr": 1e-3}), 300)), tmp_path / "d")
    _, model, _ = load_run(tmp_path / "d")
    s = model.sample(500, generator=torch.Generator().manual_seed(0))
    assert s.nfe == 20
    start = torch.randn(500, 2, generator=torch.Generator().manual_seed(0))
    assert _data_mmd(s.x) < 0.3 * _data_mmd(start)


def test_bad_related_configs():
    with pytest.raises(ConfigError, match="model.warmup"):
        config_from_dict(run_cfg(sd(warmup=-1), 5))
    with pytest.raises(ConfigError, match="model.t_min"):
        config_from_dict(run_cfg(dmmd(t_min=1.5), 5))
    with pytest.raises(ConfigError, match="model.net.kind"):
        config_from_dict(run_cfg(dmmd(net={"kind": "unet"}), 5))
    from ipm.models import DMMD

    cfg = config_from_dict(run_cfg(dmmd(levels_per_step=4), 5))
    with pytest.raises(ValueError, match="levels_per_step"):
        DMMD(cfg.model, 2, batch_size=6)

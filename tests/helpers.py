"""What many tests share: the repository root, an environment for subprocesses, the ``ipm``
command line, tiny run configs, and a float64 step context for single training steps."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from ipm.engine import config_from_dict, load_checkpoint
from ipm.models import StepContext, build_model

ROOT = Path(__file__).resolve().parents[1]
#: the team's shared data (the four MNIST files), beside the repository in CI
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
TINY = {"width": 32, "depth": 2}
ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
DT = torch.float64


def ipm_cmd(*args, nproc: int | None = None) -> list[str]:
    """``python -m ipm ARGS``, under ``torch.distributed.run`` with ``nproc`` processes."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    return [sys.executable, *(launcher if nproc else []), "-m", "ipm", *map(str, args)]


def tiny(name: str, steps: int = 30, **model) -> dict:
    """A run config (as data) of model ``name`` with small networks on the Gaussians."""
    m = {"name": name, **model}
    if name == "edm":
        m.setdefault("net", TINY)
        m.setdefault("embedding_dim", 16)
        m.setdefault("sampler_steps", 6)
    elif name == "gan":
        m.setdefault("generator", TINY)
        m.setdefault("discriminator", TINY)
        m.setdefault("latent_dim", 8)
    elif name == "discr_flow":
        m.setdefault("net", TINY)
        m.setdefault("time_embedding", 16)
        m.setdefault("flow_steps", 8)
    elif name == "score_gan":
        m.setdefault("generator", TINY)
        m.setdefault("score_net", TINY)
        m.setdefault("latent_dim", 8)
        m.setdefault("embedding_dim", 16)
        m.setdefault("score_steps", 2)
    return {
        "seed": 0,
        "model": m,
        "train": {
            "steps": steps,
            "batch_size": 32,
            "log_every": 5,
            "checkpoint_every": 10,
            "progress": False,
        },
        "eval": {"n_samples": 400, "w2_n": 100, "w2_draws": 2, "figure_points": 100},
    }


def run_params(run_dir) -> dict:
    """The networks' state dicts of a run's last checkpoint."""
    return load_checkpoint(Path(run_dir) / "checkpoints/last.pt")["networks"]


def same_params(a: dict, b: dict) -> bool:
    return all(torch.equal(a[n][k], b[n][k]) for n in a for k in a[n])


def resumed_and_whole(cfg, tmp_path, stop_after: int) -> tuple[dict, dict]:
    """The last checkpoints of ``cfg`` trained into ``tmp_path/a`` with a stop after
    ``stop_after`` steps and a resume, and into ``tmp_path/b`` without a stop."""
    from ipm.engine import train

    train(cfg, tmp_path / "a", stop_after=stop_after)
    train(cfg, tmp_path / "a", resume=True)
    train(cfg, tmp_path / "b")
    return tuple(load_checkpoint(tmp_path / f"{r}/checkpoints/last.pt") for r in "ab")


def step_context(seed: int = 0, data=None) -> StepContext:
    """A float64 step context on the CPU (2-D standard normal data unless given)."""
    data = data or (lambda n, g: torch.randn(n, 2, generator=g))
    return StepContext(torch.Generator().manual_seed(seed), data, torch.device("cpu"), DT)


def sgd(model) -> dict:
    """SGD(lr 1e-2) for each of the model's optimisers."""
    return {n: torch.optim.SGD(ps, lr=1e-2) for n, (ps, _) in model.optimizer_specs().items()}


def build(name: str, inputs=None, **kw):
    """(config, model) of :func:`tiny` ``name`` for 2-D data, seeded."""
    torch.manual_seed(0)
    cfg = config_from_dict(tiny(name, **kw))
    return cfg, build_model(cfg, 2, **(inputs or {}))


#: a small network for the SD-flow and DMMD tests
SILU_NET = {"width": 32, "depth": 2, "activation": "silu"}


def run_config(model: dict, steps: int, batch: int = 64) -> dict:
    """A run config (as data) of ``model`` on the Gaussians, without animations."""
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


def sd_flow_model(**kw) -> dict:
    """A small SD-flow model section (a pool of 500 particles, 5 warm-up steps)."""
    m = {"name": "sd_flow", "n_particles": 500, "net": SILU_NET, "embedding_dim": 16, "warmup": 5}
    return {**m, **kw}


def dmmd_model(**kw) -> dict:
    """A small DMMD model section."""
    m = {
        "name": "dmmd",
        "features": 16,
        "net": SILU_NET,
        "time_embedding": 16,
        "levels_per_step": 4,
        "flow_levels": 10,
        "steps_per_level": 2,
        "reference": 256,
    }
    return {**m, **kw}

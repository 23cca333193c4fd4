"""Exact pins of every model's training steps and samplers (float64, fixed weights and draws).

Each case builds a model from a small config in float64 with a fixed seed, runs three training
steps with Adam on a fixed stream of random draws, then records what the steps returned, the
networks' weights, the model's extra state, samples from a seeded sampler, the figure field and
the generator loss. ``model_pins.pt`` holds these tensors as computed by the code that was pinned;
the test recomputes them and requires agreement to 1e-12. A change that moves code around must
keep them; a change of behaviour regenerates the file on purpose, with the reason in its commit:

    python -m tests.models.test_pins   # rewrite tests/models/model_pins.pt
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import pytest
import torch

from ipm.engine import config_from_dict
from ipm.models import StepContext, build_model
from tests.helpers import DT

PINS = Path(__file__).resolve().parent / "model_pins.pt"


STEPS = 3


MLP = {"width": 16, "depth": 2}


@contextlib.contextmanager
def float64():
    old = torch.get_default_dtype()
    torch.set_default_dtype(DT)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _points(n: int, d: int, seed: int) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=DT)


def _vector_data(n: int, g: torch.Generator) -> torch.Tensor:
    """Two clusters in 2-D: a fixed stream of draws from the step generator."""
    c = torch.randint(2, (n,), generator=g).to(DT)
    return 0.5 * torch.randn(n, 2, generator=g, dtype=DT) + 2.0 * (2 * c[:, None] - 1)


def _image_data(shape: tuple[int, ...]):
    """Flat images of ``shape`` with pixels uniform in [−1, 1]."""
    d = math.prod(shape)
    return lambda n, g: torch.rand(n, d, generator=g, dtype=DT) * 2 - 1


CASES: dict[str, tuple[dict, tuple[int, ...], int]] = {
    "edm_heun": ({"name": "edm", "net": MLP, "embedding_dim": 8, "sampler_steps": 4}, (2,), 8),
    "edm_euler": (
        {"name": "edm", "net": MLP, "embedding_dim": 8, "sampler_steps": 4, "sampler": "euler"},
        (2,),
        8,
    ),
    "edm_sde": (
        {"name": "edm", "net": MLP, "embedding_dim": 8, "sampler_steps": 4, "sampler": "sde"},
        (2,),
        8,
    ),
    "edm_unet": (
        {
            "name": "edm",
            "net": {
                "kind": "unet",
                "width": 4,
                "channel_mult": [1, 2],
                "num_blocks": 1,
                "attention": [4],
                "embedding": 8,
            },
            "sampler_steps": 3,
        },
        (1, 8, 8),
        4,
    ),
    "gan_ns_gp": (
        {
            "name": "gan",
            "generator": MLP,
            "discriminator": MLP,
            "latent_dim": 3,
            "gp": {"weight": 0.5},
            "d_steps": 2,
        },
        (2,),
        8,
    ),
    "gan_hinge_gp0_real": (
        {
            "name": "gan",
            "loss": "hinge",
            "generator": MLP,
            "discriminator": MLP,
            "latent_dim": 3,
            "gp": {"weight": 1.0, "center": 0.0, "on": "real"},
        },
        (2,),
        8,
    ),
    "gan_dcgan_bn": (
        {
            "name": "gan",
            "loss": "ipm",
            "generator": {"kind": "dcgan", "width": 4, "batch_norm": True},
            "discriminator": {"kind": "dcgan", "width": 4, "batch_norm": True},
            "latent_dim": 4,
            "gp": {"weight": 0.1, "on": "fake"},
        },
        (1, 16, 16),
        4,
    ),
    "score_gan_plain": (
        {
            "name": "score_gan",
            "edm_checkpoint": "data-score-given",
            "generator": MLP,
            "score_net": MLP,
            "latent_dim": 3,
            "embedding_dim": 8,
            "score_steps": 2,
            "mu_p": 1.5,
            "mu_rho": 0.75,
        },
        (2,),
        8,
    ),
    "score_gan_edm_weight": (
        {
            "name": "score_gan",
            "edm_checkpoint": "data-score-given",
            "generator": MLP,
            "score_net": MLP,
            "latent_dim": 3,
            "embedding_dim": 8,
            "score_steps": 1,
            "score_loss": "edm",
        },
        (2,),
        8,
    ),
    "discr_flow_paper": (
        {
            "name": "discr_flow",
            "net": MLP,
            "time_embedding": 8,
            "flow_steps": 5,
            "eta": 2.0,
            "gp": {"weight": 0.3},
            "prior_mean": 0.5,
            "prior_std": 0.8,
            "sample_stop": 4,
        },
        (2,),
        8,
    ),
    "discr_flow_multi_time": (
        {
            "name": "discr_flow",
            "net": MLP,
            "time_embedding": 8,
            "flow_steps": 4,
            "eta": 2.0,
            "schedule": "multi_time",
            "times_per_trajectory": 2,
            "loss": "hinge",
        },
        (2,),
        8,
    ),
    "discr_flow_persistent": (
        {
            "name": "discr_flow",
            "net": MLP,
            "time_embedding": 8,
            "flow_steps": 2,
            "eta": 2.0,
            "schedule": "persistent",
            "gp": {"weight": 0.2, "center": 0.0},
        },
        (2,),
        8,
    ),
    "discr_flow_dcgan": (
        {
            "name": "discr_flow",
            "net": {"kind": "dcgan", "width": 4},
            "time_embedding": 8,
            "flow_steps": 3,
            "eta": 1.0,
        },
        (1, 16, 16),
        4,
    ),
    "sd_flow_particles": (
        {
            "name": "sd_flow",
            "net": MLP,
            "embedding_dim": 8,
            "n_particles": 12,
            "move_batch": 5,
            "warmup": 1,
            "clip": 1.5,
            "eta": 0.7,
            "data_steps": 2,
        },
        (2,),
        8,
    ),
    "sd_flow_generator": (
        {
            "name": "sd_flow",
            "variant": "generator",
            "net": MLP,
            "embedding_dim": 8,
            "generator": MLP,
            "latent_dim": 3,
            "score_loss": "plain",
        },
        (2,),
        8,
    ),
    "dmmd": (
        {
            "name": "dmmd",
            "net": MLP,
            "features": 6,
            "time_embedding": 8,
            "levels_per_step": 2,
            "reference": 16,
            "flow_levels": 3,
            "steps_per_level": 2,
            "eta": 0.5,
            "noise_injection": 0.1,
        },
        (2,),
        8,
    ),
}


def _config(model: dict, batch: int):
    return config_from_dict(
        {"seed": 0, "model": model, "train": {"steps": STEPS, "batch_size": batch}}
    )


def _data_score(shape: tuple[int, ...]):
    """The Score GAN's data score: a fixed EDM (its own seed), given as an object."""
    torch.manual_seed(7)
    cfg = _config({"name": "edm", "net": MLP, "embedding_dim": 8}, 8)
    edm = build_model(cfg, shape)
    edm.denoiser.requires_grad_(False).eval()
    return edm.score()


def build_case(name: str):
    model_cfg, shape, batch = CASES[name]
    cfg = _config(model_cfg, batch)
    inputs = {"data_score": _data_score(shape)} if cfg.model.name == "score_gan" else {}
    torch.manual_seed(0)
    return build_model(cfg, shape, **inputs)


def _record(out: dict, prefix: str, values: dict) -> None:
    for k, v in values.items():
        if isinstance(v, torch.Tensor):
            out[f"{prefix}{k}"] = v.detach().to(DT).clone()
        else:
            out[f"{prefix}{k}"] = torch.tensor(float(v), dtype=DT)


def run_case(name: str) -> dict[str, torch.Tensor]:
    """Everything a case pins, as float64 tensors keyed by what they are."""
    _, shape, _ = CASES[name]
    data = _image_data(shape) if len(shape) == 3 else _vector_data
    out: dict[str, torch.Tensor] = {}
    with float64():
        model = build_case(name)
        opts = {
            n: torch.optim.Adam(ps, lr=o.lr, betas=o.betas, weight_decay=o.weight_decay)
            for n, (ps, o) in model.optimizer_specs().items()
        }
        ctx = StepContext(torch.Generator().manual_seed(1), data, torch.device("cpu"), DT)
        for step in range(STEPS):
            _record(out, f"step{step}.", model.train_step(ctx, opts))
        for net_name, net in model.networks.items():
            _record(out, f"net.{net_name}.", net.state_dict())
        _record(out, "extra.", model.extra_state())
        for m in model.networks.values():
            m.eval()
        with torch.no_grad():
            s = model.sample(6, generator=torch.Generator().manual_seed(2))
        out["sample.x"] = s.x.detach().clone()
        out["sample.nfe"] = torch.tensor(float(s.nfe), dtype=DT)
        if len(shape) == 1:
            probe = _points(5, math.prod(shape), 3)
            field = model.field(probe)
            if field is not None:
                out["field"] = field.detach().clone()
            loss = model.generator_loss(probe)
            if loss is not None:
                out["generator_loss"] = loss.detach().clone()
    return out


@pytest.fixture(scope="module")
def pins() -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(PINS, weights_only=True)


def test_every_case_is_pinned(pins):
    assert sorted(pins) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_model_matches_its_pin(name, pins):
    got, want = run_case(name), pins[name]
    assert sorted(got) == sorted(want)
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=1e-12, atol=1e-12, msg=key)


if __name__ == "__main__":
    PINS.parent.mkdir(exist_ok=True)
    table = {name: run_case(name) for name in CASES}
    torch.save(table, PINS)
    size = sum(t.numel() for case in table.values() for t in case.values())
    print(f"{len(table)} cases, {size} values -> {PINS}")

"""ipm.optim: the learning-rate schedule (its formula, its place in training, exact resume)."""

from __future__ import annotations

import math

import pytest
import torch

from ipm.config import ConfigError
from ipm.engine import config_from_dict, load_checkpoint, train
from ipm.optim import lr_factor, set_lr_factor
from tests.helpers import resumed_and_whole, same_params, tiny


def test_lr_factor_warms_up_linearly_then_decays_to_the_final_fraction():
    steps, w = 100, 10
    assert [lr_factor(s, steps, w) for s in (0, 4, 9, 50, 99)] == [0.1, 0.5, 1.0, 1.0, 1.0]
    assert lr_factor(0, steps) == lr_factor(99, steps) == 1.0  # constant
    lin = [lr_factor(s, steps, 0, "linear", 0.1) for s in range(steps)]
    assert lin[0] == 1.0 and lin[50] == pytest.approx(0.1 + 0.9 * 0.5)
    assert lin[-1] == pytest.approx(0.1 + 0.9 / steps)  # one update before the end
    cos = [lr_factor(s, steps, w, "cosine", 0.0) for s in range(steps)]
    assert cos[w] == pytest.approx(1.0)  # the decay starts where the warm-up ends
    t = (55 - w) / (steps - w)
    assert cos[55] == pytest.approx((1 + math.cos(math.pi * t)) / 2)
    assert all(a >= b for a, b in zip(cos[w:], cos[w + 1 :], strict=False))
    assert 0 < cos[-1] < 1e-3
    with pytest.raises(ValueError, match="decay: expected"):
        lr_factor(0, 10, decay="step")


def test_set_lr_factor_scales_every_group_from_its_base_rate():
    a = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3)
    b = torch.optim.Adam([{"params": [torch.zeros(1, requires_grad=True)], "lr": 4e-3}])
    set_lr_factor({"a": a, "b": b}, 0.5)
    set_lr_factor([a, b], 0.25)  # from the base rate, not the last one
    assert a.param_groups[0]["lr"] == pytest.approx(2.5e-4)
    assert b.param_groups[0]["lr"] == pytest.approx(1e-3)
    assert b.param_groups[0]["initial_lr"] == 4e-3


def _scheduled(steps: int) -> dict:
    data = tiny("gan", steps=steps)
    data["train"].update(lr_warmup=3, lr_decay="cosine", lr_final=0.2)
    return data


def test_training_follows_the_schedule_and_resumes_on_it_exactly(tmp_path):
    cfg = config_from_dict(_scheduled(9))
    pa, pb = resumed_and_whole(cfg, tmp_path, 4)
    assert same_params(pa["networks"], pb["networks"])
    bases = {"generator": cfg.model.g_optim.lr, "discriminator": cfg.model.d_optim.lr}
    for name, opt in pa["optimizers"].items():  # the last update's rate, from its base rate
        group, base = opt["param_groups"][0], bases[name]
        assert group["initial_lr"] == base
        assert group["lr"] == pytest.approx(base * lr_factor(8, 9, 3, "cosine", 0.2))
    # without a schedule the weights differ: the schedule was applied
    plain = tiny("gan", steps=9)
    train(config_from_dict(plain), tmp_path / "c")
    pc = load_checkpoint(tmp_path / "c/checkpoints/last.pt")
    ga, gc = pa["networks"]["generator"], pc["networks"]["generator"]
    assert not all(torch.equal(ga[k], gc[k]) for k in ga)


def test_schedule_keys_are_checked_at_the_boundary():
    for key, value, match in (("lr_final", 1.5, "lr_final"), ("lr_warmup", -1, "lr_warmup"),
                              ("lr_decay", "step", "lr_decay")):  # fmt: skip
        data = tiny("gan", steps=5)
        data["train"][key] = value
        with pytest.raises(ConfigError, match=match):
            config_from_dict(data)

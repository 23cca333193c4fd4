"""Typed configs (:mod:`ipm.config`): errors naming the key path, overrides, tags, sections in part."""

import pytest

from ipm.config import ConfigError
from ipm.engine import (
    config_from_dict,
    load_config,
)
from tests.helpers import dmmd_model, run_config, sd_flow_model, tiny


@pytest.mark.parametrize(
    ("patch", "key", "words"),
    [
        ({"model": {"name": "edm", "colour": 1}}, "model.colour", "unknown key"),
        ({"train": {"steps": "many"}}, "train.steps", "expected an integer"),
        ({"train": {"steps": -5}}, "train.steps", "positive"),
        ({"model": {"name": "edm", "optim": {"lr": [1]}}}, "model.optim.lr", "expected a number"),
        ({"model": {"name": "unet"}}, "model.name", "expected one of"),
    ],
)
def test_bad_configs_name_the_key(patch, key, words):
    cfg = tiny("edm")
    for k, v in patch.items():
        cfg[k] = {**cfg[k], **v} if k == "train" else v
    with pytest.raises(ConfigError) as e:
        config_from_dict(cfg)
    assert e.value.key == key and words in str(e.value) and key in str(e.value)


def test_overrides_and_yaml_file(tmp_path):
    import yaml

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(tiny("gan")))
    cfg = load_config(p, ["model.g_optim.lr=1e-3", "train.steps=7"])
    assert cfg.model.g_optim.lr == 1e-3 and cfg.train.steps == 7
    with pytest.raises(ConfigError, match="model.g_optim.bogus: unknown key"):
        load_config(p, ["model.g_optim.bogus=1"])
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_overriding_a_tag_starts_the_section_afresh(tmp_path):
    """--set model.net.kind=unet replaces the MLP section (its width, depth … do not carry over
    into the U-Net); overrides after it apply to the new member; an unchanged tag keeps the rest."""
    import yaml

    p = tmp_path / "c.yaml"
    d = tiny("edm")
    d["data"] = {"name": "gaussians", "radius": 2.0}
    p.write_text(yaml.safe_dump(d))
    cfg = load_config(p, ["model.net.kind=unet", "model.net.width=8", "data.name=digits"])
    assert cfg.model.net.kind == "unet" and cfg.model.net.width == 8
    assert cfg.model.net.num_blocks == 2 and cfg.data.name == "digits"
    same = load_config(p, ["model.net.kind=mlp"])
    assert (same.model.net.width, same.model.net.depth) == (32, 2)
    with pytest.raises(ConfigError, match="model.net.kind: expected one of"):
        load_config(p, ["model.net.kind=transformer"])


def test_a_section_given_in_part_keeps_the_fields_own_defaults():
    """EDM's optimiser defaults to betas (0.9, 0.999) and its σ_max to 40: a section naming
    only some keys keeps the model's defaults for the others, not the section class's."""
    cfg = config_from_dict(tiny("edm", optim={"lr": 1e-3}, noise={"sigma_min": 0.01}))
    assert cfg.model.optim.betas == (0.9, 0.999) and cfg.model.optim.lr == 1e-3
    assert (cfg.model.noise.sigma_min, cfg.model.noise.sigma_max) == (0.01, 40.0)
    sg = config_from_dict(tiny("score_gan", edm_checkpoint="x", noise={"rho": 5.0}))
    assert (sg.model.noise.sigma_min, sg.model.noise.sigma_max, sg.model.noise.rho) == (
        0.1,
        10.0,
        5.0,
    )


def test_bad_related_configs():
    with pytest.raises(ConfigError, match="model.warmup"):
        config_from_dict(run_config(sd_flow_model(warmup=-1), 5))
    with pytest.raises(ConfigError, match="model.t_min"):
        config_from_dict(run_config(dmmd_model(t_min=1.5), 5))
    with pytest.raises(ConfigError, match="model.net.kind"):
        config_from_dict(run_config(dmmd_model(net={"kind": "unet"}), 5))
    from ipm.models import DMMD

    cfg = config_from_dict(run_config(dmmd_model(levels_per_step=4), 5))
    with pytest.raises(ValueError, match="levels_per_step"):
        DMMD(cfg.model, 2, batch_size=6)

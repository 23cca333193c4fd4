"""Saved runs' configs (:mod:`ipm.engine.config`): keys added since a run was saved, the first
layout upgraded when read, and what a resume may change."""

import json

import pytest

from ipm.config import ConfigError
from ipm.config import to_dict as config_to_dict
from ipm.engine import (
    config_from_dict,
)
from tests.helpers import tiny


def test_a_run_saved_before_a_config_key_existed_still_matches(tmp_path):
    """Keys added to the configs since a run was saved take their defaults (as load_run reads
    it), so resuming or reusing the run is not refused over them; a real change still is."""
    from ipm.engine.trainer import _resume_mismatch, saved_config

    cfg = config_from_dict(tiny("gan", steps=2))
    now = config_to_dict(cfg)
    old = json.loads(json.dumps(now))
    del old["train"]["ema_warmup"]  # as in a run saved before the key existed
    assert _resume_mismatch(saved_config({"config": old}), now) == []
    old["model"]["loss"] = "ipm" if now["model"]["loss"] != "ipm" else "ns"
    assert [d.split(" ")[0] for d in _resume_mismatch(saved_config({"config": old}), now)] == [
        "model.loss"
    ]


def test_a_score_gan_saved_before_score_loss_existed_reads_as_the_edm_weighting():
    """score_loss was added with a new default ('plain'); runs saved before trained with EDM's
    weighting, so they read as 'edm' and a plain config does not silently reuse them."""
    from ipm.engine import saved_run_config
    from ipm.engine.trainer import _resume_mismatch, saved_config

    cfg = config_from_dict(tiny("score_gan", steps=2, edm_checkpoint="edm_run"))
    now = config_to_dict(cfg)
    assert now["model"]["score_loss"] == "plain"
    # the first layout: no version, the noise schedule's keys flat in the model section
    old = json.loads(json.dumps(now))
    del old["version"], old["model"]["score_loss"]
    old["model"].update(old["model"].pop("noise"))
    assert saved_run_config(old).model.score_loss == "edm"
    assert saved_run_config(old).model.noise == cfg.model.noise
    assert [d.split(" ")[0] for d in _resume_mismatch(saved_config({"config": old}), now)] == [
        "model.score_loss"
    ]
    with pytest.raises(ConfigError, match="model.sigma_min: unknown key: it is now model.noise"):
        config_from_dict(old)  # a user's config is read in today's layout
    user = json.loads(json.dumps(now))
    del user["model"]["score_loss"]
    assert config_from_dict(user).model.score_loss == "plain"  # a user's config: today's default

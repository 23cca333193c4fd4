"""The model registry: every model config has its model class, found by ``model.name``, and a
model declares which of its networks sample and whether it is a particle model."""

import pytest

from ipm.config import ModelConfig
from ipm.engine import config_from_dict
from ipm.models import build_model, models
from tests.helpers import tiny


def test_every_model_config_has_its_model_and_back():
    configs, classes = ModelConfig.members(), models()
    assert (
        sorted(configs)
        == sorted(classes)
        == [
            "discr_flow",
            "dmmd",
            "edm",
            "gan",
            "score_gan",
            "sd_flow",
        ]
    )
    for name, cls in classes.items():
        assert cls.config is configs[name]
        assert cls.name == name and set(cls.sampling_networks) <= {
            "denoiser",
            "generator",
            "discriminator",
            "features",
        }


@pytest.mark.parametrize("name", ["edm", "gan", "discr_flow"])
def test_particle_models_sample_by_a_flow_and_generators_in_one_pass(name):
    """A particle model's samples cost several network evaluations (its solver's steps); a
    generator's sample costs one."""
    model = build_model(config_from_dict(tiny(name)), 2)
    out = model.sample(5)
    assert out.x.shape == (5, 2)
    assert (out.nfe > 1) == model.is_particle_model == ("generator" not in model.networks)


def test_a_model_class_without_its_config_is_refused_when_defined():
    from ipm.models.base import GenerativeModel

    with pytest.raises(TypeError, match="Orphan.config: expected an ipm.config.ModelConfig"):
        type("Orphan", (GenerativeModel,), {})


def test_inputs_a_model_does_not_take_are_refused():
    with pytest.raises(TypeError, match="takes no inputs"):
        build_model(config_from_dict(tiny("gan")), 2, data_score=object())

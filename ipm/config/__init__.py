"""Typed configs: the loader (plain data and YAML to frozen dataclasses, ``--set`` overrides,
errors naming the key path), the checks config classes run, the sections several models
share, and the models' configs (:mod:`ipm.config.models`, imported on its own: it builds on the
network configs). Network and data set configs live with their code (:mod:`ipm.nets.config`,
:mod:`ipm.data.config`); the whole run's config is :class:`ipm.engine.RunConfig`."""

from .checks import net_kinds, non_negative, positive, require
from .loader import ConfigError, Family, apply_overrides, build, read_yaml, to_dict
from .shared import DataConfig, ModelConfig, NetConfig, NoiseConfig, OptimConfig, PenaltyConfig

__all__ = [
    "ConfigError",
    "DataConfig",
    "Family",
    "ModelConfig",
    "NetConfig",
    "NoiseConfig",
    "OptimConfig",
    "PenaltyConfig",
    "apply_overrides",
    "build",
    "net_kinds",
    "non_negative",
    "positive",
    "read_yaml",
    "require",
    "to_dict",
]

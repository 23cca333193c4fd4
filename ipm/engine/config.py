"""A whole run's config: the model (any :class:`~ipm.config.ModelConfig`), the data, the
engine's training settings and ``ipm evaluate``'s; read from YAML with ``--set`` overrides
(:func:`load_config`) or from a saved run (:func:`saved_run_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..config import (
    ConfigError,
    DataConfig,
    ModelConfig,
    apply_overrides,
    build,
    non_negative,
    positive,
    read_yaml,
    require,
)
from ..config import models as model_configs  # noqa: F401  (the members of ModelConfig)
from ..data.config import GaussiansData

__all__ = [
    "EvalConfig",
    "RunConfig",
    "TrainConfig",
    "config_from_dict",
    "load_config",
    "saved_run_config",
]

#: the layout of :class:`RunConfig` that :func:`~ipm.config.to_dict` writes into runs
VERSION = 2


@dataclass(frozen=True)
class TrainConfig:
    """What the engine owns: step count, batch, cadences, EMA, threads, device, and the
    precision and compilation of the networks (:mod:`ipm.nets.precision`): ``precision``
    ``fp32`` (TF32 matrix products on CUDA), ``bf16`` or ``fp16`` (autocast on the networks,
    with loss scaling for fp16; both also run on a CPU), or ``auto`` (bf16 where the device
    computes in it natively, else fp32; a run records what it chose and resumes in it),
    ``compile`` by torch.compile."""

    steps: int
    batch_size: int = 128
    log_every: int = 100
    checkpoint_every: int = 500
    keep_every: int = 0  # also keep checkpoints/step_XXXXXXX.pt every this many steps (0: never)
    eval_every: int = 0  # 0: evaluate (figure) only at the end
    ema: float = 0.0  # EMA decay of the sampling networks; 0 disables
    ema_warmup: bool = False  # decay min(ema, (1 + step)/(10 + step)): forget the init early
    threads: int = 1
    device: Literal["auto", "cpu", "cuda"] = "auto"
    progress: bool = True
    precision: Literal["fp32", "bf16", "fp16", "auto"] = "fp32"
    compile: bool = False
    # every optimiser's learning rates over the run (ipm.optim.lr_factor): a linear warm-up of
    # lr_warmup steps, then a decay to lr_final × lr at the last step ("none": constant)
    lr_warmup: int = 0
    lr_decay: Literal["none", "linear", "cosine"] = "none"
    lr_final: float = 0.0

    def __post_init__(self):
        positive(self, "steps", "batch_size", "log_every", "checkpoint_every", "threads")
        non_negative(self, "eval_every", "keep_every", "lr_warmup")
        require(0 <= self.ema < 1, "ema", f"expected a decay in [0, 1), got {self.ema}")
        require(
            0 <= self.lr_final <= 1,
            "lr_final",
            f"expected a fraction of the learning rate in [0, 1], got {self.lr_final}",
        )


@dataclass(frozen=True)
class EvalConfig:
    """``ipm evaluate``: sample count, W2 subsets, MMD bandwidth, figure sizes."""

    n_samples: int = 10_000
    w2_n: int = 2000
    w2_draws: int = 5
    mmd_bandwidth: float = 1.0
    figure_points: int = 2000
    grid: int = 64  # images: samples in each figure's grid
    animation: bool = True
    # images: the feature space of FID/KID/precision-recall (ipm.metrics.features); "auto" is the
    # shipped MNIST classifier for grey images, Inception where weights are set, else none
    features: Literal["auto", "classifier", "inception", "torch-fidelity", "none"] = "auto"
    feature_weights: str = ""  # a weights file for the feature network ("" = its default)
    feature_batch: int = 500
    keep_features: int = 5000  # feature rows kept for KID and precision/recall

    def __post_init__(self):
        positive(self, "n_samples", "w2_n", "w2_draws", "mmd_bandwidth", "figure_points", "grid")
        positive(self, "feature_batch", "keep_features")


@dataclass(frozen=True)
class RunConfig:
    """A whole run: model, data, training and evaluation settings, and the seed."""

    model: ModelConfig
    train: TrainConfig
    seed: int = 0
    data: DataConfig = field(default_factory=GaussiansData)
    eval: EvalConfig = field(default_factory=EvalConfig)
    version: int = VERSION  # the layout this config is written in

    def __post_init__(self):
        non_negative(self, "seed")
        require(self.version == VERSION, "version", f"expected {VERSION}, got {self.version}")


#: model keys of the first layout that moved into the shared sections
MOVED = {
    "sigma_min": ("noise", "sigma_min"),
    "sigma_max": ("noise", "sigma_max"),
    "rho": ("noise", "rho"),
    "sigma_data": ("noise", "sigma_data"),
    "gp_weight": ("gp", "weight"),
    "gp_on": ("gp", "on"),
    "gp_center": ("gp", "center"),
}


def _hint(e: ConfigError) -> ConfigError:
    """An unknown key of the first layout: say where it moved."""
    parts = e.key.split(".")
    if len(parts) == 2 and parts[0] == "model" and parts[1] in MOVED and "unknown key" in str(e):
        to = "model." + ".".join(MOVED[parts[1]])
        return ConfigError(e.key, f"unknown key: it is now {to}")
    return e


def config_from_dict(data: dict) -> RunConfig:
    """Build and validate a :class:`RunConfig` from plain data (e.g. parsed YAML)."""
    try:
        return build(RunConfig, data)
    except ConfigError as e:
        raise _hint(e) from None


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML run config, apply ``--set`` overrides, validate (errors name the key)."""
    return config_from_dict(apply_overrides(read_yaml(path), overrides or [], RunConfig))


def _upgrade(d: dict) -> dict:
    """A saved config of the first layout (no ``version``) in today's: the noise-schedule and
    gradient-penalty keys moved into ``model.noise`` and ``model.gp``; a Score GAN saved
    before ``score_loss`` existed was trained with EDM's weight λ(σ)."""
    model = dict(d.get("model") or {})
    for old, (section, key) in MOVED.items():
        if old in model:
            model[section] = {**model.get(section, {}), key: model.pop(old)}
    if model.get("name") == "score_gan":
        model.setdefault("score_loss", "edm")
    return {**d, "model": model, "version": VERSION}


def saved_run_config(d: dict) -> RunConfig:
    """The config of a saved run (a checkpoint's or run directory's dict), whatever layout it
    was written in; keys added since take today's defaults."""
    if isinstance(d, dict) and "version" not in d:
        d = _upgrade(d)
    return config_from_dict(d)

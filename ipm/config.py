"""Typed run configurations, validated at the boundary (YAML + ``--set key.path=value``).

A run config is a :class:`RunConfig` of frozen dataclasses. :func:`load_config` reads YAML,
applies overrides, and builds the dataclasses field by field: an unknown key, a value of the
wrong type or an out-of-range value raises :class:`ConfigError` naming the key path
(``model.optim.lr``) and what was expected.

The ``model`` section is a tagged union on ``model.name``: ``edm``, ``gan``, ``score_gan``,
``discr_flow`` (the paper's four models, Tables 4–7), ``sd_flow`` and ``dmmd`` (the related
systems of seeds 002 and 004). Networks (``kind``: mlp, dcgan, resnet, unet) and data
(``name``: gaussians, digits, mnist, image_folder) are tagged unions too.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Union  # noqa: F401 (Union: get_origin checks)

__all__ = [
    "ConfigError",
    "DCGANConfig",
    "DMMDConfig",
    "DataConfig",
    "DigitsData",
    "DiscrFlowConfig",
    "EDMConfig",
    "EvalConfig",
    "GANConfig",
    "GaussiansData",
    "ImageFolderData",
    "MLPConfig",
    "MNISTData",
    "NetConfig",
    "OptimConfig",
    "ResNetConfig",
    "RunConfig",
    "SDFlowConfig",
    "ScoreGANConfig",
    "TrainConfig",
    "UNetConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "saved_run_config",
    "load_config",
]


class ConfigError(ValueError):
    """A bad configuration value; ``key`` is the dotted path of the offending entry."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


def _require(cond: bool, key: str, message: str) -> None:
    if not cond:
        raise ConfigError(key, message)


def _positive(obj, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        _require(v > 0, n, f"expected a positive value, got {v!r}")


def _non_negative(obj, *names: str) -> None:
    for n in names:
        v = getattr(obj, n)
        _require(v >= 0, n, f"expected a value >= 0, got {v!r}")


def _sigma_range(obj) -> None:
    _require(
        obj.sigma_min < obj.sigma_max,
        "sigma_min",
        f"expected < sigma_max = {obj.sigma_max}, got {obj.sigma_min}",
    )


@dataclass(frozen=True)
class GaussiansData:
    """The 2-D data set: ``n_modes`` Gaussians (std ``std``) on a circle of radius ``radius``."""

    name: Literal["gaussians"] = "gaussians"
    radius: float = 3.0
    std: float = 0.5
    n_modes: int = 5

    def __post_init__(self):
        _positive(self, "radius", "std", "n_modes")


@dataclass(frozen=True)
class DigitsData:
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download), scaled to
    [−1, 1] and resized (bilinear) to ``size``×``size``."""

    name: Literal["digits"] = "digits"
    size: Literal[8, 16, 32] = 8


@dataclass(frozen=True)
class MNISTData:
    """MNIST from the four official IDX ``.gz`` files in ``root`` (empty: ``$IPM_MNIST_DIR``),
    padded to 32×32 and scaled to [−1, 1]."""

    name: Literal["mnist"] = "mnist"
    root: str = ""
    split: Literal["train", "test"] = "train"


@dataclass(frozen=True)
class ImageFolderData:
    """Images under ``root`` (empty: ``$IPM_CELEBA_DIR``), e.g. CelebA: center-cropped, resized
    to ``size`` with Lanczos, scaled to [−1, 1]; RGB (``channels`` 3) or grayscale (1)."""

    name: Literal["image_folder"] = "image_folder"
    root: str = ""
    size: int = 64
    channels: Literal[1, 3] = 3

    def __post_init__(self):
        _positive(self, "size")


DataConfig = GaussiansData | DigitsData | MNISTData | ImageFolderData
DATA_CONFIGS: dict[str, type] = {
    "gaussians": GaussiansData,
    "digits": DigitsData,
    "mnist": MNISTData,
    "image_folder": ImageFolderData,
}


@dataclass(frozen=True)
class OptimConfig:
    """Adam hyperparameters."""

    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0

    def __post_init__(self):
        _positive(self, "lr")
        _non_negative(self, "weight_decay")
        _require(
            all(0 <= b < 1 for b in self.betas), "betas", f"expected in [0, 1), got {self.betas}"
        )


_Init = Literal["default", "normal", "orthogonal"]
_Act = Literal["leaky_relu", "relu", "tanh", "gelu", "silu", "softplus"]


@dataclass(frozen=True)
class MLPConfig:
    """An MLP: ``depth`` hidden layers of ``width`` units (any data)."""

    kind: Literal["mlp"] = "mlp"
    width: int = 512
    depth: int = 4
    activation: _Act = "leaky_relu"
    init: _Init = "default"  # normal: W ~ N(0, init_gain²), b = 0; orthogonal: gain init_gain
    init_gain: float = 0.02
    # time/noise embedding when the MLP is conditioned (denoisers, Discriminator Flow):
    # random Fourier features, or smooth positional sinusoids (better for c_noise on images)
    embedding: Literal["fourier", "positional"] = "fourier"

    def __post_init__(self):
        _positive(self, "width", "depth", "init_gain")


@dataclass(frozen=True)
class DCGANConfig:
    """A DCGAN generator or discriminator (:mod:`ipm.nets.dcgan`), images of side 16–128."""

    kind: Literal["dcgan"] = "dcgan"
    width: int = 64
    batch_norm: bool = False
    activation: _Act = "leaky_relu"
    init: _Init = "normal"
    init_gain: float = 0.02

    def __post_init__(self):
        _positive(self, "width", "init_gain")


@dataclass(frozen=True)
class ResNetConfig:
    """A SAGAN-style ResNet generator or discriminator with self-attention at resolution
    ``attention`` (0: none) (:mod:`ipm.nets.resnet`)."""

    kind: Literal["resnet"] = "resnet"
    width: int = 64
    attention: int = 32
    batch_norm: bool = True  # generators only: the ResNet discriminator has no normalisation
    activation: _Act = "leaky_relu"
    init: _Init = "normal"
    init_gain: float = 0.02

    def __post_init__(self):
        _positive(self, "width", "init_gain")
        _non_negative(self, "attention")


@dataclass(frozen=True)
class UNetConfig:
    """An EDM-style U-Net denoiser body (:mod:`ipm.nets.unet`): ``width`` base channels,
    ``channel_mult`` per level, ``num_blocks`` per level, attention at the listed resolutions."""

    kind: Literal["unet"] = "unet"
    width: int = 16
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_blocks: int = 2
    attention: tuple[int, ...] = (16,)
    dropout: float = 0.0
    embedding: int = 256
    embedding_kind: Literal["positional", "fourier"] = "positional"

    def __post_init__(self):
        _positive(self, "width", "num_blocks", "embedding")
        _require(
            len(self.channel_mult) > 0 and all(m > 0 for m in self.channel_mult),
            "channel_mult",
            f"expected positive multipliers, got {list(self.channel_mult)}",
        )
        _require(0 <= self.dropout < 1, "dropout", f"expected in [0, 1), got {self.dropout}")


NetConfig = MLPConfig | DCGANConfig | ResNetConfig | UNetConfig
NET_CONFIGS: dict[str, type] = {
    "mlp": MLPConfig,
    "dcgan": DCGANConfig,
    "resnet": ResNetConfig,
    "unet": UNetConfig,
}


def _net_kinds(obj, name: str, kinds: tuple[str, ...]) -> None:
    kind = getattr(obj, name).kind
    _require(kind in kinds, f"{name}.kind", f"expected one of {list(kinds)} here, got {kind!r}")


@dataclass(frozen=True)
class TrainConfig:
    """What the engine owns: step count, batch, cadences, EMA, threads and device."""

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

    def __post_init__(self):
        _positive(self, "steps", "batch_size", "log_every", "checkpoint_every", "threads")
        _non_negative(self, "eval_every", "keep_every")
        _require(0 <= self.ema < 1, "ema", f"expected a decay in [0, 1), got {self.ema}")


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
        _positive(self, "n_samples", "w2_n", "w2_draws", "mmd_bandwidth", "figure_points", "grid")
        _positive(self, "feature_batch", "keep_features")


@dataclass(frozen=True)
class EDMConfig:
    """EDM (Karras et al. 2022): a preconditioned denoiser; the flow is the ODE (8) / SDE (7)."""

    name: Literal["edm"] = "edm"
    sigma_min: float = 0.002
    sigma_max: float = 40.0
    sigma_data: float = 0.5
    rho: float = 7.0
    p_mean: float = -1.2
    p_std: float = 1.2
    sampler: Literal["heun", "euler", "sde"] = "heun"
    sampler_steps: int = 28
    net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128  # Fourier embedding of c_noise for an MLP net (a U-Net has its own)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        _positive(self, "sigma_min", "sigma_max", "sigma_data", "rho", "p_std")
        _positive(self, "sampler_steps", "embedding_dim")
        _sigma_range(self)
        _net_kinds(self, "net", ("mlp", "unet"))


@dataclass(frozen=True)
class GANConfig:
    """A GAN (Eq. 15–16) as an Int-PM: the generator follows the discriminator flow (Eq. 20)."""

    name: Literal["gan"] = "gan"
    loss: Literal["ns", "hinge", "ipm"] = "ns"
    gp_weight: float = 0.0
    gp_on: Literal["interpolates", "real", "fake"] = "interpolates"
    gp_center: float = 1.0  # penalty (‖∇f‖ − gp_center)²; 0: zero-centred
    d_steps: int = 1
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    discriminator: NetConfig = field(default_factory=MLPConfig)
    g_optim: OptimConfig = field(default_factory=OptimConfig)
    d_optim: OptimConfig = field(default_factory=OptimConfig)

    def __post_init__(self):
        _non_negative(self, "gp_weight", "gp_center")
        _positive(self, "d_steps", "latent_dim")
        _net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))
        _net_kinds(self, "discriminator", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class ScoreGANConfig:
    """Score GAN (Algorithm 1, Eq. 26–28): generator × score-difference flow."""

    edm_checkpoint: str  # a trained EDM run directory or checkpoint file: the data score
    name: Literal["score_gan"] = "score_gan"
    sigma_min: float = 0.1
    sigma_max: float = 10.0
    rho: float = 3.0
    sigma_data: float = 0.5
    score_steps: int = 10  # K
    # the generated-score loss: Eq. 23 unweighted, σ from Eq. 28 (as the official code), or
    # with EDM's weight λ(σ)
    score_loss: Literal["plain", "edm"] = "plain"
    mu_p: float = 1.0
    mu_rho: float = 1.0
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    score_net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))
    score_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        _positive(self, "sigma_min", "sigma_max", "rho", "sigma_data", "score_steps")
        _positive(self, "latent_dim", "embedding_dim")
        _non_negative(self, "mu_p", "mu_rho")
        _require(bool(self.edm_checkpoint), "edm_checkpoint", "expected a path, got ''")
        _sigma_range(self)
        _net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))
        _net_kinds(self, "score_net", ("mlp", "unet"))


@dataclass(frozen=True)
class DiscrFlowConfig:
    """Discriminator Flow (Algorithm 3): a time-conditioned discriminator, no generator.

    ``schedule="paper"`` simulates the whole N-step Euler trajectory per training step and
    trains at one random step per sample. ``schedule="multi_time"`` trains at
    ``times_per_trajectory`` random steps of each simulated trajectory (one discriminator
    update per chosen time), so the simulation cost is shared by that many updates.
    ``schedule="persistent"`` keeps B particles at staggered steps of the flow and advances each
    by one Euler step per update (restarting from noise at t = 1): one field evaluation per
    update instead of a trajectory, with trajectories made by the last N discriminators.
    """

    name: Literal["discr_flow"] = "discr_flow"
    loss: Literal["ns", "hinge", "ipm"] = "ns"
    gp_weight: float = 0.0
    gp_on: Literal["interpolates", "real", "fake"] = "interpolates"
    gp_center: float = 1.0  # penalty (‖∇f‖ − gp_center)²; 0: zero-centred (Table 4)
    eta: float = 20.0
    flow_steps: int = 56  # N
    net: NetConfig = field(default_factory=MLPConfig)
    time_embedding: int = 128
    time_scale: float = 16.0
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: Literal["paper", "multi_time", "persistent"] = "paper"
    times_per_trajectory: int = 1
    sample_stop: int = 0  # stop sampling after this many steps (0: the full N)
    # the prior π = N(prior_mean·1, prior_std² I) (the official code's p_mean / p_std)
    prior_mean: float = 0.0
    prior_std: float = 1.0

    def __post_init__(self):
        _positive(self, "eta", "flow_steps", "time_embedding", "time_scale", "prior_std")
        _positive(self, "times_per_trajectory")
        _non_negative(self, "gp_weight", "gp_center", "sample_stop")
        _require(
            self.sample_stop <= self.flow_steps,
            "sample_stop",
            f"expected <= flow_steps = {self.flow_steps}, got {self.sample_stop}",
        )
        _net_kinds(self, "net", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class SDFlowConfig:
    """Score-difference flow (Weber, arXiv 2304.12906) with two learned denoisers: the target
    (data) and the source (the particles as they move). ``variant="particles"``: a pool of
    ``n_particles`` particles is the model (a PM); ``"generator"``: a generator follows the same
    field (an Int-PM)."""

    name: Literal["sd_flow"] = "sd_flow"
    variant: Literal["particles", "generator"] = "particles"
    n_particles: int = 10_000
    move_batch: int = 0  # particles moved per step (0: the whole pool)
    warmup: int = 0  # steps that train the denoisers only, before the flow starts
    eta: float = 0.5
    # > 0: after each move, clamp the pool's coordinates to [−clip, clip] (images live in
    # [−1, 1]; a denoiser difference evaluated far off the data can grow without bound)
    clip: float = 0.0
    sigma_min: float = 0.05
    sigma_max: float = 5.0
    rho: float = 3.0
    sigma_data: float = 0.5
    data_steps: int = 1  # denoising steps of the target (data) denoiser per flow step
    score_steps: int = 1  # denoising steps of the source denoiser per flow step
    score_loss: Literal["plain", "edm"] = "edm"
    net: NetConfig = field(default_factory=MLPConfig)
    embedding_dim: int = 128
    latent_dim: int = 128
    generator: NetConfig = field(default_factory=MLPConfig)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))
    g_optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.9, 0.999)))

    def __post_init__(self):
        _positive(self, "n_particles", "eta", "sigma_min", "sigma_max", "rho", "sigma_data")
        _positive(self, "data_steps", "score_steps", "embedding_dim", "latent_dim")
        _non_negative(self, "move_batch", "warmup", "clip")
        _sigma_range(self)
        _net_kinds(self, "net", ("mlp", "unet"))
        _net_kinds(self, "generator", ("mlp", "dcgan", "resnet"))


@dataclass(frozen=True)
class DMMDConfig:
    """Diffusion-MMD gradient flow (Galashov, De Bortoli, Gretton, arXiv 2405.06780): a
    noise-conditional feature map φ(x, t) trained, without adversarial training, to maximise
    MMD² between clean data and data noised by a forward diffusion at level t; sampling follows
    the noise-adaptive MMD gradient flow from t = 1 down to ``t_min``."""

    name: Literal["dmmd"] = "dmmd"
    features: int = 64  # dimension of φ(x, t): the linear kernel k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩
    net: NetConfig = field(default_factory=MLPConfig)
    time_embedding: int = 128
    time_scale: float = 16.0
    t_min: float = 0.001
    levels_per_step: int = 4  # noise levels per training batch (the batch splits evenly)
    gp_weight: float = 0.1  # gradient penalty on the witness, (‖∇f‖ − 1)² at interpolates
    l2_weight: float = 0.001  # penalty on E‖φ‖² (both batches)
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(betas=(0.5, 0.999)))
    # sampling (noise-adaptive MMD gradient flow)
    flow_levels: int = 50  # noise levels from t = 1 to t_min
    steps_per_level: int = 4  # gradient steps on the particles at each level
    eta: float = 1.0  # particle step size
    reference: int = 2048  # clean data points held for the data mean embedding at sampling
    noise_injection: float = 0.0  # std of noise added to the particles at each level (× σ_t)

    def __post_init__(self):
        _positive(self, "features", "time_embedding", "time_scale", "t_min", "levels_per_step")
        _positive(self, "flow_levels", "steps_per_level", "eta", "reference")
        _non_negative(self, "gp_weight", "l2_weight", "noise_injection")
        _require(self.t_min < 1, "t_min", f"expected < 1, got {self.t_min}")
        _net_kinds(self, "net", ("mlp", "dcgan", "resnet"))


ModelConfig = EDMConfig | GANConfig | ScoreGANConfig | DiscrFlowConfig | SDFlowConfig | DMMDConfig
MODEL_CONFIGS: dict[str, type] = {
    "edm": EDMConfig,
    "gan": GANConfig,
    "score_gan": ScoreGANConfig,
    "discr_flow": DiscrFlowConfig,
    "sd_flow": SDFlowConfig,
    "dmmd": DMMDConfig,
}


@dataclass(frozen=True)
class RunConfig:
    """A whole run: model, data, training and evaluation settings, and the seed."""

    model: ModelConfig
    train: TrainConfig
    seed: int = 0
    data: DataConfig = field(default_factory=GaussiansData)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self):
        _non_negative(self, "seed")


# --------------------------------------------------------------------------- building

# unions tagged by a field: (union, tag, tag value → class, tag value when the key is absent)
_TAGGED_UNIONS = (
    (ModelConfig, "name", MODEL_CONFIGS, None),
    (NetConfig, "kind", NET_CONFIGS, "mlp"),
    (DataConfig, "name", DATA_CONFIGS, "gaussians"),
)


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(tp, value, key: str):
    origin = typing.get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin in (Union, types.UnionType):
        for union, tag, table, default in _TAGGED_UNIONS:
            if tp == union:
                if not isinstance(value, dict):
                    raise ConfigError(key, f"expected a mapping, got {type(value).__name__}")
                name = value.get(tag, default)
                if name not in table:
                    raise ConfigError(
                        f"{key}.{tag}", f"expected one of {sorted(table)}, got {name!r}"
                    )
                return _build(table[name], value, key)
    if origin is Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(key, f"expected one of {list(allowed)}, got {value!r}")
        return value
    if origin is tuple and typing.get_args(tp)[-1] is Ellipsis:
        (arg, _) = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, f"expected a list, got {value!r}")
        return tuple(_convert(arg, v, f"{key}[{i}]") for i, v in enumerate(value))
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(key, f"expected a list of {len(args)} values, got {value!r}")
        return tuple(_convert(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "2e-4" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise ConfigError(key, f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    raise TypeError(f"{key}: unsupported config type {_type_name(tp)}")  # a bug, not user input


def _build(cls, data, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(prefix, f"expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for k in data:
        if k not in fields:
            raise ConfigError(
                f"{prefix}.{k}" if prefix else str(k),
                f"unknown key (expected one of {sorted(fields)})",
            )
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], key)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(key, "missing required key")
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise ConfigError(
            f"{prefix}.{e.key}" if prefix else e.key, str(e).split(": ", 1)[-1]
        ) from None


# Defaults that changed after runs had been saved without the key: a run saved before the key
# existed behaved as the old default, so it is read with that value (not today's default).
# model name -> {model key: the behaviour before the key existed}
LEGACY_MODEL_DEFAULTS: dict[str, dict[str, object]] = {
    # before dbbbfd7 the generated score was trained with EDM's lambda(sigma) weighting
    "score_gan": {"score_loss": "edm"},
}


def saved_run_config(d: dict) -> RunConfig:
    """The config of a saved run (a checkpoint's or run directory's dict): keys added since it
    was saved take the value that reproduces the run's behaviour (:data:`LEGACY_MODEL_DEFAULTS`),
    else today's default."""
    model = d.get("model") if isinstance(d, dict) else None
    if isinstance(model, dict):
        legacy = LEGACY_MODEL_DEFAULTS.get(model.get("name"), {})
        missing = {k: v for k, v in legacy.items() if k not in model}
        if missing:
            d = {**d, "model": {**model, **missing}}
    return config_from_dict(d)


def config_from_dict(data: dict) -> RunConfig:
    """Build and validate a :class:`RunConfig` from plain data (e.g. parsed YAML)."""
    return _build(RunConfig, data, "")


def config_to_dict(cfg) -> dict:
    """Plain-data form of a config (tuples as lists), as written to ``RUN_DIR/config.yaml``."""

    def conv(v):
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, tuple):
            return [conv(x) for x in v]
        return v

    return conv(cfg)


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply ``key.path=value`` overrides (values parsed as YAML scalars) to a nested dict."""
    import copy

    import yaml

    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(item, "expected an override of the form key.path=value")
        path, raw = item.split("=", 1)
        keys = path.strip().split(".")
        if not all(keys):
            raise ConfigError(path, "empty key in override path")
        node = data
        for i, k in enumerate(keys[:-1]):
            nxt = node.get(k)
            if nxt is None:
                nxt = node[k] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(".".join(keys[: i + 1]), f"is a value ({nxt!r}), not a section")
            node = nxt
        node[keys[-1]] = yaml.safe_load(raw)
    return data


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML run config, apply ``--set`` overrides, validate (errors name the key)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config: no such file {str(path)!r}")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError("", f"{path}: not valid YAML ({e})") from None
    return config_from_dict(apply_overrides(data, overrides or []))

"""The training engine, checkpoints and run directories (see :mod:`ipm.engine.trainer`)."""

from .checkpoint import CheckpointError, find_checkpoint, load_checkpoint, save_checkpoint
from .config import (
    EvalConfig,
    RunConfig,
    TrainConfig,
    config_from_dict,
    load_config,
    saved_run_config,
)
from .rundir import Interrupted, RunLockedError
from .trainer import NonFiniteError, TrainResult, ensure_run, load_run, train

__all__ = [
    "CheckpointError",
    "EvalConfig",
    "RunConfig",
    "TrainConfig",
    "config_from_dict",
    "ensure_run",
    "Interrupted",
    "RunLockedError",
    "load_config",
    "saved_run_config",
    "NonFiniteError",
    "TrainResult",
    "find_checkpoint",
    "load_checkpoint",
    "load_run",
    "save_checkpoint",
    "train",
]

"""The training engine, checkpoints and run directories (see :mod:`ipm.engine.trainer`)."""

from .checkpoint import CheckpointError, find_checkpoint, load_checkpoint, save_checkpoint
from .trainer import NonFiniteError, TrainResult, data_distribution, load_run, train

__all__ = [
    "CheckpointError",
    "NonFiniteError",
    "TrainResult",
    "data_distribution",
    "find_checkpoint",
    "load_checkpoint",
    "load_run",
    "save_checkpoint",
    "train",
]

"""Train-or-resume for experiments: a run that is complete is reused, a partial one resumed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_run(config: str | Path, overrides: list[str], run: Path) -> Path:
    """Train ``config`` (repository-relative or absolute) with ``overrides`` into ``run``,
    unless ``run`` already holds all its steps; a partial run is resumed."""
    from ipm.config import load_config
    from ipm.engine import load_checkpoint, train

    path = Path(config)
    cfg = load_config(path if path.is_absolute() else ROOT / path, overrides)
    last = run / "checkpoints" / "last.pt"
    if last.is_file():
        from ipm.config import config_to_dict
        from ipm.engine.trainer import _resume_mismatch, saved_config

        payload = load_checkpoint(last)
        diff = _resume_mismatch(saved_config(payload), config_to_dict(cfg))
        if diff:
            raise ValueError(
                f"{run} holds a run of another config ({'; '.join(diff)}); pass another --runs "
                "directory or delete it"
            )
        if int(payload["step"]) >= cfg.train.steps:
            return run
        train(cfg, run, resume=True)
    else:
        train(cfg, run)
    return run

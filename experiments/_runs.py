"""Train-or-resume for experiments: a run that is complete is reused, a partial one resumed;
and evaluations cached beside a run, keyed by its checkpoint's bytes and the settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def ensure_run(config: str | Path, overrides: list[str], run: Path) -> Path:
    """Train ``config`` (repository-relative or absolute) with ``overrides`` into ``run``,
    unless ``run`` already holds all its steps; a partial run is resumed."""
    from ipm.engine import load_checkpoint, load_config, train

    path = Path(config)
    cfg = load_config(path if path.is_absolute() else ROOT / path, overrides)
    last = run / "checkpoints" / "last.pt"
    if last.is_file():
        from ipm.config import to_dict as config_to_dict
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


def checkpoint_digest(run: Path) -> str:
    """sha256 of ``run/checkpoints/last.pt``."""
    h = hashlib.sha256()
    with open(Path(run) / "checkpoints" / "last.pt", "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_evaluation(
    run: Path, name: str, settings: dict, evaluate: Callable[[], dict]
) -> tuple[dict, bool]:
    """``evaluate()``, cached in ``run/<name>``: reused only for the same checkpoint bytes and
    the same ``settings`` (an interrupted experiment resumes without re-sampling). Returns the
    result and whether it was reused. The cache is written atomically."""
    key = {"checkpoint_sha256": checkpoint_digest(run), **settings}
    cache = Path(run) / name
    if cache.is_file():
        try:
            saved = json.loads(cache.read_text())
        except json.JSONDecodeError:
            saved = {}
        if saved.get("key") == key:
            return saved["result"], True
    result = evaluate()
    tmp = cache.with_suffix(cache.suffix + ".tmp")
    tmp.write_text(json.dumps({"key": key, "result": result}, indent=2) + "\n")
    tmp.replace(cache)
    return result, False

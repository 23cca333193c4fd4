"""The runs several figures are drawn from: per data set, the config folder of its models and
the EDM and Discriminator Flow runs of Figures 1 and 7 (trained here unless given)."""

from __future__ import annotations

from pathlib import Path

from ipm.engine import ensure_run

from . import CONFIGS

#: the config folder of each data set's models (CPU budgets for the image data)
CONFIG_DIRS = {"gaussians": "gaussians", "digits": "digits-cpu", "mnist": "mnist-cpu"}
#: the models' names in tables
TITLES = {
    "edm": "EDM",
    "discr_flow": "Discr. Flow",
    "gan": "GAN",
    "score_gan": "Score GAN",
    "sd_flow": "SD flow",
    "dmmd": "DMMD",
}
#: the --quick training budgets
QUICK = {"edm": ["train.steps=200"], "discr_flow": ["train.steps=100"]}


def config(data: str, model: str) -> Path:
    """The config of ``model`` for ``data``."""
    return CONFIGS / CONFIG_DIRS[data] / f"{model}.yaml"


def edm_and_discr_flow(a) -> dict[str, Path]:
    """{"edm": run, "discr_flow": run} for ``a.data``: ``a.edm`` / ``a.df`` where given, else
    trained (or reused) under ``a.runs/a.data`` with ``a.seed`` and ``a.threads``."""
    runs = {}
    for name, given in (("edm", a.edm), ("discr_flow", a.df)):
        if given:
            runs[name] = Path(given)
            continue
        extra = [f"train.threads={a.threads}", "eval.animation=false", f"seed={a.seed}"]
        if a.quick:
            extra += QUICK[name] + ["train.checkpoint_every=50", "train.log_every=50"]
        runs[name] = ensure_run(config(a.data, name), extra, a.runs / a.data / name)
    return runs

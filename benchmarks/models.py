"""Seconds per training step of a config folder's models, measured side by side (not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.models [--configs gaussians] [--rounds 3] \
        [--precision fp32 bf16] [--threads 1] [--set KEY=VALUE ...] [--score-gan-edm RUN] \
        [--json FILE]

Each model is built from its config in ``experiments/configs/<--configs>/`` exactly as
``ipm train`` builds it (same data, optimisers and ``train.precision``: each config is timed at
every ``--precision`` given, its own where none is; one thread unless ``--threads``, and
``--threads 0`` runs each config at its own ``train.threads``), warmed
up, then timed step by step (EMA and checkpoints excluded). The models take turns for ``--rounds`` rounds, so that the host's noise falls on
all of them alike; the figures are the median and the mean step time over all rounds (the mean
is the one to read for schedules whose steps differ, e.g. ``multi_time``, which simulates on
one update in k). Score GAN needs the EDM
run its config names (``runs/<folder>/edm``, or ``--score-gan-edm RUN``); it is
skipped, saying so, when that is missing. The image folders (``mnist-cpu``, ``digits-cpu``) time
their six configs; on MNIST ``$IPM_MNIST_DIR`` names the data.
``train_seconds_per_step`` in a run's ``metrics.json`` is the same timer averaged over a whole
run (and disturbed by whatever else ran then); this script is for clean comparisons.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]

#: seconds per step of the official implementation (White-Link/gpm) on a 2-core CPU, 1 thread
REFERENCE = {"edm": 0.0088, "gan": 0.031, "score_gan": 0.011 * 10, "discr_flow": 0.267}

#: per config folder: (label, config file, overrides, timed steps per round)
VARIANTS: dict[str, list[tuple[str, str, list[str], int]]] = {}
VARIANTS["gaussians"] = [
    ("edm", "edm.yaml", [], 200),
    ("gan", "gan.yaml", [], 100),
    ("score_gan", "score_gan.yaml", [], 15),
    ("score_gan K=5", "score_gan.yaml", ["model.score_steps=5"], 25),
    ("discr_flow", "discr_flow.yaml", [], 20),
    (
        "discr_flow multi_time k=4",
        "discr_flow.yaml",
        ["model.schedule=multi_time", "model.times_per_trajectory=4"],
        40,
    ),
    ("discr_flow persistent", "discr_flow.yaml", ["model.schedule=persistent"], 100),
]
_IMAGE_STEPS = {"edm": 8, "discr_flow": 8, "gan": 8, "score_gan": 4, "sd_flow": 8, "dmmd": 4}
for _folder in ("mnist-cpu", "digits-cpu"):
    VARIANTS[_folder] = [(m, f"{m}.yaml", [], n) for m, n in _IMAGE_STEPS.items()]


def _setup(config: Path, overrides: list[str], threads: int):
    """(model, optimisers, step context, config) as ``ipm train`` builds them."""
    from ipm.data import data_shape, training_dataset
    from ipm.engine import load_config
    from ipm.engine.rundir import resolve_paths
    from ipm.engine.trainer import model_inputs
    from ipm.models import StepContext, build_model

    cfg = load_config(config, overrides + ([f"train.threads={threads}"] if threads else []))
    cfg, _ = resolve_paths(cfg, None)
    torch.set_num_threads(cfg.train.threads)
    dist = training_dataset(cfg.data, progress=False)
    shape = data_shape(dist)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, shape, **model_inputs(cfg, shape))
    model.accelerate(cfg.train.precision, False)
    opts = model.make_optimizers()
    ctx = StepContext(
        torch.Generator().manual_seed(cfg.seed + 1),
        lambda n, g: dist.sample(n, generator=g),
        torch.device("cpu"),
    )
    return model, opts, ctx, cfg


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--configs",
        choices=sorted(VARIANTS),
        default="gaussians",
        help="the folder of experiments/configs whose models are timed",
    )
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="0: each config's train.threads")
    p.add_argument(
        "--precision",
        nargs="+",
        choices=("fp32", "bf16", "fp16"),
        default=None,
        help="time each config at each of these (default: the config's own)",
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override for every config (repeatable)",
    )
    p.add_argument(
        "--score-gan-edm",
        default=None,
        metavar="RUN",
        help="the EDM run of the Score GAN's data score (default: its config's)",
    )
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    cfg_dir = ROOT / "experiments" / "configs" / a.configs

    def overrides(label: str, over: list[str], precision: str | None) -> list[str]:
        edm = [f"model.edm_checkpoint={a.score_gan_edm}"]
        return (over + a.overrides + (edm if a.score_gan_edm and "score_gan" in label else [])
                + ([f"train.precision={precision}"] if precision else []))  # fmt: skip

    # (key (label, precision), config file, overrides, timed steps per round)
    jobs = [((label, pr), file, overrides(label, over, pr), n)
            for label, file, over, n in VARIANTS[a.configs]
            for pr in (a.precision or [None])]  # fmt: skip
    built, times = {}, {}
    for key, file, over, _ in jobs:
        label = key[0]
        try:
            built[key] = _setup(cfg_dir / file, over, a.threads)
        except (FileNotFoundError, ValueError) as e:
            print(f"skipping {label}: {e}")
            continue
        model, opts, ctx, _ = built[key]
        for _ in range(a.warmup):
            model.train_step(ctx, opts)
        times[key] = []
    for r in range(a.rounds):
        for key, _, _, n in jobs:
            if key not in built:
                continue
            model, opts, ctx, cfg = built[key]
            torch.set_num_threads(cfg.train.threads)
            for _ in range(n):
                t0 = time.perf_counter()
                model.train_step(ctx, opts)
                times[key].append(time.perf_counter() - t0)
        print(f"round {r + 1}/{a.rounds} done")
    rows = []
    print(
        f"\n{'model':28s} {'precision':>9s} {'threads':>7s} {'median s/step':>13s} {'mean':>8s} "
        f"{'reference':>9s} {'ratio':>6s}  (ratio = median / reference)"
    )
    for key, ts in times.items():
        label, cfg = key[0], built[key][3]
        precision = cfg.train.precision
        med, mean = statistics.median(ts), statistics.fmean(ts)
        ref = None
        if a.configs == "gaussians" and " " not in label and precision == "fp32":
            ref = REFERENCE.get(label)
        rows.append(
            {
                "configs": a.configs,
                "model": label,
                "precision": precision,
                "median_s_per_step": med,
                "mean_s_per_step": mean,
                "steps_timed": len(ts),
                "config_steps": cfg.train.steps,
                "reference_s_per_step": ref,
                "threads": cfg.train.threads,
            }
        )
        ratio = f"{med / ref:6.2f}" if ref else "     –"
        reft = f"{ref:.4g}" if ref else "–"
        print(
            f"{label:28s} {precision:>9s} {cfg.train.threads:7d} {med:13.4f} {mean:8.4f} "
            f"{reft:>9s} {ratio}"
        )
    if a.configs == "gaussians":
        print(
            "score_gan: one step = K = 10 score updates + 1 generator update; the reference's "
            "step is one score update with a generator update every 10th, so its figure is "
            "10 × 0.011 s"
        )
    if a.json:
        save(a.json, "models", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

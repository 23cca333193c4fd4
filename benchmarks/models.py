"""Seconds per training step of the Gaussians models, measured side by side (not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.models [--rounds 3] [--json FILE]

Each model is built from its config in ``experiments/configs/gaussians/`` exactly as
``ipm train`` builds it (same optimisers, one thread unless ``--threads``), warmed up, then timed
step by step. The models take turns for ``--rounds`` rounds, so that the host's noise falls on
all of them alike; the figures are the median and the mean step time over all rounds (the mean
is the one to read for schedules whose steps differ, e.g. ``multi_time``, which simulates on
one update in k). Score GAN needs the EDM
run its config names (``runs/gaussians/edm``); it is skipped, saying so, when that is missing.
``train_seconds_per_step`` in a run's ``metrics.json`` is the same timer averaged over a whole
run (and disturbed by whatever else ran then); this script is for clean comparisons.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]

#: seconds per step of the official implementation (White-Link/gpm) on a 2-core CPU, 1 thread
REFERENCE = {"edm": 0.0088, "gan": 0.031, "score_gan": 0.011 * 10, "discr_flow": 0.267}

#: (label, config file, overrides, timed steps per round)
VARIANTS = [
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


def _setup(config: Path, overrides: list[str], threads: int):
    import torch

    from ipm.data import dataset
    from ipm.engine import load_config
    from ipm.engine.trainer import model_inputs
    from ipm.models import StepContext, build_model

    cfg = load_config(config, overrides + [f"train.threads={threads}"])
    torch.set_num_threads(threads)
    dist = dataset(cfg.data)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, dist.dim, **model_inputs(cfg, (dist.dim,)))
    opts = model.make_optimizers()
    ctx = StepContext(
        torch.Generator().manual_seed(cfg.seed + 1),
        lambda n, g: dist.sample(n, generator=g),
        torch.device("cpu"),
    )
    return model, opts, ctx


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    cfg_dir = ROOT / "experiments" / "configs" / "gaussians"
    built, times = {}, {}
    for label, file, over, _ in VARIANTS:
        try:
            built[label] = _setup(cfg_dir / file, over, a.threads)
        except (FileNotFoundError, ValueError) as e:
            print(f"skipping {label}: {e}")
            continue
        model, opts, ctx = built[label]
        for _ in range(a.warmup):
            model.train_step(ctx, opts)
        times[label] = []
    for r in range(a.rounds):
        for label, _, _, n in VARIANTS:
            if label not in built:
                continue
            model, opts, ctx = built[label]
            for _ in range(n):
                t0 = time.perf_counter()
                model.train_step(ctx, opts)
                times[label].append(time.perf_counter() - t0)
        print(f"round {r + 1}/{a.rounds} done")
    rows = []
    print(
        f"\n{'model':28s} {'median s/step':>13s} {'mean':>8s} {'reference':>9s} {'ratio':>6s}"
        f"  (threads={a.threads}; ratio = median / reference)"
    )
    for label, ts in times.items():
        med, mean = statistics.median(ts), statistics.fmean(ts)
        ref = REFERENCE.get(label.split()[0]) if " " not in label else None
        rows.append(
            {
                "model": label,
                "median_s_per_step": med,
                "mean_s_per_step": mean,
                "steps_timed": len(ts),
                "reference_s_per_step": ref,
                "threads": a.threads,
            }
        )
        ratio = f"{med / ref:6.2f}" if ref else "     –"
        reft = f"{ref:.4g}" if ref else "–"
        print(f"{label:28s} {med:13.4f} {mean:8.4f} {reft:>9s} {ratio}")
    print(
        "score_gan: one step = K = 10 score updates + 1 generator update; the reference's step is "
        "one score update with a generator update every 10th, so its figure is 10 × 0.011 s"
    )
    if a.json:
        save(a.json, "models", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

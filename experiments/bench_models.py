"""Seconds per training step of the Gaussians models, measured side by side (not a test).

    OMP_WAIT_POLICY=PASSIVE python experiments/bench_models.py [--rounds 3] [--json FILE]

Each model is built from its config in ``experiments/configs/gaussians/`` exactly as
``ipm train`` builds it (same optimisers, one thread unless ``--threads``), warmed up, then timed
step by step. The models take turns for ``--rounds`` rounds, so that the host's noise falls on
all of them alike; the figures are the median and the mean step time over all rounds (the mean
is the one to read for schedules whose steps differ, e.g. ``multi_time``, which simulates on
one update in k). Score GAN needs the EDM
run its config names (``runs/gaussians/edm``); it is skipped, saying so, when that is missing.
``train_seconds_per_step`` in a run's ``metrics.json`` is the same timer averaged over a whole
run (and disturbed by whatever else ran then); this script is for clean comparisons.

``--reference FILE`` times another implementation in the same rounds, each model's reference
steps right after ipm's, so that both see the same host speed (it moves by tens of percent from
minute to minute on shared machines). FILE is a Python module defining ``steppers(seed)`` →
{model name: fn}, fn() running one training step of that implementation, and optionally
``UNITS`` = {model name: its steps per ipm step} (1 by default). No such module ships with
ipm: the one behind ``docs/results/gaussians/bench_models.txt`` transcribes the official
code's training steps (White-Link/gpm), whose code stays out of this repository.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: the reference's seconds per step (official code, this machine class, 1 thread; issue 4)
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
    from ipm.engine.trainer import make_adam
    from ipm.models import StepContext, build_model

    cfg = load_config(config, overrides + [f"train.threads={threads}"])
    torch.set_num_threads(threads)
    dist = dataset(cfg.data)
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, dist.dim)
    opts = {n: make_adam(ps, o) for n, (ps, o) in model.optimizer_specs().items()}
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
    p.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="module with steppers(seed) -> {model: one-step fn}, timed in the same rounds",
    )
    a = p.parse_args(argv)
    ref_fns, units = _load_reference(a.reference) if a.reference else ({}, {})
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
    ref_times: dict[str, list[float]] = {}
    for label, fn in ref_fns.items():
        for _ in range(a.warmup * units.get(label, 1)):
            fn()
        ref_times[label] = []
    for r in range(a.rounds):
        for label, _, _, n in VARIANTS:
            if label not in built:
                continue
            model, opts, ctx = built[label]
            for _ in range(n):
                t0 = time.perf_counter()
                model.train_step(ctx, opts)
                times[label].append(time.perf_counter() - t0)
            if label in ref_fns:  # the same model in the other implementation, right after
                fn = ref_fns[label]
                for _ in range(n * units.get(label, 1)):
                    t0 = time.perf_counter()
                    fn()
                    ref_times[label].append(time.perf_counter() - t0)
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
    if ref_times:
        print(
            f"\nside by side with {a.reference.name} (same rounds; s per ipm step, the reference's "
            "mean × its steps per ipm step)"
        )
        print(f"{'model':28s} {'ipm mean':>9s} {'ref mean':>9s} {'ratio':>6s}  (ipm / reference)")
        for label, ts in ref_times.items():
            u = units.get(label, 1)
            ref_mean = u * statistics.fmean(ts)
            ipm_mean = statistics.fmean(times[label])
            row = next(r for r in rows if r["model"] == label)
            row.update(
                side_by_side_reference_mean_s_per_step=ref_mean,
                side_by_side_reference_median_s_per_reference_step=statistics.median(ts),
                side_by_side_reference_steps_per_ipm_step=u,
                side_by_side_ratio=ipm_mean / ref_mean,
            )
            print(f"{label:28s} {ipm_mean:9.4f} {ref_mean:9.4f} {ipm_mean / ref_mean:6.2f}")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))
    return 0


def _load_reference(path: Path) -> tuple[dict, dict]:
    if not path.is_file():
        raise SystemExit(f"--reference: no file {path}")
    spec = importlib.util.spec_from_file_location("ipm_bench_reference", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not callable(getattr(mod, "steppers", None)):
        raise SystemExit(f"--reference: {path} defines no steppers(seed)")
    return mod.steppers(0), dict(getattr(mod, "UNITS", {}))


if __name__ == "__main__":
    raise SystemExit(main())

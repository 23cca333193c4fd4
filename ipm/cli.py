"""The ``ipm`` command: train, sample and evaluate runs; sweep a config over seeds, compare
two sets of seeds, draw learning curves; and the README's demo.

ipm train CONFIG.yaml [--set key.path=value ...] [--out RUN_DIR] [--resume]
ipm sample RUN_DIR --n N [--nfe K] [--out FILE.npz]
ipm evaluate RUN_DIR [--nfe K] [--stop K] [--features SPACE] [--feature-weights FILE]
ipm sweep CONFIG.yaml --seeds 0 1 2 [--set 'k=v{seed}'] [--reference mmd2=1e-2 ...] [--jobs 2]
ipm compare A.json 'B.json:path/*/to' [--labels A B] [--reference mmd2=1e-2 ...] [--out DIR]
ipm curves RUN_DIR [RUN_DIR ...] --out DIR [--reference-mmd2 M --reference-seconds S]
ipm demo [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

__all__ = ["main"]


def _train(args) -> int:
    from .engine import load_config, train
    from .engine.rundir import Interrupted, default_run_dir

    cfg = load_config(args.config, args.set)
    out = Path(args.out) if args.out else default_run_dir(args.config)
    try:
        res = train(cfg, out, resume=args.resume)
    except Interrupted as e:  # SIGINT/SIGTERM: stopped between steps, checkpoint written
        print(f"ipm train: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:  # a second Ctrl-C, or one before training began
        print(f"ipm train: interrupted; {out} keeps its last checkpoint", file=sys.stderr)
        return 130
    print(
        f"trained {cfg.model.name}: {res.steps} steps, {res.seconds_per_step:.4g} s/step "
        f"({cfg.train.threads} thread(s)); run directory {res.run_dir}"
    )
    return 0


def _sample(args) -> int:
    import numpy as np

    from .engine import load_run

    torch.set_num_threads(args.threads)
    cfg, model, _ = load_run(args.run_dir)
    g = torch.Generator().manual_seed(args.seed)
    t0 = time.perf_counter()
    with torch.no_grad():
        s = model.sample(args.n, generator=g, nfe=args.nfe)
    secs = time.perf_counter() - t0
    out = Path(args.out) if args.out else Path(args.run_dir) / "samples.npz"
    np.savez(out, samples=s.x.detach().cpu().numpy(), nfe=s.nfe, seconds=secs)
    print(f"{args.n} samples, NFE {s.nfe}, {secs:.3g} s -> {out}")
    return 0


def _evaluate(args) -> int:
    from .evaluate import evaluate_run

    res = evaluate_run(
        args.run_dir,
        nfe=args.nfe,
        stop=args.stop,
        threads=args.threads,
        features=args.features,
        feature_weights=args.feature_weights,
    )
    name = (
        "metrics.json"
        if args.nfe is None and args.stop is None
        else (
            f"metrics_nfe{args.nfe}.json" if args.stop is None else f"metrics_stop{args.stop}.json"
        )
    )
    out = Path(args.run_dir) / name
    out.write_text(json.dumps(res, indent=2))
    for k, v in res.items():
        print(f"{k:24s} {v:.4g}" if isinstance(v, float) else f"{k:24s} {v}")
    print(f"-> {out}")
    return 0


def _sweep(args) -> int:
    from .sweeps import markdown, parse_reference, sweep

    res = sweep(
        args.config,
        args.seeds,
        args.set,
        parse_reference(args.reference),
        runs_dir=args.runs,
        out=args.out,
        jobs=args.jobs,
        threads=args.threads,
        quick=args.quick,
    )
    print(markdown(res))
    return 0


def _compare(args) -> int:
    from .compare import compare, load_set, markdown
    from .report import Report
    from .sweeps import SHOWN, parse_reference

    if args.labels[0] == args.labels[1]:
        raise ValueError(f"--labels: the two labels must differ, got {args.labels}")
    reference = parse_reference(args.reference)
    a, b = load_set(args.a), load_set(args.b)
    metrics = args.metrics or list(reference)
    if not metrics:
        common = set.intersection(*(set(m) for m in (*a.values(), *b.values())))
        metrics = [k for k in SHOWN if k in common]
    res = {**compare(a, b, metrics, reference, tuple(args.labels)), "sets": [args.a, args.b]}
    text = markdown(res)
    if args.out is not None:
        text = Report("compare_seeds", args.out, "–").write(res, text).read_text()
    print(text)
    return 0


def _curves(args) -> int:
    from .curves import learning_curves, table

    res = learning_curves(
        args.runs,
        args.out,
        threads=args.threads,
        reference_mmd2=args.reference_mmd2,
        reference_seconds=args.reference_seconds,
    )
    print(table(res))
    print(f"-> {Path(args.out) / 'curves.json'}, {Path(args.out) / 'curves.png'}")
    return 0


def _demo(args) -> int:
    from .demo import demo

    demo(Path(args.out), args.steps)
    return 0


def _positive(text: str) -> int:
    """An argparse type: an integer >= 1 (argparse names the flag in its error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="ipm", description="Generative particle models (Franceschi et al. 2023)."
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser(
        "train",
        help="train a model from a YAML config",
        description="Train into a run directory (config.yaml, meta.json, log.jsonl, "
        "checkpoints/last.pt, figures/); --resume continues bit-identically.",
    )
    t.add_argument("config")
    t.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    t.add_argument("--out", help="run directory (default runs/<config folder>/<config name>)")
    t.add_argument("--resume", action="store_true", help="continue from RUN_DIR's checkpoint")
    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run_dir")
    s.add_argument("--n", type=_positive, required=True)
    s.add_argument("--nfe", type=_positive, default=None)
    s.add_argument("--out", default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=_positive, default=1)
    e = sub.add_parser("evaluate", help="metrics of a trained run -> RUN_DIR/metrics.json")
    e.add_argument("run_dir")
    e.add_argument("--nfe", type=_positive, default=None, help="coarser/finer sampling grid")
    e.add_argument(
        "--stop", type=_positive, default=None, help="Discriminator Flow: stop after K steps"
    )
    e.add_argument("--threads", type=_positive, default=1)
    e.add_argument(
        "--features",
        default=None,
        choices=["auto", "classifier", "inception", "torch-fidelity", "none"],
        help="images: feature space of FID/KID/P&R (default: eval.features)",
    )
    e.add_argument("--feature-weights", default=None, help="weights file of the feature network")
    w = sub.add_parser(
        "sweep",
        help="train and evaluate one config over seeds: medians, ranges, seeds meeting figures",
        description="Train CONFIG once per seed (finished runs are reused, partial ones "
        "resumed), evaluate each like `ipm evaluate`, and write seed_sweep.json, README.md and "
        "seed_sweep.png: per metric the median and range, and how many seeds meet --reference.",
    )
    w.add_argument("config", help="a YAML run config")
    w.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    w.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="an override for every seed; {seed} is replaced by the seed",
    )
    w.add_argument(
        "--reference",
        nargs="*",
        default=[],
        metavar="METRIC=FIGURE",
        help="figures a seed meets at or below (at or above where higher is better)",
    )
    w.add_argument(
        "--runs", type=Path, default=None, help="default runs/sweeps/<config folder>/<config name>"
    )
    w.add_argument("--out", type=Path, default=None, help="report directory (default --runs)")
    w.add_argument("--jobs", type=_positive, default=1, help="seeds trained at once (processes)")
    w.add_argument("--threads", type=_positive, default=1, help="evaluation threads")
    w.add_argument("--quick", action="store_true", help="40 steps per seed, 1,000 samples")
    c = sub.add_parser(
        "compare",
        help="two sets of per-seed metrics side by side, with a Mann-Whitney test",
        description="Per metric the median and range of each set and the two-sided "
        "Mann-Whitney U p-value; per set the seeds meeting --reference. A set is FILE[:PATH], "
        "PATH a /-separated path to the per-seed metrics with one * for the seeds (default "
        "runs/*, a seed_sweep.json).",
    )
    c.add_argument("a", help="FILE[:PATH] of the first set")
    c.add_argument("b", help="FILE[:PATH] of the second set")
    c.add_argument("--labels", nargs=2, default=["A", "B"], metavar=("A", "B"))
    c.add_argument("--metrics", nargs="+", default=None, help="default: the --reference keys")
    c.add_argument("--reference", nargs="*", default=[], metavar="METRIC=FIGURE")
    c.add_argument(
        "--out", type=Path, default=None, help="also write compare_seeds.json, README.md"
    )
    v = sub.add_parser(
        "curves",
        help="quality against training seconds over a run's kept checkpoints",
        description="Evaluate every kept checkpoint (train with --set train.keep_every=K) and "
        "write curves.json and curves.png: MMD2 and the off-mode fraction against training "
        "seconds. With --reference-mmd2 M [--reference-seconds S], per run the first "
        "checkpoint at or below M, the first from which every later one stays there, and "
        "whether each came within S/2.",
    )
    v.add_argument("runs", nargs="+", type=Path)
    v.add_argument("--out", type=Path, required=True)
    v.add_argument("--threads", type=_positive, default=1)
    v.add_argument("--reference-mmd2", type=float, default=None)
    v.add_argument("--reference-seconds", type=float, default=None)
    d = sub.add_parser("demo", help="the README's two examples, with a figure")
    d.add_argument("--out", default="demo_out")
    d.add_argument("--steps", type=_positive, default=1000, help="Int-PM training steps")
    args = p.parse_args(argv)
    fn = {
        "train": _train,
        "sample": _sample,
        "evaluate": _evaluate,
        "sweep": _sweep,
        "compare": _compare,
        "curves": _curves,
        "demo": _demo,
    }[args.cmd]
    try:
        return fn(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError, ImportError) as e:
        print(f"ipm {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

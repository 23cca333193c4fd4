"""``ipm`` command line: train, sample, evaluate (and the README demo).

ipm train CONFIG.yaml [--set key.path=value ...] [--out RUN_DIR] [--resume]
ipm sample RUN_DIR --n N [--nfe K] [--out FILE.npz]
ipm evaluate RUN_DIR [--nfe K] [--stop K]
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
    from .config import load_config
    from .engine import train

    cfg = load_config(args.config, args.set)
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem
    res = train(cfg, out, resume=args.resume)
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


def evaluate_run(
    run_dir: str | Path,
    *,
    nfe: int | None = None,
    stop: int | None = None,
    seed: int = 1234,
    threads: int = 1,
) -> dict:
    """Sample ``eval.n_samples`` points and compare them with fresh data (issue 4's metrics)."""
    from .engine import data_distribution, load_run
    from .metrics import evaluate_samples

    torch.set_num_threads(threads)
    run_dir = Path(run_dir)
    cfg, model, payload = load_run(run_dir)
    g = torch.Generator().manual_seed(seed)
    kw = {"stop": stop} if stop is not None else {}
    t0 = time.perf_counter()
    with torch.no_grad():
        s = model.sample(cfg.eval.n_samples, generator=g, nfe=nfe, **kw)
    secs = time.perf_counter() - t0
    common = {
        "nfe": s.nfe,
        "sample_seconds": secs,
        "train_seconds_per_step": float(payload["train_seconds"])
        / max(int(payload["timed_steps"]), 1),
        "steps": int(payload["step"]),
        "n_samples": cfg.eval.n_samples,
        "threads": threads,
    }
    if cfg.data.name != "gaussians":  # images: a sample grid (FID: ipm.metrics, issue 6)
        from .engine.figures import image_grid

        n = min(cfg.eval.grid, s.x.shape[0])
        image_grid(s.x[:n], model.shape, run_dir / "samples.png", max(1, int(n**0.5)))
        return {"data": cfg.data.name, "grid": "samples.png", **common}
    dist = data_distribution(cfg)
    fresh = dist.sample(cfg.eval.n_samples, generator=torch.Generator().manual_seed(seed + 1))
    m = evaluate_samples(
        s.x.detach().cpu().float(),
        fresh,
        dist.means.float(),
        cfg.data.std,
        w2_n=cfg.eval.w2_n,
        w2_draws=cfg.eval.w2_draws,
        bandwidth=cfg.eval.mmd_bandwidth,
        generator=torch.Generator().manual_seed(seed + 2),
    )
    return {**m.as_dict(), **common}


def _evaluate(args) -> int:
    res = evaluate_run(args.run_dir, nfe=args.nfe, stop=args.stop, threads=args.threads)
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


def _demo(args) -> int:
    from .__main__ import demo

    demo(Path(args.out), args.steps)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="ipm", description="Generative particle models.")
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train a model from a YAML config")
    t.add_argument("config")
    t.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE")
    t.add_argument("--out", help="run directory (default runs/<config name>)")
    t.add_argument("--resume", action="store_true", help="continue from RUN_DIR's checkpoint")
    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run_dir")
    s.add_argument("--n", type=int, required=True)
    s.add_argument("--nfe", type=int, default=None)
    s.add_argument("--out", default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1)
    e = sub.add_parser("evaluate", help="metrics of a trained run -> RUN_DIR/metrics.json")
    e.add_argument("run_dir")
    e.add_argument("--nfe", type=int, default=None, help="coarser/finer sampling grid")
    e.add_argument("--stop", type=int, default=None, help="Discriminator Flow: stop after K steps")
    e.add_argument("--threads", type=int, default=1)
    d = sub.add_parser("demo", help="the README's two examples, with a figure")
    d.add_argument("--out", default="demo_out")
    d.add_argument("--steps", type=int, default=1000, help="Int-PM training steps")
    args = p.parse_args(argv)
    fn = {"train": _train, "sample": _sample, "evaluate": _evaluate, "demo": _demo}[args.cmd]
    try:
        return fn(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as e:
        print(f"ipm {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

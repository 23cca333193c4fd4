"""``ipm`` command line: train, sample, evaluate (and the README demo).

ipm train CONFIG.yaml [--set key.path=value ...] [--out RUN_DIR] [--resume]
ipm sample RUN_DIR --n N [--nfe K] [--out FILE.npz]
ipm evaluate RUN_DIR [--nfe K] [--stop K] [--features SPACE] [--feature-weights FILE]
ipm demo [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

__all__ = ["EVAL_SEED", "main"]

EVAL_SEED = 1234  # ``ipm evaluate``'s default seed: its samples and its draw of reference data


def _train(args) -> int:
    from .engine import load_config, train

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


def _evaluate_images(cfg, model, payload, run_dir, g, sample_kw, seed, threads, space, weights):
    """Image runs: a sample grid, then FID/KID/precision-recall against the run's data set.

    Samples are drawn ``eval.feature_batch`` at a time and streamed through the feature network,
    so no more than one batch of images is held (plus ``eval.keep_features`` feature rows).
    """
    import os

    from .data import dataset
    from .engine.figures import image_grid
    from .metrics.features import feature_space
    from .metrics.image_quality import image_quality, reference_batches
    from .metrics.inception import INCEPTION_ENV

    name = space or cfg.eval.features
    weights = weights or cfg.eval.feature_weights or None
    if name == "auto":
        grey = model.shape[0] == 1
        has_inception = bool(weights or os.environ.get(INCEPTION_ENV))
        name = "classifier" if grey else ("inception" if has_inception else "none")
    n = cfg.eval.n_samples if name != "none" else cfg.eval.grid
    pool = model.max_samples  # a particle pool: all of it at most, drawn once (no repeats)
    if pool is not None:
        n = min(n, pool)
    b, shape = cfg.eval.feature_batch, tuple(model.shape)
    clock = {"seconds": 0.0, "nfe": 0}

    def batches():
        if pool is not None:
            out = model.sample(n, generator=g, **sample_kw)
            yield out, out.x.split(b)
            return
        done = 0
        while done < n:
            k = min(b, n - done)
            out = model.sample(k, generator=g, **sample_kw)
            yield out, (out.x,)
            done += k

    def draw():
        first = True
        it = batches()
        while True:
            t0 = time.perf_counter()
            with torch.no_grad():
                nxt = next(it, None)
            clock["seconds"] += time.perf_counter() - t0
            if nxt is None:
                return
            out, parts = nxt
            clock["nfe"] = out.nfe
            for x in parts:
                if first:
                    m = min(cfg.eval.grid, x.shape[0])
                    image_grid(x[:m], shape, run_dir / "samples.png", max(1, int(m**0.5)))
                    first = False
                yield x.reshape(x.shape[0], *shape)

    res = {"data": cfg.data.name, "grid": "samples.png"}
    device = next(next(iter(model.networks.values())).parameters()).device
    if name == "none":
        for _ in draw():
            pass
        res["feature_space"] = "none (no feature network for these images; set eval.features)"
    else:
        data = dataset(cfg.data)
        n_ref = min(n, len(data))
        ref = reference_batches(data, n_ref, b, seed)
        res |= image_quality(
            feature_space(name, weights, device),
            draw(),
            ref,
            n_samples=n,
            n_reference=n_ref,
            keep=cfg.eval.keep_features,
            seed=seed,
        )
    return res | {
        "nfe": clock["nfe"],
        "sample_seconds": clock["seconds"],
        "train_seconds_per_step": float(payload["train_seconds"])
        / max(int(payload["timed_steps"]), 1),
        "steps": int(payload["step"]),
        "n_samples": n,
        **({"pool_size": pool} if pool is not None else {}),
        "threads": threads,
    }


def evaluate_run(
    run_dir: str | Path,
    *,
    nfe: int | None = None,
    stop: int | None = None,
    seed: int = EVAL_SEED,
    threads: int = 1,
    features: str | None = None,
    feature_weights: str | None = None,
    model_overrides: dict | None = None,
    n_samples: int | None = None,
) -> dict:
    """Sample ``eval.n_samples`` points and compare them with the data: W2/MMD²/modes on the
    Gaussians (issue 4's metrics); a grid and FID/KID/precision-recall on images."""
    from .engine import load_run

    torch.set_num_threads(threads)
    run_dir = Path(run_dir)
    cfg, model, payload = load_run(run_dir)
    if model_overrides:  # e.g. {"sampler": "euler"}: sample the trained networks differently
        import dataclasses

        model.cfg = dataclasses.replace(model.cfg, **model_overrides)
    if n_samples is not None:
        import dataclasses

        cfg = dataclasses.replace(cfg, eval=dataclasses.replace(cfg.eval, n_samples=n_samples))
    g = torch.Generator().manual_seed(seed)
    kw = {"stop": stop} if stop is not None else {}
    if cfg.data.name != "gaussians":
        kw["nfe"] = nfe
        return _evaluate_images(
            cfg, model, payload, run_dir, g, kw, seed, threads, features, feature_weights
        )
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
    return {**gaussian_metrics(cfg, s.x, seed), **common}


def gaussian_metrics(cfg, x: torch.Tensor, seed: int = EVAL_SEED) -> dict:
    """Issue 4's 2-D metrics of samples ``x`` against ``cfg.eval.n_samples`` fresh data points
    (W2, MMD², modes, off-mode; settings from ``cfg.eval``), with ``ipm evaluate``'s seeds."""
    from .data import dataset
    from .metrics import evaluate_samples

    dist = dataset(cfg.data)
    fresh = dist.sample(cfg.eval.n_samples, generator=torch.Generator().manual_seed(seed + 1))
    m = evaluate_samples(
        x.detach().cpu().float(),
        fresh,
        dist.means.float(),
        cfg.data.std,
        w2_n=cfg.eval.w2_n,
        w2_draws=cfg.eval.w2_draws,
        bandwidth=cfg.eval.mmd_bandwidth,
        generator=torch.Generator().manual_seed(seed + 2),
        log_prob=dist.log_prob,
    )
    return m.as_dict()


def _evaluate(args) -> int:
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
    e.add_argument(
        "--features",
        default=None,
        choices=["auto", "classifier", "inception", "torch-fidelity", "none"],
        help="images: feature space of FID/KID/P&R (default: eval.features)",
    )
    e.add_argument("--feature-weights", default=None, help="weights file of the feature network")
    d = sub.add_parser("demo", help="the README's two examples, with a figure")
    d.add_argument("--out", default="demo_out")
    d.add_argument("--steps", type=int, default=1000, help="Int-PM training steps")
    args = p.parse_args(argv)
    fn = {"train": _train, "sample": _sample, "evaluate": _evaluate, "demo": _demo}[args.cmd]
    try:
        return fn(args)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError, ImportError) as e:
        print(f"ipm {args.cmd}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

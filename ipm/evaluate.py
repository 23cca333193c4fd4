"""Evaluation of trained runs: samples against the data set, the numbers ``ipm evaluate``
writes to ``RUN_DIR/metrics.json``.

* 2-D runs (the Gaussians): W2, MMD², modes covered and the off-mode fraction
  (:func:`gaussian_metrics`, :func:`ipm.metrics.evaluate_samples`);
* image runs: a sample grid, then FID, KID and precision/recall in a named feature space,
  streamed so that no more than one batch of images is held.

:func:`cached_evaluation` keeps an evaluation beside its run, keyed by the checkpoint's bytes
and the settings, so an interrupted study resumes without sampling again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch

from ._checks import check_positive_int
from .data import dataset
from .engine import load_run
from .engine.checkpoint import file_sha256
from .engine.figures import image_grid
from .metrics import evaluate_samples
from .metrics.features import feature_space
from .metrics.image_quality import image_quality, reference_batches
from .metrics.inception import INCEPTION_ENV

__all__ = ["EVAL_SEED", "cached_evaluation", "evaluate_run", "gaussian_metrics"]

EVAL_SEED = 1234  # ``ipm evaluate``'s default seed: its samples and its draw of reference data


def _evaluate_images(cfg, model, payload, run_dir, g, sample_kw, seed, threads, space, weights):
    """Image runs: a sample grid, then FID/KID/precision-recall against the run's data set.

    Samples are drawn ``eval.feature_batch`` at a time and streamed through the feature network,
    so no more than one batch of images is held (plus ``eval.keep_features`` feature rows).
    """
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
    # a run's grid is RUN_DIR/samples.png; a checkpoint file's lies beside it, named after it
    grid = run_dir / "samples.png" if run_dir.is_dir() else run_dir.with_suffix(".samples.png")

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
                    image_grid(x[:m], shape, grid, max(1, int(m**0.5)))
                    first = False
                yield x.reshape(x.shape[0], *shape)

    res = {"data": cfg.data.name, "grid": grid.name}
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
    """Sample ``eval.n_samples`` points of a run (a run directory or checkpoint file) and
    compare them with the data: W2, MMD², modes and the off-mode fraction on the Gaussians; a
    grid and FID/KID/precision-recall on images. ``model_overrides`` replace fields of the
    model's config for sampling (e.g. ``{"sampler": "euler"}``)."""
    for name, value in (("nfe", nfe), ("stop", stop), ("n_samples", n_samples)):
        if value is not None:
            check_positive_int(value, name)
    torch.set_num_threads(check_positive_int(threads, "threads"))
    run_dir = Path(run_dir)
    cfg, model, payload = load_run(run_dir)
    if model_overrides:  # e.g. {"sampler": "euler"}: sample the trained networks differently
        model.cfg = dataclasses.replace(model.cfg, **model_overrides)
    if n_samples is not None:
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
    """The 2-D metrics of samples ``x`` against ``cfg.eval.n_samples`` fresh data points (W2,
    MMD², modes, off-mode; settings from ``cfg.eval``), with ``ipm evaluate``'s seeds."""
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


def checkpoint_digest(run: str | Path) -> str:
    """sha256 of a checkpoint file, or of a run's last checkpoint (``run/checkpoints/last.pt``)."""
    run = Path(run)
    return file_sha256(run if run.is_file() else run / "checkpoints" / "last.pt")


def cached_evaluation(
    run: str | Path, name: str, settings: dict, evaluate: Callable[[], dict]
) -> tuple[dict, bool]:
    """``evaluate()``, cached in ``run/<name>`` (for a checkpoint file ``run``: beside it, as
    ``<its stem>.<name>``): reused only for the same checkpoint bytes and the same
    ``settings``. Returns the result and whether it was reused. Written atomically."""
    key = {"checkpoint_sha256": checkpoint_digest(run), **settings}
    run = Path(run)
    cache = run.with_name(f"{run.stem}.{name}") if run.is_file() else run / name
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

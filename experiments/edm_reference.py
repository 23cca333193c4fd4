"""EDM on MNIST with ipm's U-Net against the same EDM on ``diffusers.UNet2DModel`` (the reference
implementation) of nearly equal size, at equal wall time, side by side, over seeds.

    OMP_WAIT_POLICY=PASSIVE IPM_MNIST_DIR=/path/to/mnist python -m experiments.edm_reference \
        [--seeds 0 1 2] [--set KEY=VALUE ...] [--runs runs/edm_reference]
        [--out docs/results/edm_reference] [--quick]

``ipm`` is ``experiments/configs/mnist-cpu/edm.yaml``; ``diffusers`` is the same config with
``model.net`` a ``diffusers_unet`` (:mod:`ipm.nets.diffusers_unet`, DDPM++ layout) of the same
levels: channels, blocks, attention, patches (``--set`` changes ``ipm``'s config, e.g. a U-Net option,
and the reference takes its levels from the result); everything else (preconditioning, loss, noise
levels, optimiser, EMA, precision, sampler) is the same code. Both train with one thread.

Equal wall time: first the two models' training steps are timed side by side in this process
(alternately, one thread, the median of ``--timing-steps`` after warm-up); the reference then
trains for the config's steps times the ratio of its step time to ipm's, so that both spend the
same training seconds. The two runs of a seed train and are evaluated at the same time, one
process and one thread each; the seconds each actually spent training are reported beside the
figures. Evaluation is ``ipm evaluate``'s: classifier-FID, KID and precision/recall on
``eval.n_samples`` (10,000) samples against as many training images. Per model: the median and
range over seeds, and a two-sided Mann–Whitney test between the two.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from experiments import ROOT
from experiments.runs import config
from ipm.report import Report, rerender, reused_sentence

MODELS = ("ipm", "diffusers")
METRICS = ("fid", "kid", "precision", "recall")
QUICK = ["train.steps=20", "train.checkpoint_every=10", "train.log_every=10", "eval.n_samples=200"]
QUICK += ["model.sampler_steps=4", "eval.animation=false"]


def reference_overrides(cfg) -> list[str]:
    """``--set`` overrides that make ``cfg``'s U-Net a diffusers U-Net of the same levels."""
    net = cfg.model.net
    return [
        "model.net.kind=diffusers_unet",
        f"model.net.width={net.width}",
        f"model.net.channel_mult={list(net.channel_mult)}",
        f"model.net.num_blocks={net.num_blocks}",
        f"model.net.attention={list(net.attention)}",
        f"model.net.patch={net.patch}",
    ] + ([f"model.net.groups={net.groups}"] if net.groups else [])


def _setup(cfg, data):
    """(model in the run's precision, its optimisers, a step context): a run's training step."""
    from ipm.models import StepContext, build_model

    torch.manual_seed(cfg.seed)
    model = build_model(cfg, tuple(data.shape))
    model.accelerate(cfg.train.precision, cfg.train.compile)
    ctx = StepContext(
        torch.Generator().manual_seed(cfg.seed + 1),
        lambda n, g: data.sample(n, generator=g),
        torch.device("cpu"),
    )
    return model, model.make_optimizers(), ctx


def step_seconds(cfgs: dict, steps: int, warmup: int = 3) -> dict[str, float]:
    """Median seconds per training step of each config, timed alternately in this process."""
    from ipm.data import dataset

    torch.set_num_threads(1)
    data = dataset(next(iter(cfgs.values())).data)
    runs = {k: _setup(c, data) for k, c in cfgs.items()}
    times: dict[str, list[float]] = {k: [] for k in cfgs}
    for i in range(warmup + steps):
        for k, (model, opts, ctx) in runs.items():
            t0 = time.perf_counter()
            model.train_step(ctx, opts)
            if i >= warmup:
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def _timing(cfgs: dict, a) -> dict[str, float]:
    """:func:`step_seconds`, kept in ``--runs/timing.json``: an interrupted comparison resumes
    its runs with the step counts it started them with."""
    import json

    from ipm.config import to_dict

    path = a.runs / "timing.json"
    key = json.loads(json.dumps({k: to_dict(c) for k, c in cfgs.items()}))
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved["configs"] == key:
            print(f"step times reused from {path}")
            return saved["seconds_per_step"]
    secs = step_seconds(cfgs, 2 if a.quick else a.timing_steps)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"configs": key, "seconds_per_step": secs}, indent=1))
    return secs


def _train_and_evaluate(cfg_path: str, over: list[str], run: Path) -> dict:
    """One run, trained (or reused) and evaluated like ``ipm evaluate``, with the seconds it
    trained, its parameter count and whether its evaluation came from an earlier invocation."""
    from ipm.engine import ensure_run, load_run
    from ipm.evaluate import cached_evaluation, evaluate_run

    ensure_run(cfg_path, over, run)
    res, reused = cached_evaluation(run, "edm_reference_eval.json", {}, lambda: evaluate_run(run))
    cfg, model, payload = load_run(run, accelerate=False)
    return res | {
        "train_precision": cfg.train.precision,
        "train_seconds": float(payload["train_seconds"]),
        "parameters": sum(p.numel() for p in model.denoiser.parameters()),
        "reused": reused,
    }


def main(argv=None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="20 steps, 200 samples: the pipeline")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "edm_reference")
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "edm_reference")
    p.add_argument("--timing-steps", type=int, default=20)
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="ipm's overrides")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "edm_reference", markdown)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from ipm.compare import mann_whitney
    from ipm.engine import load_config
    from ipm.sweeps import spread

    torch.set_num_threads(1)  # the runs' own count, which the page's header states
    report = Report("edm_reference", a.out, ",".join(map(str, a.seeds)), a.quick)
    path = config("mnist", "edm")
    base = ["train.threads=1", "train.progress=false"] + (QUICK if a.quick else [])
    ref = reference_overrides(load_config(path, base + a.set))
    cfgs = {"ipm": load_config(path, base + a.set), "diffusers": load_config(path, base + ref)}
    secs = _timing(cfgs, a)
    steps = cfgs["ipm"].train.steps
    ref_steps = max(1, round(steps * secs["ipm"] / secs["diffusers"]))
    over = {"ipm": base + a.set, "diffusers": base + ref + [f"train.steps={ref_steps}"]}
    jobs = {
        (s, m): (str(path), over[m] + [f"seed={s}"], a.runs / m / f"seed{s}")
        for s in a.seeds
        for m in MODELS
    }
    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        futs = {pool.submit(_train_and_evaluate, *v): k for k, v in jobs.items()}
        runs = {futs[f]: f.result() for f in tqdm(as_completed(futs), total=len(futs), desc="runs")}
    per = {m: {s: runs[s, m] for s in a.seeds} for m in MODELS}
    res = {
        "config": str(path.relative_to(ROOT)),
        "overrides": a.set,
        "reference_overrides": ref,
        "timing_seconds_per_step": secs,
        "steps": {"ipm": steps, "diffusers": ref_steps},
        "seeds": a.seeds,
        "runs": {m: {str(s): r for s, r in per[m].items()} for m in MODELS},
        "summary": {
            k: {m: spread([r[k] for r in per[m].values()]) for m in MODELS}
            for k in (*METRICS, "train_seconds")
        },
        "mann_whitney_p": {
            k: mann_whitney(*[[r[k] for r in per[m].values()] for m in MODELS]) for k in METRICS
        },
    }
    return report.write(res, markdown(res))


def _reused_line(res: dict) -> list[str]:
    """The sentence naming runs whose training and evaluation an earlier invocation did."""
    reused = [f"{m} seed {s}" for m in MODELS for s, r in res["runs"][m].items() if r.get("reused")]
    if not reused:
        return []
    return ["", reused_sentence("Trained and evaluated by", reused, " into the same `--runs`")]


def markdown(res: dict) -> str:
    first = {m: next(iter(res["runs"][m].values())) for m in MODELS}
    t = res["timing_seconds_per_step"]
    own = " ".join(res.get("overrides", []))
    lines = [
        f"Config `{res['config']}`"
        + (f" with `{own}`" if own else "")
        + f" (`ipm`) and the config with `{' '.join(res['reference_overrides'])}`"
        " (`diffusers`): the same EDM on `diffusers.UNet2DModel`.",
        *_reused_line(res),
        "",
        f"Step time side by side (one thread): ipm {t['ipm']:.3f} s, diffusers {t['diffusers']:.3f} s"
        f" (ratio {t['diffusers'] / t['ipm']:.2f}); at equal wall time ipm trains "
        f"{res['steps']['ipm']} steps, diffusers {res['steps']['diffusers']}. Each seed's two runs "
        "trained and were evaluated at the same time, one thread each, in "
        + " / ".join(
            sorted({r.get("train_precision", "?") for m in MODELS for r in res["runs"][m].values()})
        )
        + ".",
        "",
        "| | ipm | diffusers |",
        "|---|---|---|",
        f"| parameters | {first['ipm']['parameters']:,} | {first['diffusers']['parameters']:,} |",
        f"| samples | {first['ipm']['n_samples']} | {first['diffusers']['n_samples']} |",
    ]
    for k in (*METRICS, "train_seconds"):
        cells = []
        for m in MODELS:
            s = res["summary"][k][m]
            cells.append(f"{s['median']:.4g} [{s['min']:.4g}, {s['max']:.4g}]")
        p = res["mann_whitney_p"].get(k)
        name = k if p is None else f"{k} (Mann–Whitney p = {p:.2f})"
        lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    lines += [
        "",
        "Median [min, max] over seeds " + ", ".join(map(str, res["seeds"])) + ". Per seed:",
        "",
        "| seed | "
        + " | ".join(f"{m} {k}" for m in MODELS for k in ("fid", "train_seconds"))
        + " |",
        "|---" * (1 + 2 * len(MODELS)) + "|",
    ]
    for s in res["runs"]["ipm"]:
        cells = [f"{res['runs'][m][s][k]:.4g}" for m in MODELS for k in ("fid", "train_seconds")]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

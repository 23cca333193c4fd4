"""Quality against training length, over seeds: how much a config gains from more steps.

    OMP_WAIT_POLICY=PASSIVE IPM_MNIST_DIR=/path/to/mnist python -m experiments.training_length \
        --data mnist --model gan --at 3000 8000 [--seeds 0 1 2] [--jobs 2] [--threads 1] \
        [--set KEY=VALUE ...] [--runs runs/training_length] [--out docs/results/training_length]

Each seed trains ``experiments/configs/<data>/<model>.yaml`` (with ``--set``) once, for the
largest of ``--at`` steps, keeping a checkpoint at every step listed (``train.keep_every``, the
steps' greatest common divisor); no step count changes the run (no learning-rate schedule may
depend on it), so the checkpoint at step s is the run a config of s steps would end with. Each
kept checkpoint is evaluated like ``ipm evaluate`` (``eval.n_samples`` samples; classifier-FID,
KID and precision/recall on images; W2, MMD² and modes on the Gaussians), cached beside it.

Per step: the median and range over seeds; between the first and the last step, a two-sided
Mann–Whitney test and in how many seeds the last step scored better (a seed's own pair is
paired: the same run, longer). Seconds per step are the run's own. ``--jobs N`` trains N seeds
at once, in processes of ``--threads`` threads each. Writes ``<out>/<data>-<model>/``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from functools import reduce
from pathlib import Path

from experiments import ROOT
from experiments.parallel import run_tasks
from experiments.runs import CONFIG_DIRS, config
from ipm.report import Report, rerender, reused_sentence

IMAGE_METRICS = ("fid", "kid", "precision", "recall")
GAUSSIAN_METRICS = ("w2", "mmd2", "off_mode_fraction")


def keep_every(at: list[int]) -> int:
    """The checkpoint cadence that keeps every step in ``at``: their greatest common divisor."""
    return reduce(math.gcd, at)


def checkpoint(run: Path, step: int) -> Path:
    return run / "checkpoints" / f"step_{step:07d}.pt"


def seed_task(cfg_path: str, over: list[str], run: Path, at: list[int]) -> dict:
    """One seed: trained (or reused, or resumed) to ``max(at)`` steps, every kept step
    evaluated. Returns {step: metrics} and the run's seconds per step."""
    from ipm.engine import ensure_run
    from ipm.engine.checkpoint import LAST
    from ipm.evaluate import cached_evaluation, evaluate_run

    trained_before = (run / "checkpoints" / LAST).is_file()  # wholly or in part
    ensure_run(cfg_path, over, run)
    summary = json.loads((run / "train_summary.json").read_text())
    by_step, reused = {}, []
    for s in at:
        ck = checkpoint(run, s)
        by_step[str(s)], hit = cached_evaluation(
            ck, "eval.json", {}, lambda ck=ck: evaluate_run(ck)
        )
        if hit:
            reused.append(s)
    return {
        "steps": by_step,
        "seconds_per_step": summary["train_seconds_per_step"],
        "reused": {"run": trained_before, "steps": reused},
    }


def summarise(runs: dict[str, dict], at: list[int], metrics: tuple[str, ...]) -> dict:
    """Per step and metric the spread over seeds; between the first and the last step the
    Mann–Whitney p and the seeds whose last step scored better."""
    from ipm.compare import mann_whitney
    from ipm.sweeps import HIGHER_IS_BETTER, spread

    vals = {(s, k): [r["steps"][str(s)][k] for r in runs.values()] for s in at for k in metrics}
    first, last = at[0], at[-1]
    better = {}
    for k in metrics:
        sign = -1 if k in HIGHER_IS_BETTER else 1
        better[k] = sum(
            sign * (r["steps"][str(last)][k] - r["steps"][str(first)][k]) < 0 for r in runs.values()
        )
    return {
        "by_step": {str(s): {k: spread(vals[s, k]) for k in metrics} for s in at},
        "mann_whitney_p": {k: mann_whitney(vals[first, k], vals[last, k]) for k in metrics},
        "last_better_in_seeds": better,
    }


def plot(res: dict, path: Path) -> None:
    """The first metric against steps, one line per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = res["metrics"][0]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for seed, r in res["runs"].items():
        ax.plot(res["at"], [r["steps"][str(s)][k] for s in res["at"]], "o-", label=f"seed {seed}")
    ax.set_xlabel("training steps")
    ax.set_ylabel(k)
    ax.set_title(f"{res['data']} {res['model']}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(res: dict) -> str:
    at, metrics, summ = res["at"], res["metrics"], res["summary"]
    own = " ".join(res["overrides"])
    lines = [
        f"Config `{res['config']}`"
        + (f" with `{own}`" if own else "")
        + ", seeds "
        + ", ".join(res["runs"])
        + f": each trained once for {at[-1]} steps, its checkpoints at "
        + ", ".join(map(str, at))
        + f" steps evaluated on {res['n_samples']} samples. "
        f"Seconds per step (median over seeds, {res['threads']} thread(s) per run, {res['jobs']} "
        f"run(s) at once): {res['seconds_per_step']:.3g}.",
        "",
        "| steps | " + " | ".join(metrics) + " |",
        "|---" * (len(metrics) + 1) + "|",
    ]
    for s in at:
        cells = []
        for k in metrics:
            v = summ["by_step"][str(s)][k]
            cells.append(f"{v['median']:.4g} [{v['min']:.4g}, {v['max']:.4g}]")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    n = len(res["runs"])
    lines += [
        "",
        "Median [min, max] over seeds. "
        + f"{at[-1]} against {at[0]} steps: "
        + "; ".join(
            f"{k} better in {summ['last_better_in_seeds'][k]} of {n} seeds "
            f"(Mann–Whitney p = {summ['mann_whitney_p'][k]:.2f})"
            for k in metrics
        )
        + ".",
        "",
        "| seed | " + " | ".join(f"{metrics[0]} at {s}" for s in at) + " |",
        "|---" * (len(at) + 1) + "|",
    ]
    for seed, r in res["runs"].items():
        lines.append(
            f"| {seed} | " + " | ".join(f"{r['steps'][str(s)][metrics[0]]:.4g}" for s in at) + " |"
        )
    lines += ["", f"![{metrics[0]} against steps]({res['plot']})"]
    reused = res.get("reused", {}).items()
    trained = [f"seed {seed}" for seed, r in reused if r["run"]]
    evaluated = [f"seed {seed} at {s}" for seed, r in reused for s in r["steps"]]
    if trained:
        lines += [
            "",
            reused_sentence(
                "Runs trained, wholly or in part, by", trained, " into the same `--runs`"
            ),
        ]
    if evaluated:
        done = "Evaluations reused from the checkpoints' `eval.json` caches of"
        lines += ["", reused_sentence(done, evaluated)]
    return "\n".join(lines)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=sorted(CONFIG_DIRS), required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--at", type=int, nargs="+", required=True, help="steps to evaluate")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE")
    p.add_argument("--jobs", type=int, default=1, help="seeds trained at once")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "training_length")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "training_length")
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    name = f"{CONFIG_DIRS[a.data]}-{a.model}"
    out = a.out / name
    if a.render:
        return rerender(out, "training_length", markdown)
    at = sorted(set(a.at))
    if at[0] <= 0:
        raise ValueError(f"--at: expected positive step counts, got {a.at}")
    if len(at) < 2:
        raise ValueError(f"--at: expected at least two step counts to compare, got {a.at}")
    from ipm.engine import load_config

    path = config(a.data, a.model)
    if not path.is_file():
        raise FileNotFoundError(f"--model: no config {path}")
    over = list(a.set) + [
        f"train.steps={at[-1]}",
        f"train.keep_every={keep_every(at)}",
        f"train.threads={a.threads}",
        "train.progress=false",
    ]
    cfg = load_config(path, over)  # errors name a bad --set before anything trains
    if cfg.train.lr_decay != "none":
        raise ValueError(
            f"train.lr_decay: {cfg.train.lr_decay!r} depends on the step count, so a shorter "
            "run is not a checkpoint of the longest; compare separate runs instead"
        )
    import torch

    torch.set_num_threads(a.threads)  # the runs' own count, which the page's header states
    report = Report("training_length", out, ",".join(map(str, a.seeds)))
    tasks = [(str(path), over + [f"seed={s}"], a.runs / name / f"seed{s}", at) for s in a.seeds]
    runs = dict(zip(map(str, a.seeds), run_tasks(seed_task, tasks, a.jobs), strict=True))
    reused = {seed: r.pop("reused") for seed, r in runs.items()}  # what the wall time excludes
    first = next(iter(runs.values()))["steps"][str(at[0])]
    metrics = GAUSSIAN_METRICS if a.data == "gaussians" else IMAGE_METRICS
    res = {
        "config": str(path.relative_to(ROOT)),
        "data": a.data,
        "model": a.model,
        "overrides": a.set,
        "at": at,
        "metrics": list(metrics),
        "threads": a.threads,
        "jobs": a.jobs,
        "n_samples": first["n_samples"],
        "seconds_per_step": statistics.median(r["seconds_per_step"] for r in runs.values()),
        "runs": runs,
        "reused": reused,
        "summary": summarise(runs, at, metrics),
        "plot": "steps.png",
    }
    plot(res, out / res["plot"])
    report.write(res, markdown(res))
    return res


if __name__ == "__main__":
    main()

"""Quality over training seeds: one config trained and evaluated, like ``ipm train`` and
``ipm evaluate``, once per seed (``ipm sweep``); the median and range of every metric, and how
many seeds meet a set of reference figures.

One seed of an adversarial model is one draw from a wide distribution: a claim about a model,
an option or an implementation rests on several seeds, compared with :mod:`ipm.compare`.
A seed meets a figure when its metric is at most the figure, or at least it where higher is
better (:data:`HIGHER_IS_BETTER`).

A seed whose run fails (its training diverges, its final figures meet non-finite values: the
run's ``status.json`` says ``failed``) is an outcome of the recipe, not an error of the sweep:
it is kept as ``{"failed": reason, "step": step}``, the other seeds go on, the summary covers
the seeds that finished, and the report names the failed ones. A failed seed meets no figure.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .engine import ensure_run, load_config
from .engine.rundir import default_run_dir, read_status
from .evaluate import cached_evaluation, evaluate_run
from .report import Report

__all__ = [
    "HIGHER_IS_BETTER",
    "failed",
    "figures_text",
    "meets",
    "parse_reference",
    "seeds_meeting",
    "spread",
    "summarize",
    "sweep",
]

HIGHER_IS_BETTER = frozenset(
    {"modes_covered", "precision", "recall", "kde_log_likelihood", "data_log_likelihood"}
)
SHOWN = ("w2", "mmd2", "modes_covered", "off_mode_fraction", "fid", "kid", "nfe")
QUICK_STEPS = 40


def seed_overrides(sets: list[str], seed: int, quick: bool) -> list[str]:
    """The ``--set`` overrides of one seed: ``seed=S`` first, ``{seed}`` replaced by S."""
    over = [f"seed={seed}", *(s.replace("{seed}", str(seed)) for s in sets)]
    if quick:
        over += [f"train.steps={QUICK_STEPS}", "train.checkpoint_every=20", "train.log_every=20"]
    return over


def parse_reference(items: list[str]) -> dict[str, float]:
    """``KEY=VALUE`` pairs to {key: float}; an error names the malformed item."""
    ref = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            if not sep or not key:
                raise ValueError
            ref[key] = float(value)
        except ValueError:
            raise ValueError(
                f"--reference {item!r}: expected METRIC=NUMBER, e.g. mmd2=1.0e-2"
            ) from None
        if not math.isfinite(ref[key]):
            raise ValueError(f"--reference {item!r}: the figure must be finite")
    return ref


def meets(metrics: dict, reference: dict[str, float]) -> dict[str, bool]:
    """Per reference key: does this seed's metric reach the figure (≤, or ≥ where higher is
    better)? An error names a key the evaluation does not report."""
    out = {}
    for key, figure in reference.items():
        if key not in metrics:
            known = sorted(k for k, v in metrics.items() if isinstance(v, (int, float)))
            raise ValueError(f"--reference {key}: not a metric of this evaluation; it has {known}")
        v = metrics[key]
        out[key] = bool(v >= figure if key in HIGHER_IS_BETTER else v <= figure)
    return out


def failed(metrics: dict) -> bool:
    """Whether a seed's entry is a failed run (:func:`train_and_evaluate`)."""
    return "failed" in metrics


def seeds_meeting(
    runs: dict[int, dict], reference: dict[str, float]
) -> tuple[dict[int, dict[str, bool]], dict[str, int], list[int]]:
    """Per seed :func:`meets`; per figure how many seeds meet it; the seeds meeting all."""
    ok = {
        s: {k: False for k in reference} if failed(m) else meets(m, reference)
        for s, m in runs.items()
    }
    per_figure = {k: sum(o[k] for o in ok.values()) for k in reference}
    return ok, per_figure, sorted(s for s, o in ok.items() if all(o.values()))


def figures_text(reference: dict[str, float]) -> str:
    """``mmd2 ≤ 1.00e-02, modes_covered ≥ 5``: each figure with its direction."""
    return ", ".join(
        f"{k} {'≥' if k in HIGHER_IS_BETTER else '≤'} {fmt(v)}" for k, v in reference.items()
    )


def spread(vals: list) -> dict[str, float]:
    """Median, min and max of one metric over seeds."""
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def summarize(runs: dict[int, dict]) -> dict[str, dict]:
    """Median, min and max over the seeds that finished of every numeric metric they all
    report ({} when none finished)."""
    done = [m for m in runs.values() if not failed(m)]
    if not done:
        return {}
    keys = set.intersection(*(set(m) for m in done))
    out = {}
    for k in sorted(keys):
        vals = [m[k] for m in done]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            out[k] = spread(vals)
    return out


def train_and_evaluate(config: str, over: list[str], run: Path, quick: bool, threads: int):
    """Train (or reuse / resume) one seed's run and evaluate it like ``ipm evaluate``; a run
    that fails is returned as ``{"failed": reason, "step": step}`` (an error that leaves the
    run's status anything but ``failed``, such as a directory holding another config, stops
    the sweep)."""
    try:
        ensure_run(config, over, run)
    except Exception:
        state = read_status(run)
        if state.get("state") != "failed":
            raise
        return {"failed": state.get("reason", "unknown"), "step": state.get("step")}
    n = 1000 if quick else None
    settings = {"quick": bool(quick), "threads": threads}
    result, _ = cached_evaluation(
        run,
        "seed_sweep_eval.json",
        settings,
        lambda: evaluate_run(run, threads=threads, n_samples=n),
    )
    return result


def fmt(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, int) or float(v).is_integer():
        return str(int(v))
    return f"{v:.3g}" if abs(v) >= 1e-2 else f"{v:.2e}"


def markdown(res: dict) -> str:
    runs, ref = res["runs"], res["reference"]
    cols = [k for k in SHOWN if k in res["summary"]]
    cols += [k for k in ref if k not in cols]
    lines = [
        f"Config `{res['config']}`, overrides `{' '.join(res['overrides']) or '(none)'}`"
        " (`{seed}` is each seed).",
        f"Each seed trains with {res['train_threads']} thread(s) (`train.threads`), "
        f"{res['jobs']} seed(s) at a time; evaluation uses {res['eval_threads']} thread(s).",
        "",
        "| seed | " + " | ".join(cols) + (" | meets all |" if ref else " |"),
        "|---" * (len(cols) + 1 + bool(ref)) + "|",
    ]
    for s, m in runs.items():
        ok = res["meets"][s]
        if failed(m):
            cells = ["failed"] * len(cols)
        else:
            cells = [fmt(m[k]) + (" ✓" if ok.get(k) else "") for k in cols]
        lines.append(
            f"| {s} | "
            + " | ".join(cells)
            + (f" | {'yes' if all(ok.values()) else 'no'} |" if ref else " |")
        )
    for stat in ("median", "min", "max"):
        cells = [fmt(res["summary"][k][stat]) if k in res["summary"] else "–" for k in cols]
        lines.append(f"| {stat} | " + " | ".join(cells) + (" | |" if ref else " |"))
    secs = {
        s: m["train_seconds_per_step"] * m["steps"]
        for s, m in runs.items()
        if "train_seconds_per_step" in m and "steps" in m
    }
    if secs:
        lines += [
            "",
            "Training seconds per seed (the engine's timer; seeds trained at once share the "
            "cores): " + ", ".join(f"{s}: {v:.0f}" for s, v in secs.items()) + ". The wall time "
            "above is this invocation's: finished runs and their cached evaluations are reused.",
        ]
    bad = {s: m for s, m in runs.items() if failed(m)}
    if bad:
        lines += [
            "",
            f"**{len(bad)} of {len(runs)} seeds failed** (the median and range cover the "
            "others): "
            + "; ".join(f"seed {s} after step {m['step']}: {m['failed']}" for s, m in bad.items())
            + ".",
        ]
    if ref:
        lines += [
            "",
            f"Reference figures: {figures_text(ref)}. Seeds meeting all of them: **{res['n_meeting_all']} of {len(runs)}**"
            + " (per figure: "
            + ", ".join(f"{k} {n}" for k, n in res["n_meeting"].items())
            + ").",
        ]
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(res["reference"]) or [k for k in SHOWN if k in res["summary"]][:3]
    keys = [k for k in keys if k in res["summary"]]
    if not keys:  # every seed failed: nothing to draw
        return
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for ax, k in zip(axes[0], keys):
        seeds = [s for s, m in res["runs"].items() if not failed(m)]
        vals = [res["runs"][s][k] for s in seeds]
        ax.scatter(range(len(seeds)), vals, color="C0", zorder=3)
        ax.axhline(res["summary"][k]["median"], color="C0", lw=1, label="median")
        if k in res["reference"]:
            ax.axhline(res["reference"][k], color="k", ls="--", label="reference")
        ax.set_xticks(range(len(seeds)), [str(s) for s in seeds])
        ax.set_xlabel("seed")
        ax.set_title(k)
        ax.legend(fontsize=7)
    fig.suptitle(Path(res["config"]).stem + ": one point per training seed", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sweep(
    config: str | Path,
    seeds: list[int],
    sets: list[str] = (),
    reference: dict[str, float] | None = None,
    *,
    runs_dir: str | Path | None = None,
    out: str | Path | None = None,
    jobs: int = 1,
    threads: int = 1,
    quick: bool = False,
) -> dict:
    """Train and evaluate ``config`` once per seed (``--set`` overrides ``sets``, ``{seed}``
    replaced by each seed), then write ``seed_sweep.json``, ``README.md`` and ``seed_sweep.png``
    into ``out`` (default: ``runs_dir``, itself by default ``runs/sweeps/<config folder>/<config name>``).
    Finished runs and their evaluations are reused; ``jobs`` seeds train at once."""
    if jobs < 1:
        raise ValueError(f"--jobs: expected an integer >= 1, got {jobs}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds: repeated seeds in {seeds}")
    config = Path(config)
    if not config.is_file():
        raise FileNotFoundError(f"config: no file {config}")
    reference = reference or {}
    runs_dir = Path(runs_dir) if runs_dir else default_run_dir(config, Path("runs") / "sweeps")
    out = Path(out) if out else runs_dir
    # the first seed's config, loaded now: a bad --set fails before any seed trains
    cfg0 = load_config(config, seed_overrides(sets, seeds[0], quick))
    torch.set_num_threads(threads)  # the report's header states the evaluation threads
    report = Report("seed_sweep", out, seeds[0], quick)
    todo = {
        s: (str(config), seed_overrides(sets, s, quick), runs_dir / f"seed{s}", quick, threads)
        for s in seeds
    }
    results: dict[int, dict] = {}
    if jobs == 1:
        for s in tqdm(seeds, desc=f"seed sweep {config.stem}"):
            results[s] = train_and_evaluate(*todo[s])
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
            futs = {pool.submit(train_and_evaluate, *todo[s]): s for s in seeds}
            for f in tqdm(as_completed(futs), total=len(futs), desc=f"seed sweep {config.stem}"):
                results[futs[f]] = f.result()
    runs = {s: results[s] for s in seeds}
    ok, per_figure, all_met = seeds_meeting(runs, reference)
    res = {
        "config": str(config),
        "overrides": list(sets),
        "seeds": list(seeds),
        "runs_dir": str(runs_dir),
        "train_threads": cfg0.train.threads,
        "eval_threads": threads,
        "jobs": jobs,
        "reference": reference,
        "higher_is_better": sorted(HIGHER_IS_BETTER & set(reference)),
        "runs": runs,
        "meets": ok,
        "n_meeting": per_figure,
        "n_meeting_all": len(all_met) if reference else None,
        "summary": summarize(runs),
    }
    plot(res, out / "seed_sweep.png")
    report.write(res, markdown(res))
    return res

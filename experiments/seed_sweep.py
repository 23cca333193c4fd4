"""Quality over training seeds: one config trained and evaluated, like ``ipm train`` and
``ipm evaluate``, once per seed. It reports the median and the range, and how many seeds meet
a set of reference figures.

    OMP_WAIT_POLICY=PASSIVE python experiments/seed_sweep.py experiments/configs/gaussians/edm.yaml \
        --seeds 0 1 2 3 4 --runs runs/sweeps/edm --jobs 2 \
        --reference mmd2=4.2e-3 off_mode_fraction=0.036 modes_covered=5 --out DIR
    OMP_WAIT_POLICY=PASSIVE python experiments/seed_sweep.py experiments/configs/gaussians/score_gan.yaml \
        --seeds 0 1 2 3 4 --set 'model.edm_checkpoint=runs/sweeps/edm/seed{seed}' \
        --runs runs/sweeps/score_gan --jobs 2 \
        --reference mmd2=1.0e-2 off_mode_fraction=0.050 modes_covered=5 --out DIR

One seed of an adversarial or score-difference model is one draw from a wide distribution.
On the Gaussians, Score GAN's off-mode fraction ranges from 0.055 to 0.229 with the data EDM's
seed alone (``docs/results/gaussians/README.md``). A figure measured on one seed is read
against that spread.

``{seed}`` in a ``--set`` value is replaced by each seed, so a Score GAN can be paired with the
data EDM of its own seed, as the whole paper pipeline would run. Each seed trains into
``--runs/seed<S>``. A finished run of the same config is reused, a partial one resumed
(:func:`experiments._runs.ensure_run`). Evaluations are cached beside each run, keyed by the
checkpoint's bytes. ``--jobs N`` trains N seeds at once, one process each, with the config's
``train.threads``.

A seed meets a reference figure when its metric is at most the figure, or at least it for the
metrics where higher is better (``modes_covered``, precision, recall, likelihoods).

Writes ``OUT/seed_sweep.json``, ``OUT/README.md`` and ``OUT/seed_sweep.png``. ``--quick`` trains
each seed for 40 steps and evaluates 1,000 samples (a smoke test).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from experiments._report import Report  # noqa: E402
from experiments._runs import cached_evaluation, ensure_run  # noqa: E402

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


def seeds_meeting(
    runs: dict[int, dict], reference: dict[str, float]
) -> tuple[dict[int, dict[str, bool]], dict[str, int], list[int]]:
    """Per seed :func:`meets`; per figure how many seeds meet it; the seeds meeting all."""
    ok = {s: meets(m, reference) for s, m in runs.items()}
    per_figure = {k: sum(o[k] for o in ok.values()) for k in reference}
    return ok, per_figure, sorted(s for s, o in ok.items() if all(o.values()))


def figures_text(reference: dict[str, float]) -> str:
    """``mmd2 ≤ 1.00e-02, modes_covered ≥ 5``: each figure with its direction."""
    return ", ".join(
        f"{k} {'≥' if k in HIGHER_IS_BETTER else '≤'} {_fmt(v)}" for k, v in reference.items()
    )


def spread(vals: list) -> dict[str, float]:
    """Median, min and max of one metric over seeds."""
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def summarize(runs: dict[int, dict]) -> dict[str, dict]:
    """Median, min and max over seeds of every numeric metric all seeds report."""
    keys = set.intersection(*(set(m) for m in runs.values()))
    out = {}
    for k in sorted(keys):
        vals = [m[k] for m in runs.values()]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            out[k] = spread(vals)
    return out


def train_and_evaluate(config: str, over: list[str], run: Path, quick: bool, threads: int):
    """Train (or reuse / resume) one seed's run and evaluate it like ``ipm evaluate``."""
    from ipm.cli import evaluate_run

    ensure_run(config, over, run)
    n = 1000 if quick else None
    settings = {"quick": bool(quick), "threads": threads}
    result, _ = cached_evaluation(
        run,
        "seed_sweep_eval.json",
        settings,
        lambda: evaluate_run(run, threads=threads, n_samples=n),
    )
    return result


def _fmt(v) -> str:
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
        cells = [_fmt(m[k]) + (" ✓" if ok.get(k) else "") for k in cols]
        lines.append(
            f"| {s} | "
            + " | ".join(cells)
            + (f" | {'yes' if all(ok.values()) else 'no'} |" if ref else " |")
        )
    for stat in ("median", "min", "max"):
        cells = [_fmt(res["summary"][k][stat]) if k in res["summary"] else "–" for k in cols]
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
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for ax, k in zip(axes[0], keys):
        seeds = list(res["runs"])
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


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", help="a YAML config (repository-relative or absolute)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--reference", nargs="*", default=[], metavar="METRIC=FIGURE")
    p.add_argument("--runs", type=Path, default=None, help="default runs/sweeps/<config name>")
    p.add_argument("--jobs", type=int, default=1, help="seeds trained at once (processes)")
    p.add_argument("--threads", type=int, default=1, help="evaluation threads")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args(argv)
    if a.jobs < 1:
        raise ValueError(f"--jobs: expected an integer >= 1, got {a.jobs}")
    if len(set(a.seeds)) != len(a.seeds):
        raise ValueError(f"--seeds: repeated seeds in {a.seeds}")
    config = Path(a.config)
    path = config if config.is_absolute() else ROOT / config
    if not path.is_file():
        raise FileNotFoundError(f"config: no file {config}")
    reference = parse_reference(a.reference)
    runs_dir = a.runs or ROOT / "runs" / "sweeps" / config.stem
    out = a.out or runs_dir

    import torch
    from tqdm.auto import tqdm

    from ipm.engine import load_config

    # the first seed's config, loaded now: a bad --set fails before any seed trains
    cfg0 = load_config(path, seed_overrides(a.sets, a.seeds[0], a.quick))
    torch.set_num_threads(a.threads)  # the report's header states the evaluation threads
    report = Report("seed_sweep", out, a.seeds[0], a.quick)
    jobs = {
        s: (
            str(path),
            seed_overrides(a.sets, s, a.quick),
            runs_dir / f"seed{s}",
            a.quick,
            a.threads,
        )
        for s in a.seeds
    }
    results: dict[int, dict] = {}
    if a.jobs == 1:
        for s in tqdm(a.seeds, desc=f"seed sweep {config.stem}"):
            results[s] = train_and_evaluate(*jobs[s])
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(a.jobs, mp_context=mp.get_context("spawn")) as pool:
            futs = {pool.submit(train_and_evaluate, *jobs[s]): s for s in a.seeds}
            for f in tqdm(as_completed(futs), total=len(futs), desc=f"seed sweep {config.stem}"):
                results[futs[f]] = f.result()
    runs = {s: results[s] for s in a.seeds}
    ok, per_figure, all_met = seeds_meeting(runs, reference)
    res = {
        "config": str(config),
        "overrides": a.sets,
        "seeds": a.seeds,
        "runs_dir": str(runs_dir),
        "train_threads": cfg0.train.threads,
        "eval_threads": a.threads,
        "jobs": a.jobs,
        "reference": reference,
        "higher_is_better": sorted(HIGHER_IS_BETTER & set(reference)),
        "runs": runs,
        "meets": ok,
        "n_meeting": per_figure,
        "n_meeting_all": len(all_met) if reference else None,
        "summary": summarize(runs),
    }
    plot(res, Path(out) / "seed_sweep.png")
    path = report.write(res, markdown(res))
    print(path.read_text())
    print(f"-> {Path(out) / 'seed_sweep.json'}, {path}, {Path(out) / 'seed_sweep.png'}")
    return res


if __name__ == "__main__":
    main()

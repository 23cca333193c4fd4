"""The six models on the paper's 2-D Gaussians (five modes on a circle of radius 3, std 0.5): one
seed of each paper config, the same configs over seeds, side-by-side comparisons, variants,
learning curves and step times, gathered into one page.

    OMP_WAIT_POLICY=PASSIVE python -m experiments.gaussians [--render] [--runs runs/gaussians]

Without ``--render`` each config of ``experiments/configs/gaussians/`` is trained with seed 0 into
``--runs/<model>`` (a finished run is reused; Score GAN takes the EDM run as its data score) and
evaluated like ``ipm evaluate`` into ``docs/results/gaussians/<model>/metrics.json``. The page
then reads every JSON of ``docs/results/gaussians/``: those runs' metrics; the seed sweeps of
``ipm sweep`` (``seed_sweeps/*``), their comparisons by ``ipm compare`` (``side_by_side/*``),
variants (a run's ``config.yaml`` and ``metrics*.json``), the learning curves of ``ipm curves``
(``*_curves``) and the step times of ``python -m benchmarks.models`` (``bench_models.json``);
each keeps its own command in its JSON or page. ``--render`` only re-reads them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from experiments import CONFIGS, ROOT
from experiments.runs import TITLES
from ipm.report import Report, page, read

OUT = ROOT / "docs/results/gaussians"
MODELS = ("edm", "gan", "score_gan", "discr_flow", "sd_flow", "dmmd")
SHOWN = ("w2", "mmd2", "off_mode_fraction", "modes_covered")


def _fmt(v) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.3g}" if abs(v) >= 1e-2 else f"{v:.2e}"


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else k
        out.update(_flat(v, key) if isinstance(v, dict) else {key: v})
    return out


def overrides(config_yaml: Path) -> list[str]:
    """A saved run's config as ``--set`` overrides of its paper config (training cadences,
    threads and evaluation settings left out)."""
    import yaml

    from ipm.config import to_dict
    from ipm.engine import load_config, saved_run_config

    run = to_dict(saved_run_config(yaml.safe_load(config_yaml.read_text())))
    name = run["model"]["name"]
    base = to_dict(load_config(CONFIGS / "gaussians" / f"{name}.yaml"))
    skip = ("train.log_every", "train.checkpoint_every", "train.keep_every", "train.threads")
    skip += ("train.progress", "train.eval_every", "eval.", "model.edm_checkpoint")
    a, b = _flat(run), _flat(base)
    return [
        f"{k}={a[k]}"
        for k in sorted(a)
        if a[k] != b.get(k) and not k.startswith(skip) and k != "version"
    ]


def gather(folder: Path) -> dict:
    """Everything the page shows, read from the JSON files in ``folder``."""
    res: dict = {"models": {}, "sweeps": {}, "comparisons": {}, "variants": {}, "curves": {}}
    for m in MODELS:
        f = folder / m / "metrics.json"
        if f.is_file():
            res["models"][m] = json.loads(f.read_text())
    for f in sorted(folder.glob("seed_sweeps/*/seed_sweep.json")):
        head, r = read(f)
        keep = ("config", "overrides", "seeds", "reference", "n_meeting", "n_meeting_all")
        res["sweeps"][f.parent.name] = {
            "command": head["command"],
            **{k: r[k] for k in keep},
            "summary": {k: r["summary"][k] for k in SHOWN if k in r["summary"]},
        }
    for f in sorted(folder.glob("side_by_side/*/compare_seeds.json")):
        head, r = read(f)
        res["comparisons"][f.parent.name] = {"command": head["command"], **r}
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        if d.name in MODELS or not (d / "config.yaml").is_file():
            continue
        runs = sorted(d.glob("metrics*.json"))
        res["variants"][d.name] = {
            "overrides": overrides(d / "config.yaml"),
            "metrics": {f.stem: json.loads(f.read_text()) for f in runs},
        }
    for d in sorted(folder.glob("*_curves")):
        res["curves"][d.name] = sorted(p.name for p in d.glob("*.png"))
    bench = folder / "bench_models.json"
    if bench.is_file():
        res["bench"] = json.loads(bench.read_text())
    return res


def _row(m: dict) -> str:
    return " | ".join(
        f"{m[k]}/{m.get('n_modes', 5)}" if k == "modes_covered" else _fmt(m[k]) for k in SHOWN
    )


def markdown(res: dict) -> str:
    """The page: tables of the gathered results, each with where it comes from."""
    ref = {n: s["reference"] for n, s in res["sweeps"].items()}
    lines = [
        "## One seed of each paper config",
        "",
        "Seed 0, `ipm train experiments/configs/gaussians/<model>.yaml` then `ipm evaluate` "
        "(10,000 samples against fresh data; W2 over 5 subsets of 2,000; MMD² with a Gaussian "
        "kernel of bandwidth 1). One seed of an adversarial model is one draw of a wide "
        "distribution: read the sweeps below.",
        "",
        "| model | W2 | MMD² | off-mode | modes | NFE | s/step (training) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in res["models"].items():
        lines.append(
            f"| {TITLES[name]} | {_row(m)} | {m['nfe']} | {_fmt(m['train_seconds_per_step'])} |"
        )
    lines += [
        "",
        "## Over seeds (`ipm sweep`)",
        "",
        "Median (min – max) over training seeds; each seed trains its own run (a Score GAN its "
        "own data EDM). A seed meets the official implementation's seed-0 figures when each "
        "metric is at most the figure (modes: at least).",
        "",
        "| sweep | seeds | MMD² | off-mode | seeds meeting all | figures |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in res["sweeps"].items():
        cells = [
            f"{_fmt(s['summary'][k]['median'])} ({_fmt(s['summary'][k]['min'])} – "
            f"{_fmt(s['summary'][k]['max'])})"
            for k in ("mmd2", "off_mode_fraction")
        ]
        figures = ", ".join(f"{k} {_fmt(v)}" for k, v in ref[name].items())
        lines.append(
            f"| [{name}](seed_sweeps/{name}/README.md) | {len(s['seeds'])} | {cells[0]} | "
            f"{cells[1]} | {s['n_meeting_all']} of {len(s['seeds'])} | {figures} |"
        )
    lines += [
        "",
        "## Side by side (`ipm compare`)",
        "",
        "Two sets of seeds: medians, the two-sided Mann–Whitney p-value, and the seeds meeting "
        "every figure. `reference` is the official implementation's training step (White-Link/gpm)"
        " trained here seed by seed; its per-seed metrics are in `reference_trained_here.json`, "
        "`discr_flow_seeds.json` and `score_gan_data_score.json`.",
        "",
        "| comparison | sets | MMD² medians (p) | off-mode medians (p) | seeds meeting all |",
        "|---|---|---|---|---|",
    ]
    for name, c in res["comparisons"].items():
        la, lb = c["labels"]
        cells = []
        for k in ("mmd2", "off_mode_fraction"):
            r = c["metrics"].get(k)
            cells.append(
                f"{_fmt(r[la]['median'])} / {_fmt(r[lb]['median'])} ({r['mann_whitney_p']:.2g})"
                if r
                else "–"
            )
        meet = " / ".join(
            f"{len(c['meeting'][lab]['all'] or [])} of {c['meeting'][lab]['n_seeds']}"
            for lab in (la, lb)
        )
        lines.append(
            f"| [{name}](side_by_side/{name}/README.md) | {la} / {lb} | {cells[0]} | "
            f"{cells[1]} | {meet} |"
        )
    lines += [
        "",
        "## Variants of the paper configs",
        "",
        "Runs of a paper config with the overrides shown, evaluated like `ipm evaluate` "
        "(`metrics_stop14`: the Discriminator Flow sampled for 14 of its steps, "
        "`ipm evaluate --stop 14`; `metrics_seedS`: seed S).",
        "",
        "| variant | overrides | evaluation | W2 | MMD² | off-mode | modes |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, v in res["variants"].items():
        over = " ".join(f"`{o}`" for o in v["overrides"]) or "(none)"
        for stem, m in v["metrics"].items():
            lines.append(f"| {name} | {over} | {stem} | {_row(m)} |")
            over = ""
    if res["curves"]:
        lines += ["", "## Learning curves (`ipm curves`)", ""]
        for name, pngs in res["curves"].items():
            lines += [f"![{name}]({name}/{p})" for p in pngs]
    if res.get("bench"):
        lines += [
            "",
            "## Seconds per training step (`python -m benchmarks.models --rounds 3`)",
            "",
            "Medians over three rounds, one thread; `official` is the official implementation's "
            "figure on a 2-core CPU; `side by side` its mean timed in the same rounds.",
            "",
            "| model | median s/step | official | ratio | side by side |",
            "|---|---|---|---|---|",
        ]
        for r in res["bench"]:
            off = r.get("reference_s_per_step")
            side = r.get("side_by_side_ratio")
            lines.append(
                f"| {r['model']} | {r['median_s_per_step']:.4f} | {_fmt(off) if off else '–'} | "
                f"{r['median_s_per_step'] / off:.2f} | {f'{side:.2f}' if side else '–'} |"
                if off
                else f"| {r['model']} | {r['median_s_per_step']:.4f} | – | – | – |"
            )
    return "\n".join(lines)


def train_and_evaluate(runs: Path, threads: int) -> None:
    """Seed 0 of every paper config, trained (or reused) and evaluated into ``OUT/<model>``."""
    from ipm.engine import ensure_run
    from ipm.evaluate import evaluate_run

    for m in MODELS:
        over = [f"train.threads={threads}"]
        if m == "score_gan":
            over.append(f"model.edm_checkpoint={runs / 'edm'}")
        run = ensure_run(CONFIGS / "gaussians" / f"{m}.yaml", over, runs / m)
        (OUT / m).mkdir(parents=True, exist_ok=True)
        metrics = evaluate_run(run, threads=threads)
        (OUT / m / "metrics.json").write_text(json.dumps(metrics, indent=2))
        shutil.copyfile(run / "config.yaml", OUT / m / "config.yaml")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--render", action="store_true", help="only gather the JSON and rewrite the page"
    )
    p.add_argument("--runs", type=Path, default=ROOT / "runs/gaussians")
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    saved = OUT / "gaussians.json"
    if a.render and saved.is_file():  # gather again, under the header of the run that made it
        head, _ = read(saved)
        res = gather(OUT)
        saved.write_text(json.dumps({**head, **res}, indent=2) + "\n")
        (OUT / "README.md").write_text(page(head, markdown(res)))
        return res
    if not a.render:
        train_and_evaluate(a.runs, a.threads)
    report = Report("gaussians", OUT, 0)
    res = gather(OUT)
    report.write(res, markdown(res))
    return res


if __name__ == "__main__":
    main()

"""The paper's Table 3 layout for all six models, on the Gaussians, digits and MNIST.

    OMP_WAIT_POLICY=PASSIVE IPM_MNIST_DIR=/path/to/mnist python -m experiments.table3 \
        [--data gaussians digits mnist] [--quick] [--runs runs] [--inception-weights FILE] \
        [--jobs 2] [--before REV] [--out docs/results/table3]

Columns: EDM, Discr. Flow, GAN, Score GAN (the paper's), then SD flow and DMMD. Each model is
trained from ``experiments/configs/{gaussians,digits-cpu,mnist-cpu}/<model>.yaml`` into
``--runs/<config dir>/<model>`` (a finished run with the same config is reused, a partial one
resumed; Score GAN takes the EDM run of the same directory as its data score) and evaluated
like ``ipm evaluate`` at ``eval.n_samples`` (10,000) samples:

- Gaussians: W2 (mean over 5 subsets of 2,000), MMD² (bandwidth 1), modes covered;
- digits / MNIST: classifier-FID against the data set in the feature space of ipm's MNIST
  classifier (128-d), with KID and precision/recall; Inception-FID as well when
  ``--inception-weights`` is given (grey images repeated to RGB).

The training budget is the configs' (CPU-sized: minutes per model), not the paper's (hours on a
V100). The paper's values (Inception-FID, MNIST and CelebA) are printed beside ours for
orientation only: a classifier-FID is a different quantity and is never compared with them.
``--quick`` trains each model for a few steps on the Gaussians only and evaluates 1,000 samples.
``--jobs N`` trains and evaluates N models at once, each in its own process with ``--threads``
threads (a Score GAN starts once its EDM has finished). ``--before REV`` shows, beside each
figure, the one the table committed at git revision REV gave (what a change of configs or code
moved). Data sets and models not run this time keep their results (and grids) from the page's
earlier invocation, which the page names beside them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import torch

from experiments import ROOT
from experiments.parallel import run_tasks
from experiments.runs import CONFIG_DIRS, config
from experiments.runs import TITLES as MODEL_TITLES
from ipm.engine import ensure_run
from ipm.evaluate import cached_evaluation
from ipm.report import Report, rerender, reused_sentence

MODELS = ("edm", "discr_flow", "gan", "score_gan", "sd_flow", "dmmd")
TITLES = {**MODEL_TITLES, "noise": "noise (reference)"}
# the paper's Table 3 (Inception-FID, its own training budget); not comparable with ours
PAPER = {
    "MNIST": {"edm": 3, "discr_flow": 4, "gan": 3, "score_gan": 15},
    "CelebA 64×64": {"edm": 10, "discr_flow": 41, "gan": 19, "score_gan": 35},
}
QUICK_STEPS = {"edm": 60, "discr_flow": 30, "gan": 60, "score_gan": 20, "sd_flow": 40, "dmmd": 40}


def run_model(data: str, model: str, a) -> Path:
    d = CONFIG_DIRS[data]
    runs = a.runs / d
    over = [f"train.threads={a.threads}"]
    if model == "score_gan":
        over.append(f"model.edm_checkpoint={runs / 'edm'}")
    if model == "sd_flow" and a.quick:
        over.append("model.warmup=10")
    if a.quick:
        over += [
            f"train.steps={QUICK_STEPS[model]}",
            "train.checkpoint_every=20",
            "train.log_every=20",
        ]
    return ensure_run(config(data, model), over, runs / model)


def noise_reference(data: str, a) -> dict:
    """The image metrics of pure noise, clamp(N(0, I), −1, 1), against the same data images as
    the models (``evaluate_run``'s reference draw): what a model that learned nothing scores in
    this feature space, the scale against which FID, KID and precision/recall are read."""
    from ipm.data import dataset
    from ipm.engine import load_config
    from ipm.evaluate import EVAL_SEED
    from ipm.metrics.features import feature_space
    from ipm.metrics.image_quality import image_quality, reference_batches

    cfg = load_config(config(data, "gan"))
    n = 1000 if a.quick else cfg.eval.n_samples
    b, data_set = cfg.eval.feature_batch, dataset(cfg.data)
    n_ref = min(n, len(data_set))
    shape = tuple(data_set.images(torch.arange(1)).shape[1:])
    g = torch.Generator().manual_seed(EVAL_SEED)

    def noise():
        for s in range(0, n, b):
            yield torch.randn(min(b, n - s), *shape, generator=g).clamp(-1, 1)

    return image_quality(
        feature_space("classifier"),
        noise(),
        reference_batches(data_set, n_ref, b, EVAL_SEED),
        n_samples=n,
        n_reference=n_ref,
        keep=cfg.eval.keep_features,
        seed=EVAL_SEED,
    ) | {"n_samples": n, "nfe": 0}


def evaluate(run: Path, data: str, a) -> tuple[dict, bool]:
    """(:func:`_evaluate`, whether it was reused), cached in ``run/table3_eval.json``: an
    interrupted table resumes without re-sampling the models already evaluated. The cache is
    used only for the same checkpoint bytes and the same evaluation settings."""
    settings = {
        "data": data,
        "quick": bool(a.quick),
        "inception_weights": str(a.inception_weights) if a.inception_weights else None,
        "threads": a.threads,
    }
    result, reused = cached_evaluation(
        run, "table3_eval.json", settings, lambda: _evaluate(run, data, a)
    )
    if reused:
        print(f"{run}: evaluation reused from table3_eval.json (same checkpoint and settings)")
    return result, reused


def model_task(data: str, model: str, a) -> tuple[dict, bool]:
    """Train (or find) one model's run and evaluate it: (metrics with the run, reused)."""
    torch.set_num_threads(a.threads)
    run = run_model(data, model, a)
    result, reused = evaluate(run, data, a)
    result = {"run": str(run), **result}
    _print_row(data, model, result)
    return result, reused


def before(rev: str, out: Path, data_sets: list[str]) -> dict:
    """The results of the table committed at git revision ``rev`` (its ``table3.json`` under
    ``out``), for ``data_sets``, with the commit's hash and date."""
    try:
        rel = (out / "table3.json").resolve().relative_to(ROOT)
    except ValueError as e:
        raise ValueError(f"--before: {out} is not inside the repository {ROOT}") from e

    def git(*args: str) -> str:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        if r.returncode:
            raise ValueError(f"--before {rev!r}: git {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    commit, date = git("log", "-1", "--format=%H %cs", rev).split()
    old = json.loads(git("show", f"{commit}:{rel.as_posix()}"))["results"]
    return {"rev": rev, "commit": commit, "date": date,
            "results": {d: old[d] for d in data_sets if d in old}}  # fmt: skip


def _evaluate(run: Path, data: str, a) -> dict:
    from ipm.evaluate import evaluate_run

    n = 1000 if a.quick else None
    if data == "gaussians":
        m = evaluate_run(run, threads=a.threads, n_samples=n)
        return {
            k: m[k]
            for k in (
                "w2",
                "w2_std",
                "mmd2",
                "modes_covered",
                "n_modes",
                "off_mode_fraction",
                "nfe",
                "n_samples",
            )
        }
    m = evaluate_run(run, threads=a.threads, n_samples=n, features="classifier")
    out = {
        k: m[k]
        for k in (
            "fid",
            "fid_counts",
            "kid",
            "kid_std",
            "precision",
            "recall",
            "feature_space",
            "nfe",
            "n_samples",
        )
    }
    if a.inception_weights:
        mi = evaluate_run(
            run,
            threads=a.threads,
            n_samples=n,
            features="inception",
            feature_weights=a.inception_weights,
        )
        out["inception_fid"], out["inception_feature_space"] = mi["fid"], mi["feature_space"]
    return out


def _cell(r: dict, key: str, fmt: str, old: dict | None = None) -> str:
    """``r[key]`` formatted, with the earlier table's figure in parentheses where given."""
    cell = format(r[key], fmt) if r.get(key) is not None else "–"
    if old is not None and old.get(key) is not None:
        cell += f" ({format(old[key], fmt)})"
    return cell


def markdown(res: dict) -> str:
    """The page: per data set a table of the models' metrics (and their sample grids), then the
    paper's own Table 3 for orientation."""
    results, parts = res["results"], []
    prev = res.get("before")
    if prev:
        parts.append(
            f"In parentheses: the figure the table committed at `{prev['commit'][:7]}` "
            f"({prev['date']}) gave, for the same data set and model (`--before {prev['rev']}`)."
        )
    if res.get("reused"):
        parts.append(
            reused_sentence(
                "Evaluations reused from the `table3_eval.json` cache of", res["reused"]
            )
        )
    by_source: dict[str, list[str]] = {}
    for key, src in res.get("kept", {}).items():
        by_source.setdefault(f"`{src['command']}` ({src['hardware']})", []).append(key)
    for src, keys in by_source.items():
        parts.append(
            "Not run by this command, kept from the page's earlier invocation "
            + src
            + ": "
            + ", ".join(keys)
            + "."
        )
    for data, by_model in results.items():
        cols = [m for m in (*MODELS, "noise") if m in by_model]
        old = (prev or {}).get("results", {}).get(data, {})
        head = "| metric | " + " | ".join(TITLES[m] for m in cols) + " |"
        sep = "|---|" + "---|" * len(cols)
        rows = []
        if data == "gaussians":
            fields = [
                ("W2", "w2", ".3g"),
                ("MMD²", "mmd2", ".2e"),
                ("off-mode fraction", "off_mode_fraction", ".3f"),
            ]
            for label, k, f in fields:
                rows.append(
                    f"| {label} | "
                    + " | ".join(_cell(by_model[m], k, f, old.get(m)) for m in cols)
                    + " |"
                )
            rows.append(
                "| modes | "
                + " | ".join(
                    f"{by_model[m]['modes_covered']}/{by_model[m]['n_modes']}" for m in cols
                )
                + " |"
            )
        else:
            fields = [
                ("classifier-FID", "fid", ".3g"),
                ("KID", "kid", ".3g"),
                ("precision", "precision", ".3f"),
                ("recall", "recall", ".3f"),
            ]
            if any(r.get("inception_fid") is not None for r in by_model.values()):
                fields.insert(1, ("Inception-FID", "inception_fid", ".3g"))
            for label, k, f in fields:
                rows.append(
                    f"| {label} | "
                    + " | ".join(_cell(by_model[m], k, f, old.get(m)) for m in cols)
                    + " |"
                )
        for label, k in (("NFE per sample", "nfe"), ("samples", "n_samples")):
            rows.append(f"| {label} | " + " | ".join(str(by_model[m][k]) for m in cols) + " |")
        first = next(iter(by_model.values()))
        note = (
            f"Configs `experiments/configs/{CONFIG_DIRS[data]}/`. NFE 0: the samples are a "
            "particle pool moved during training (SD flow), used whole at most, so its sample "
            "count can be smaller (FID is biased in n: a smaller count reads higher)."
        )
        if data != "gaussians":
            note += (
                f" FID in the feature space {first['feature_space']}, against "
                f"{first['fid_counts'][1]} data images."
            )
            if "noise" in by_model:
                pr = by_model["noise"]["precision"]
                note += (
                    " The last column is clamp(N(0, I), −1, 1) images, no model: the scale of a "
                    f"model that learned nothing (here FID {by_model['noise']['fid']:.3g}, precision "
                    f"{pr:.2f}). k-NN precision can credit far-off samples when the real balls are "
                    "wide, so it is read together with FID and recall, never alone."
                )
            if data == "mnist":
                note += (
                    " Floor: the MNIST test set against 10,000 training images has classifier-FID "
                    "2.46 in this space."
                )
        parts.append(f"## {data}\n\n{note}\n\n{head}\n{sep}\n" + "\n".join(rows))
        grids = res.get("grids", {}).get(data, {})
        if grids:
            drawn = {g["drawn_by"] for g in grids.values()}
            parts.append(
                f"Samples of each run ({'; '.join(sorted(drawn))}):\n\n"
                + "\n".join(  # the table's column order, whichever run drew its grid last
                    f"![{TITLES[m]}]({grids[m]['path']})" for m in MODELS if m in grids
                )
            )
    paper = [
        "| data set | " + " | ".join(TITLES[m] for m in MODELS[:4]) + " |",
        "|---|---|---|---|---|",
    ]
    for ds, vals in PAPER.items():
        paper.append(f"| {ds} | " + " | ".join(str(vals[m]) for m in MODELS[:4]) + " |")
    parts.append(
        "## The paper's Table 3 (Inception-FID, the paper's budget; for orientation only)\n\n"
        "These are Inception-FIDs after hours of V100 training; the classifier-FIDs above are a "
        "different quantity from CPU-sized runs, so the two tables are not comparable.\n\n"
        + "\n".join(paper)
    )
    return "\n\n".join(parts)


def _print_row(data: str, m: str, r: dict) -> None:
    print(f"{data} {m}: " + ", ".join(f"{k}={v:.4g}" for k, v in r.items() if isinstance(v, float)))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", nargs="+", choices=sorted(CONFIG_DIRS), default=None)
    p.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--runs", type=Path, default=Path("runs"))
    p.add_argument("--inception-weights", default=None)
    p.add_argument("--out", type=Path, default=ROOT / "docs/results/table3")
    p.add_argument("--threads", type=int, default=1, help="torch threads per model")
    p.add_argument("--jobs", type=int, default=1, help="models trained and evaluated at once")
    p.add_argument(
        "--before",
        default=None,
        metavar="REV",
        help="show the figures of the table committed at this git revision beside",
    )
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "table3", markdown)
    a.data = a.data or (["gaussians"] if a.quick else ["gaussians", "digits", "mnist"])
    torch.set_num_threads(a.threads)
    report = Report("table3", a.out, 0, a.quick)
    models = list(a.models)
    if "score_gan" in models and "edm" not in models:
        models.insert(0, "edm")  # its data score
    prev = before(a.before, a.out, a.data) if a.before else None
    tasks = [(data, m, a) for data in a.data for m in models]
    index = {t[:2]: i for i, t in enumerate(tasks)}
    after = {i: index[(d, "edm")] for (d, m), i in index.items() if m == "score_gan"}
    results: dict[str, dict] = {data: {} for data in a.data}
    reused = []
    for (data, m, _), (r, was_reused) in zip(
        tasks, run_tasks(model_task, tasks, a.jobs, after), strict=True
    ):
        results[data][m] = r
        reused += [f"{data}/{Path(r['run']).name}"] if was_reused else []
    for data in a.data:
        if data != "gaussians":
            results[data]["noise"] = noise_reference(data, a)
            _print_row(data, "noise", results[data]["noise"])
    res = {"results": results, "paper_inception_fid": PAPER, "reused": reused}
    if prev:
        res["before"] = prev
    res["grids"] = copy_grids(results, a.out)
    if not a.quick:
        res = keep_earlier(res, a.out / "table3.json")
    report.write(res, markdown(res))
    return res["results"]


def keep_earlier(res: dict, path: Path) -> dict:
    """``res`` with the results and grids of every (data set, model) that ``path`` (the page's
    earlier JSON) has and ``res`` lacks, each recorded under ``kept`` with the command and
    hardware that measured it; data sets in the order of :data:`CONFIG_DIRS`."""
    if not path.is_file():
        return res
    from ipm.report import read

    head, old = read(path)
    source = {"command": head.get("command", "?"), "hardware": head.get("hardware", "?")}
    results = {d: dict(ms) for d, ms in res["results"].items()}
    grids = {d: dict(g) for d, g in res.get("grids", {}).items()}
    kept = {}
    for data, by_model in old.get("results", {}).items():
        for m, r in by_model.items():
            if m in results.get(data, {}):
                continue
            results.setdefault(data, {})[m] = r
            if m in old.get("grids", {}).get(data, {}):
                grids.setdefault(data, {})[m] = old["grids"][data][m]
            key = f"{data}/{m}"
            kept[key] = old.get("kept", {}).get(key, source)
    if not kept:
        return res
    order = [d for d in CONFIG_DIRS if d in results] + [d for d in results if d not in CONFIG_DIRS]
    return res | {
        "results": {d: results[d] for d in order},
        "grids": {d: grids[d] for d in order if d in grids},
        "kept": kept,
    }


def copy_grids(results: dict, out: Path) -> dict:
    """Each image run's sample grid (``ipm evaluate``'s ``samples.png``) into
    ``out/grids/<data>/<model>.png``."""
    import shutil

    grids: dict[str, dict] = {}
    for data, by_model in results.items():
        for m, r in by_model.items():
            src = Path(r.get("run", "")) / "samples.png"
            if data == "gaussians" or not src.is_file():
                continue
            dst = out / "grids" / data / f"{m}.png"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            path = str(dst.relative_to(out))
            grids.setdefault(data, {})[m] = {"path": path, "drawn_by": "ipm evaluate"}
    return grids


if __name__ == "__main__":
    main()

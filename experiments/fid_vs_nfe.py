"""Quality against the number of function evaluations (the paper's Figure 7, Appendix C.5).

    OMP_WAIT_POLICY=PASSIVE python -m experiments.fid_vs_nfe --data {gaussians,digits,mnist} \
        [--quick] [--edm RUN] [--df RUN] [--n 10000] [--out docs/results/fid_vs_nfe/<data>]

EDM is sampled with the Euler and the Heun (EDM) solver on coarser and finer grids; the
Discriminator Flow (a) on coarser uniform grids of [0, 1] (fewer, larger Euler steps: its
velocity η is unchanged, so the particles travel the same time) and (b) on its training grid
stopped early at T' = k/N. NFE counts evaluations of ∇h_ρ per sample (Heun: 2n − 1).

Quality: on the Gaussians, MMD² (Gaussian kernel, bandwidth 1) and W2 against fresh data;
on digits and MNIST, classifier-FID (ipm's MNIST classifier, 128-d) against the data set, at
``--n`` samples. Without ``--edm``/``--df`` the models are trained first from the data's configs
(``gaussians/``, ``digits-cpu/``, ``mnist-cpu/``) into ``--runs`` (reused when complete). The
paper trains one Discriminator Flow with N = 128, η = 1 for (a) and one with N = 64, η = 2 for
(b); here one run serves both, and the table says which N it has. ``--quick`` trains for a
few hundred steps and evaluates 500 samples: it checks the pipeline, not the models.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import torch

from experiments import ROOT
from experiments.runs import CONFIG_DIRS, edm_and_discr_flow
from ipm.report import Report, rerender


def quality(run: Path, a, **kw) -> dict:
    from ipm.evaluate import evaluate_run

    m = evaluate_run(run, threads=a.threads, seed=a.seed + 1000, n_samples=a.n, **kw)
    keep = ("nfe", "sample_seconds", "mmd2", "w2", "modes_covered", "fid", "feature_space")
    return {k: m[k] for k in keep if k in m}


def grids(n_train: int, quick: bool) -> tuple[list[int], list[int]]:
    """DF coarser grids (Euler steps) and early stops (steps of the training grid)."""
    fr = [1 / 8, 1 / 4, 1 / 2, 1] if not quick else [1 / 4, 1]
    coarse = sorted({max(1, round(f * n_train)) for f in fr})
    stop_fr = [1 / 8, 1 / 4, 3 / 8, 1 / 2, 3 / 4] if not quick else [1 / 2]
    stops = sorted({max(1, round(f * n_train)) for f in stop_fr})
    return coarse, stops


def plot(rows: list[dict], metric: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for method in dict.fromkeys(r["method"] for r in rows):
        pts = sorted((r["nfe"], r[metric]) for r in rows if r["method"] == method)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=method)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("NFE (evaluations of ∇h per sample)")
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", choices=sorted(CONFIG_DIRS), default="gaussians")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--edm", default=None, help="a trained EDM run (default: train one)")
    p.add_argument("--df", default=None, help="a trained Discriminator Flow run")
    p.add_argument("--n", type=int, default=None, help="samples per point (10,000; quick 1,000)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--runs", type=Path, default=ROOT / "runs/fid_vs_nfe")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    a.n = a.n or (500 if a.quick else 10_000)
    a.out = a.out or ROOT / "docs/results/fid_vs_nfe" / a.data
    if a.render:
        return rerender(a.out, "fid_vs_nfe", markdown)
    torch.set_num_threads(a.threads)
    report = Report("fid_vs_nfe", a.out, a.seed, a.quick)
    runs = edm_and_discr_flow(a)
    from ipm.engine import load_run

    n_df = load_run(runs["discr_flow"])[0].model.flow_steps
    edm_nfe = [3, 5, 9, 17, 35] if not a.quick else [3, 9]
    coarse, stops = grids(n_df, a.quick)
    rows = []
    from tqdm.auto import tqdm

    jobs = [
        ("EDM Euler", runs["edm"], {"nfe": k, "model_overrides": {"sampler": "euler"}})
        for k in edm_nfe
    ]
    jobs += [
        ("EDM Heun", runs["edm"], {"nfe": k, "model_overrides": {"sampler": "heun"}})
        for k in edm_nfe
    ]
    jobs += [
        (f"DF coarser grid (trained N={n_df})", runs["discr_flow"], {"nfe": k}) for k in coarse
    ]
    jobs += [(f"DF early stop (N={n_df})", runs["discr_flow"], {"stop": k}) for k in stops]
    for method, run, kw in tqdm(jobs, desc="fid_vs_nfe"):
        q = quality(run, a, **kw)
        rows.append({"method": method, **q})
    metric = "mmd2" if a.data == "gaussians" else "fid"
    plot(rows, metric, a.out / "fid_vs_nfe.png")
    res = {
        "data": a.data,
        "n_samples": a.n,
        "discr_flow_steps": n_df,
        "rows": rows,
        "runs": {k: str(v) for k, v in runs.items()},
    }
    report.write(res, markdown(res))
    return rows


def markdown(res: dict) -> str:
    """The page: quality and sampling time of every method at every NFE."""
    rows, runs = res["rows"], res["runs"]
    n_df = res.get("discr_flow_steps") or int(re.search(r"N=(\d+)", rows[-1]["method"]).group(1))
    metric = "mmd2" if res["data"] == "gaussians" else "fid"
    head = "| method | NFE | " + ("MMD² | W2 |" if metric == "mmd2" else "classifier-FID |")
    head += " sampling s |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        vals = f"{r['mmd2']:.3g} | {r['w2']:.3g} |" if metric == "mmd2" else f"{r['fid']:.4g} |"
        lines.append(f"| {r['method']} | {r['nfe']} | {vals} {r['sample_seconds']:.3g} |")
    space = rows[0].get("feature_space", "")
    quality = (
        "MMD² (Gaussian kernel, bandwidth 1) and W2 against fresh data."
        if metric == "mmd2"
        else f"FID in the feature space {space} against the data set (not comparable with "
        "Inception-FIDs)."
    )
    return (
        f"Data: {res['data']}; {res['n_samples']} samples per point; EDM run `{runs['edm']}`, "
        f"Discriminator Flow run `{runs['discr_flow']}` (N = {n_df}). Quality: {quality} "
        "`fid_vs_nfe.png`: quality against NFE.\n\n" + "\n".join(lines)
    )


if __name__ == "__main__":
    main()

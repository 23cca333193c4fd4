"""Distance to the data law along generation time, EDM against Discriminator Flow (the paper's
Figure 1 and Figure 7a).

    OMP_WAIT_POLICY=PASSIVE python -m experiments.convergence --data {gaussians,digits,mnist} \
        [--quick] [--edm RUN] [--df RUN] [--n N] [--out docs/results/convergence/<data>]

Both models generate ``--n`` samples with their trajectories recorded; every intermediate
particle set x_k (after k solver steps, the raw particles: noisy for EDM until σ is small) is
compared with the data: on the Gaussians by MMD² (bandwidth 1) against fresh data and the
off-mode fraction, on images by classifier-FID (ipm's MNIST classifier) against the data set.
The x-axis is the fraction of the model's function evaluations spent. Runs as in
``fid_vs_nfe.py`` (trained from the data's configs unless given).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from experiments import ROOT
from experiments.runs import CONFIG_DIRS, edm_and_discr_flow
from ipm.report import Report, rerender


def distances(model, cfg, traj: torch.Tensor, a) -> list[dict]:
    """Distance of every recorded particle set traj[k] (K+1, n, D) to the data law."""
    from ipm.data import dataset

    data = dataset(cfg.data)
    g = torch.Generator().manual_seed(a.seed + 2)
    out = []
    if cfg.data.name == "gaussians":
        from ipm.metrics import mmd2_gaussian, mode_coverage

        fresh = data.sample(traj.shape[1], generator=g).float()
        for x in traj:
            _, off = mode_coverage(x.float(), data.means.float(), cfg.data.std)
            out.append({"mmd2": mmd2_gaussian(x.float(), fresh), "off_mode_fraction": off})
        return out
    from ipm.metrics.features import feature_space
    from ipm.metrics.frechet import FeatureStats, frechet_distance
    from ipm.metrics.image_quality import reference_batches

    space = feature_space("classifier")
    ref = FeatureStats(space.dim)
    for b in reference_batches(data, min(len(data), traj.shape[1]), 500, a.seed):
        ref.update(space(b))
    ref_fit, shape = ref.fit(), tuple(model.shape)
    for x in traj:
        s = FeatureStats(space.dim)
        for chunk in x.split(500):
            s.update(space(chunk.float().reshape(-1, *shape)))
        out.append({"fid": frechet_distance(s.fit(), ref_fit), "feature_space": space.name})
    return out


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", choices=sorted(CONFIG_DIRS), default="gaussians")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--edm", default=None)
    p.add_argument("--df", default=None)
    p.add_argument("--n", type=int, default=None, help="samples (5,000 Gaussians / 2,000 images)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--runs", type=Path, default=ROOT / "runs/fid_vs_nfe")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    a.n = a.n or (500 if a.quick else (5000 if a.data == "gaussians" else 2000))
    a.out = a.out or ROOT / "docs/results/convergence" / a.data
    if a.render:
        return rerender(a.out, "convergence", markdown)
    torch.set_num_threads(a.threads)
    report = Report("convergence", a.out, a.seed, a.quick)
    from ipm.engine import load_run

    results = {}
    for name, run in edm_and_discr_flow(a).items():
        cfg, model, _ = load_run(run)
        with torch.no_grad():
            s = model.sample(a.n, generator=torch.Generator().manual_seed(a.seed), record=True)
        traj = s.trajectory
        k = traj.shape[0] - 1
        rows = distances(model, cfg, traj, a)
        for i, r in enumerate(rows):
            r["step"], r["fraction_of_nfe"] = i, i / k
        results[name] = {"run": str(run), "nfe": s.nfe, "steps": k, "rows": rows}
    metric = "mmd2" if a.data == "gaussians" else "fid"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, r in results.items():
        ax.plot(
            [x["fraction_of_nfe"] for x in r["rows"]],
            [x[metric] for x in r["rows"]],
            "o-",
            ms=3,
            label=f"{name} ({r['nfe']} NFE)",
        )
    ax.set_yscale("log")
    ax.set_xlabel("fraction of generation (function evaluations spent)")
    ax.set_ylabel("MMD² to data" if metric == "mmd2" else "classifier-FID to data")
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out / "convergence.png", dpi=120)
    plt.close(fig)
    res = {"data": a.data, "n_samples": a.n, "metric": metric, "results": results}
    report.write(res, markdown(res))
    return results


def markdown(res: dict) -> str:
    """The page: each model's distance at a quarter, half, three quarters and the end."""
    metric = res["metric"]
    lines = ["| model | NFE | at 25% | at 50% | at 75% | end |", "|---|---|---|---|---|---|"]
    for name, r in res["results"].items():
        rows = r["rows"]
        at = [rows[round(f * r["steps"])][metric] for f in (0.25, 0.5, 0.75, 1.0)]
        lines.append(f"| {name} | {r['nfe']} | " + " | ".join(f"{v:.3g}" for v in at) + " |")
    distance = (
        "MMD², bandwidth 1, against fresh data"
        if metric == "mmd2"
        else "classifier-FID against the data set"
    )
    return (
        f"Data: {res['data']}; {res['n_samples']} samples; the distance of the raw particles to "
        f"the data law ({distance}) after each solver step. `convergence.png`: the whole "
        "curves.\n\n" + "\n".join(lines)
    )


if __name__ == "__main__":
    main()

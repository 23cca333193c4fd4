"""Mode collapse in Score GANs (the paper's Appendix C.2, Figure 4).

    OMP_WAIT_POLICY=PASSIVE python -m experiments.mode_collapse [--quick] [--edm RUN] \
        [--out docs/results/mode_collapse]

The Score GAN's flow is μ_p ∇log(p ⋆ k_σ) − μ_ρ ∇log(ρ ⋆ k_σ) (Eq. 26–27). The paper's model
uses (μ_p, μ_ρ) = (1, 1), a KL gradient flow; (2, 1), the weights of the EDM probability flow,
over-weights the data score and makes the generator collapse onto a few modes. Both train on
the 2-D Gaussians (radius 3, std 0.5) from ``gaussians/score_gan.yaml`` with the data score of an
EDM run (``--edm``, else trained from ``gaussians/edm.yaml``), and are evaluated like
``ipm evaluate`` (10,000 samples: modes covered, off-mode fraction, MMD², W2). Writes JSON, a
table and ``mode_collapse.png`` (samples over the data for each setting).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from experiments import CONFIGS, ROOT
from ipm.engine import ensure_run
from ipm.report import Report, rerender

SETTINGS = {"(1, 1) paper": (1.0, 1.0), "(2, 1) EDM weights": (2.0, 1.0)}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--edm", default=None, help="an EDM run on the Gaussians (default: train one)")
    p.add_argument("--out", type=Path, default=ROOT / "docs/results/mode_collapse")
    p.add_argument("--runs", type=Path, default=ROOT / "runs/mode_collapse")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "mode_collapse", markdown)
    torch.set_num_threads(a.threads)
    report = Report("mode_collapse", a.out, a.seed, a.quick)
    common = [f"train.threads={a.threads}", f"seed={a.seed}", "eval.animation=false"]
    quick = ["train.checkpoint_every=50", "train.log_every=50"] if a.quick else []
    edm = Path(a.edm) if a.edm else None
    if edm is None:
        steps = ["train.steps=200"] if a.quick else []
        edm = ensure_run(CONFIGS / "gaussians/edm.yaml", common + quick + steps, a.runs / "edm")
    from ipm.engine import load_run
    from ipm.evaluate import evaluate_run

    results = {}
    for label, (mu_p, mu_rho) in SETTINGS.items():
        over = (
            common
            + quick
            + [f"model.mu_p={mu_p}", f"model.mu_rho={mu_rho}", f"model.edm_checkpoint={edm}"]
        )
        if a.quick:
            over.append("train.steps=100")
        run = ensure_run(
            CONFIGS / "gaussians/score_gan.yaml",
            over,
            a.runs / f"score_gan_mu{mu_p:g}_{mu_rho:g}",
        )
        m = evaluate_run(
            run, seed=a.seed + 1000, threads=a.threads, n_samples=2000 if a.quick else None
        )
        _, model, _ = load_run(run)
        with torch.no_grad():
            x = model.sample(2000, generator=torch.Generator().manual_seed(a.seed)).x
        results[label] = {
            "mu_p": mu_p,
            "mu_rho": mu_rho,
            "run": str(run),
            "metrics": m,
            "points": x.tolist(),
        }

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ipm.distributions import circle_of_gaussians

    data = circle_of_gaussians(5, 3.0, 0.5).sample(2000, generator=torch.Generator().manual_seed(1))
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 5))
    for ax, (label, r) in zip(axes, results.items()):
        x = torch.tensor(r["points"])
        ax.scatter(data[:, 0], data[:, 1], s=2, c="0.75", label="data")
        ax.scatter(x[:, 0], x[:, 1], s=2, c="C3", label="Score GAN")
        m = r["metrics"]
        ax.set_title(f"(μ_p, μ_ρ) = {label}: {m['modes_covered']}/{m['n_modes']} modes")
        ax.set_xlim(-5, 5)
        ax.set_ylim(-5, 5)
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(a.out / "mode_collapse.png", dpi=110)
    plt.close(fig)
    for r in results.values():
        del r["points"]
    res = {"edm_run": str(edm), "results": results}
    report.write(res, markdown(res))
    return results


def markdown(res: dict) -> str:
    """The page: modes, off-mode fraction, MMD² and W2 per (μ_p, μ_ρ)."""
    lines = [
        "| (μ_p, μ_ρ) | modes | off-mode fraction | MMD² | W2 | samples |",
        "|---|---|---|---|---|---|",
    ]
    for label, r in res["results"].items():
        m = r["metrics"]
        lines.append(
            f"| {label} | {m['modes_covered']}/{m['n_modes']} | {m['off_mode_fraction']:.3f} | "
            f"{m['mmd2']:.3g} | {m['w2']:.3g} | {m['n_samples']} |"
        )
    return (
        "Score GAN on the 2-D Gaussians (radius 3, std 0.5), data score from the EDM run "
        f"`{res['edm_run']}`. `mode_collapse.png`: 2,000 samples over the data.\n\n"
        + "\n".join(lines)
    )


if __name__ == "__main__":
    main()

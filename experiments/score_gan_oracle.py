"""Score GAN on the Gaussians with the exact data score (an oracle) in place of the trained EDM.

    OMP_WAIT_POLICY=PASSIVE python -m experiments.score_gan_oracle --seeds 0 1 2 \
        --out docs/results/gaussians/score_gan_oracle [--every 250] [--quick]

The paper's Score GAN config (``experiments/configs/gaussians/score_gan.yaml``: its steps, K,
networks, optimisers, one thread) with ∇log(p ⋆ k_σ) computed exactly from the data mixture
(:class:`ipm.flows.ExactScore`) instead of read from a trained EDM. Everything
else is ``ipm``'s Score GAN step. Comparing it with the runs on a trained EDM separates the error
of the learned data score from the rest of the training. Every ``--every`` steps the generator
is scored like ``ipm evaluate`` (10,000 samples against fresh data, same seeds). Writes
``OUT/score_gan_oracle.json``, ``OUT/README.md`` (headed by command, hardware and wall time) and
``OUT/oracle.png``. ``--quick``: 40 steps, 500 samples (a smoke test).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from experiments import CONFIGS

#: the official implementation's figures for Score GAN on the Gaussians (its seed 0)
REFERENCE = {"mmd2": 1.0e-2, "off_mode_fraction": 0.050}


def run_seed(seed: int, steps: int | None, every: int, n_eval: int) -> list[dict]:
    import torch
    from tqdm.auto import tqdm

    from ipm.data import dataset
    from ipm.engine import load_config
    from ipm.evaluate import EVAL_SEED, gaussian_metrics
    from ipm.flows import ExactScore
    from ipm.models import ScoreGAN, StepContext

    over = [f"seed={seed}", f"eval.n_samples={n_eval}", f"eval.w2_n={min(2000, n_eval)}"]
    cfg = load_config(CONFIGS / "gaussians/score_gan.yaml", over)
    torch.set_num_threads(cfg.train.threads)
    steps = steps or cfg.train.steps
    dist = dataset(cfg.data)
    torch.manual_seed(cfg.seed)
    model = ScoreGAN(cfg.model, dist.dim, cfg.train.batch_size, data_score=ExactScore(dist))
    opts = model.make_optimizers()
    ctx = StepContext(torch.Generator().manual_seed(cfg.seed + 1), None, torch.device("cpu"))
    rows, train_s = [], 0.0
    for step in tqdm(range(1, steps + 1), desc=f"score_gan oracle seed {seed}"):
        t0 = time.perf_counter()
        model.train_step(ctx, opts)
        train_s += time.perf_counter() - t0
        if step % every and step != steps:
            continue
        with torch.no_grad():
            x = model.sample(n_eval, generator=torch.Generator().manual_seed(EVAL_SEED)).x
        m = gaussian_metrics(cfg, x)  # as ipm evaluate
        rows.append({"seed": seed, "steps": step, "train_seconds": train_s, **m})
    return rows


def plot(runs: dict[int, list[dict]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for seed, rows in runs.items():
        st = [r["steps"] for r in rows]
        axes[0].plot(st, [r["mmd2"] for r in rows], "o-", ms=3, label=f"seed {seed}")
        axes[1].plot(st, [r["off_mode_fraction"] for r in rows], "o-", ms=3, label=f"seed {seed}")
    axes[0].set_yscale("log")
    for ax, key, name in ((axes[0], "mmd2", "MMD²"), (axes[1], "off_mode_fraction", "off-mode")):
        ax.axhline(REFERENCE[key], color="k", ls="--", label=f"reference {name}")
        ax.set_xlabel("training step (K = 10 score updates + 1 generator update)")
        ax.set_ylabel(name)
        ax.legend(fontsize=8)
    fig.suptitle("Score GAN with the exact data score (oracle)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def markdown(res: dict) -> str:
    """The page: every evaluated step of every seed, the reference figures in the header."""
    runs, ref = res["runs"], res["reference"]
    lines = [
        f"Score GAN, paper config, exact data score. Reference figures: MMD² ≤ "
        f"{ref['mmd2']:.1e}, off-mode ≤ {ref['off_mode_fraction']}, 5/5 modes.",
        "",
        "| seed | step | train s | W2 | MMD² | off-mode | modes |",
        "|---|---|---|---|---|---|---|",
    ]
    for s, rows in runs.items():
        for r in rows:
            lines.append(
                f"| {s} | {r['steps']} | {r['train_seconds']:.1f} | {r['w2']:.2f} | "
                f"{r['mmd2']:.2e} | {r['off_mode_fraction']:.4f} | "
                f"{r['modes_covered']}/{r['n_modes']} |"
            )
    return "\n".join(lines) + "\n\n![curves](oracle.png)\n"


def main(argv=None) -> dict:
    from ipm.report import Report, rerender

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--every", type=int, default=250)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "score_gan_oracle", markdown)
    steps, n_eval, every = (40, 500, 20) if a.quick else (None, 10_000, a.every)
    report = Report("score_gan_oracle", a.out, a.seeds[0], a.quick)
    runs = {s: run_seed(s, steps, every, n_eval) for s in a.seeds}
    res = {"seeds": a.seeds, "reference": REFERENCE, "runs": {str(s): r for s, r in runs.items()}}
    plot(runs, a.out / "oracle.png")
    path = report.write(res, markdown(res))
    print(f"-> {a.out / 'score_gan_oracle.json'}, {path}, {a.out / 'oracle.png'}")
    return {**report.header(), **res}


if __name__ == "__main__":
    main()

"""Latent interpolations (the paper's Appendix C.3, Figure 5).

    OMP_WAIT_POLICY=PASSIVE python -m experiments.interpolation RUN [RUN ...] \
        [--methods spherical_cauchy_linear linear] [--pairs 6] [--steps 10] \
        [--out docs/results/interpolation/<data>]

For each run (GAN, Score GAN: the latent z of the generator; EDM, Discriminator Flow: the
initial noise x₀ of the flow, scaled by the prior's std and shifted by its mean) and each interpolation method of
:mod:`ipm.generators.interpolation`, ``--pairs`` pairs of latents are interpolated at
``--steps`` times and decoded. Writes one image grid per run and method (rows: pairs; columns:
t = 0 → 1) and a table of how smooth the decoded paths are: the path-length ratio
Σ_i ‖x(t_{i+1}) − x(t_i)‖ / ‖x(1) − x(0)‖ (1 for a straight path; large when the output
jumps) and the largest single jump as a fraction of the path length (1/(steps−1) when even).
Image runs only (2-D runs give points, not pictures). ``--quick`` uses 2 pairs × 5 steps.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from experiments import ROOT
from ipm.report import Report, common_arguments, rerender


def latent_size(model) -> tuple[int, float, float]:
    """(dimension, scale, shift) of the latent that decodes to a sample: a standard normal z
    maps to shift + scale·z."""
    if "generator" in model.networks:
        return model.cfg.latent_dim, 1.0, 0.0
    prior = model.particle_model().prior
    return model.dim, float(prior.std), float(getattr(prior, "mean", 0.0))


@torch.no_grad()
def decode(model, z: torch.Tensor) -> torch.Tensor:
    """Samples from latents z (N, d): the generator, or the particle flow from x₀ = z."""
    if "generator" in model.networks:
        return model.networks["generator"](z)
    return model.particle_model().evolve(z).x


def path_stats(x: torch.Tensor) -> tuple[float, float]:
    """(path-length ratio, largest jump / path length) of decoded paths x (P, T, D), medians."""
    seg = (x[:, 1:] - x[:, :-1]).norm(dim=-1)  # (P, T−1)
    length = seg.sum(1)
    chord = (x[:, -1] - x[:, 0]).norm(dim=-1).clamp_min(1e-12)
    return float((length / chord).median()), float((seg.max(1).values / length).median())


def main(argv=None) -> dict:
    from ipm.engine import load_run
    from ipm.engine.figures import image_grid
    from ipm.generators.interpolation import INTERPOLATIONS, interpolate

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument(
        "--methods",
        nargs="+",
        default=["spherical_cauchy_linear", "linear"],
        choices=INTERPOLATIONS,
    )
    p.add_argument("--pairs", type=int, default=6)
    p.add_argument("--steps", type=int, default=10)
    common_arguments(p)
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "interpolation", markdown)
    if a.quick:
        a.pairs, a.steps = 2, 5
    torch.set_num_threads(a.threads)
    loaded = [(r, *load_run(r)[:2]) for r in a.runs]
    data = loaded[0][1].data.name
    if data == "gaussians":
        raise SystemExit("interpolation: image runs only (this run trained on the 2-D Gaussians)")
    a.out = a.out or ROOT / "docs/results/interpolation" / data
    report = Report("interpolation", a.out, a.seed, a.quick)
    ts = torch.linspace(0, 1, a.steps)
    results = {}
    for run, cfg, model in loaded:
        d, scale, shift = latent_size(model)
        g = torch.Generator().manual_seed(a.seed)
        z0, z1 = torch.randn(a.pairs, d, generator=g), torch.randn(a.pairs, d, generator=g)
        for method in a.methods:
            z = shift + interpolate(z0, z1, ts, method).reshape(-1, d) * scale
            x = decode(model, z.to(torch.float32)).reshape(a.pairs, a.steps, -1).cpu()
            name = f"{run.name}_{method}.png"
            image_grid(x.reshape(a.pairs * a.steps, -1), tuple(model.shape), a.out / name, a.steps)
            ratio, jump = path_stats(x)
            results[f"{run.name}/{method}"] = {
                "run": str(run),
                "model": cfg.model.name,
                "method": method,
                "path_length_ratio": ratio,
                "largest_jump_fraction": jump,
                "grid": name,
            }
    res = {"data": data, "pairs": a.pairs, "steps": a.steps, "results": results}
    report.write(res, markdown(res))
    return results


def markdown(res: dict) -> str:
    """The page: per run and method, the decoded path's length ratio and largest jump."""
    lines = ["| run | model | method | path-length ratio | largest jump |", "|---|---|---|---|---|"]
    for key, r in res["results"].items():
        run = r.get("run", key.split("/")[0])
        lines.append(
            f"| `{run}` | {r['model']} | {r['method']} | {r['path_length_ratio']:.3g} | "
            f"{r['largest_jump_fraction']:.3g} |"
        )
    return (
        f"{res['pairs']} pairs of latents × {res['steps']} interpolation times per run and "
        "method; grids `<run>_<method>.png` (rows: pairs, columns: t = 0 → 1). Path-length "
        "ratio: decoded path length over the distance of its ends (1 = straight); largest jump: "
        f"the biggest step's share of the path (even steps: {1 / (res['steps'] - 1):.3g}). "
        "Medians over pairs.\n\n" + "\n".join(lines)
    )


if __name__ == "__main__":
    main()

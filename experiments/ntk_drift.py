"""How far the generator's NTK moves while a GAN (or Score GAN) trains, and what that changes in
the fields it can follow, against width and over seeds.

    OMP_WAIT_POLICY=PASSIVE python -m experiments.ntk_drift [--quick] [--mnist] [--score-gan] \
        [--score-gan-edm RUN] [--mnist-edm RUN] [--seeds 0 1 2] [--jobs 2] [--out docs/results/ntk_drift] \
        [--runs runs/ntk_drift]

Eq. 18 treats the generator's NTK k_{g_θ} as fixed over a step; the Int-PM view (Finding 3) is
exact when it is constant along training, as in the infinite-width (lazy) limit, and under
Eq. 13–14 the generator moves its particles along K ∇h, so it follows the part of the flow's
field that the kernel's leading eigenspace holds. For each setting, generator width and seed,
the config trains with ``model.generator.width=w`` and ``train.keep_every=K`` (a run that
exists is resumed, not repeated); then, for every kept checkpoint θ_t (step 0 included), on
fixed probe latents:

- the relative drift ‖K_t − K_0‖_F / ‖K_0‖_F of the *exact* empirical NTK
  (:func:`ipm.ntk.empirical_ntk`, float64, BatchNorm in eval mode) on a probe block;
- the top-k eigenvalues of K_t's Gram over N probes × all D outputs
  (:func:`ipm.ntk.ntk_eigs`: dense ``eigh`` where N·D is small, else the matrix-free
  iterative path in float32 to a relative residual of 1e-5; on MNIST N·D = 256 × 1,024);
- the alignment of K_t with K_0, centred and uncentred (:func:`ipm.ntk.kernel_alignment`:
  exact from the Grams where they are small, else between the rank-k truncations), and the
  share of ‖K_t‖_F² the top k hold (exact, or against a Hutchinson estimate of the norm);
- the followable share of the model's training field at θ_t, ∇h(g_θt(z)) with the
  discriminator (GAN) or score network (Score GAN, at σ_min) of that checkpoint
  (:func:`ipm.ntk.followable_share`): the part of the flow the leading eigenspace holds;
- the effective rank of the top-k spectrum (:func:`ipm.ntk.effective_rank`).

Settings: ``gaussians-gan`` (the paper's 2-D GAN config, MLP generator); ``gaussians-score_gan``
with ``--score-gan`` or in full mode (its data score from an EDM run trained here, or
``--score-gan-edm``); ``mnist-gan`` with ``--mnist`` or in full mode (the MNIST-cpu DCGAN; the
Frobenius drift on the exact block of 16 fixed pixels × 8 probes, the spectrum on 256 probes
× 1,024 pixels); ``mnist-score_gan`` with ``--mnist --score-gan`` or in full mode (the same
generator trained as the MNIST-cpu Score GAN, its data score from the MNIST-cpu EDM trained
here, or ``--mnist-edm``). Widths are compared over seeds: medians with their range, and Spearman's rank
correlation of the final values with width over all runs.

Writes ``ntk_drift.json``, ``README.md`` (tables) and ``ntk_drift.png`` (per setting: drift,
alignment with K_0 and followable share against step, and the spectra at the first and last
checkpoint, per width) into ``--out``. ``--quick`` trains two small widths for a few hundred
steps on one seed (CPU, minutes).
"""

from __future__ import annotations

import argparse
import copy
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from experiments import CONFIGS, ROOT
from experiments.parallel import run_tasks
from ipm.engine import ensure_run
from ipm.report import Report, rerender

#: the eigenpairs per checkpoint
TOP_K = 16
#: Rademacher probes of the Hutchinson estimate of ‖K_t‖_F where the Gram is not formed
#: (deflated by the top eigenpairs: only the rest of the spectrum is sampled)
FRO_SAMPLES = 16


@dataclass(frozen=True)
class Setting:
    name: str
    config: str
    widths: tuple[int, ...]
    steps: int
    keep: int
    probes: int  # latents of the Frobenius-drift block
    pixels: int = 0  # > 0: that block holds this many fixed output coordinates
    spectral_probes: int = 0  # latents of the spectrum (all outputs); 0: ``probes``
    extra: tuple[str, ...] = ()


def settings(
    quick: bool, mnist: bool, edm: str | None, mnist_edm: str | None = None
) -> list[Setting]:
    g, m = CONFIGS / "gaussians", CONFIGS / "mnist-cpu"
    # (name, config, data EDM or None, quick sizes, full sizes); sizes: widths, steps, keep,
    # probes, pixels, spectral probes
    # fmt: off
    specs = [("gaussians-gan", g / "gan.yaml", None,
              ((32, 128), 200, 50, 16), ((64, 256, 1024), 1900, 100, 64))]
    if edm:
        specs.append(("gaussians-score_gan", g / "score_gan.yaml", edm,
                      ((32, 128), 100, 25, 16), ((64, 256, 1024), 1000, 100, 64)))
    if mnist or not quick:
        specs.append(("mnist-gan", m / "gan.yaml", None,
                      ((8, 16), 40, 20, 4, 16, 8), ((8, 16, 32), 1000, 250, 8, 16, 256)))
    if mnist_edm:
        specs.append(("mnist-score_gan", m / "score_gan.yaml", mnist_edm,
                      ((8, 16), 20, 10, 4, 16, 8), ((8, 16, 32), 1000, 250, 8, 16, 256)))
    # fmt: on
    return [
        Setting(
            name,
            str(config),
            *(small if quick else full),
            extra=(f"model.edm_checkpoint={data_edm}",) if data_edm else (),
        )
        for name, config, data_edm, small, full in specs
    ]


class OutputSubset(nn.Module):
    """g restricted to fixed output coordinates: z ↦ g(z)[:, idx] (an exact NTK block)."""

    def __init__(self, net: nn.Module, idx: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("idx", idx)

    def forward(self, z):
        return self.net(z)[:, self.idx]


def data_edm(data: str, quick: bool, runs: Path, threads: int) -> str:
    """An EDM of ``data`` (``gaussians`` or ``mnist-cpu``) for the Score GAN's data score,
    trained here from its config (quick: briefly)."""
    overrides = [f"train.threads={threads}", "eval.animation=false"]
    if quick:  # the pipeline only
        steps = 300 if data == "gaussians" else 30
        overrides += [f"train.steps={steps}", f"train.checkpoint_every={steps}"]
        overrides += ["model.net.width=64"] if data == "gaussians" else []
    return str(ensure_run(CONFIGS / data / "edm.yaml", overrides, runs / f"{data}-edm"))


def train_run(s: Setting, width: int, runs: Path, seed: int, threads: int) -> Path:
    overrides = [
        f"model.generator.width={width}",
        f"train.steps={s.steps}",
        f"train.keep_every={s.keep}",
        f"train.checkpoint_every={s.keep}",
        f"train.threads={threads}",
        f"seed={seed}",
        "eval.animation=false",
        *s.extra,
    ]
    return ensure_run(s.config, overrides, runs / f"{s.name}_w{width}_s{seed}")


def _load(ck: Path):
    """(config, model with its training field, float64 eval generator) of a checkpoint."""
    from ipm.engine import load_run
    from ipm.engine.trainer import load_data_score

    cfg, model, payload = load_run(ck, use_ema=False, accelerate=False)
    if "data_score" in getattr(model, "inputs", ()):
        model.data_score = load_data_score(cfg.model.edm_checkpoint, model.shape)
    gen = copy.deepcopy(model.networks["generator"]).double().eval()
    return cfg, model, payload, gen


def _spectrum(gen: nn.Module, z: torch.Tensor):
    """(top-k eigenpairs, dense Gram or None, ‖K‖_F and its standard error) of the generator's
    NTK Gram on latents z: exact in float64 where small, else iterative in float32 with a
    Hutchinson estimate of the norm, deflated by the eigenpairs."""
    from ipm.ntk import as_gram, empirical_ntk, gram_eigs, ntk_eigs, ntk_frobenius_estimate
    from ipm.ntk.spectral import DENSE_MAX

    with torch.no_grad():
        d = gen(z[:1]).reshape(1, -1).shape[1]
    if len(z) * d <= DENSE_MAX:  # one kernel, its eigenpairs by eigh
        gram = as_gram(empirical_ntk(gen, z))
        return gram_eigs(gram, len(z), min(TOP_K, len(z) * d)), gram, float(gram.norm()), 0.0
    g32, z32 = copy.deepcopy(gen).float(), z.float()
    eigs = ntk_eigs(g32, z32, TOP_K, method="iterative", tol=1e-5)
    fro = ntk_frobenius_estimate(g32, z32, samples=FRO_SAMPLES, deflate=eigs)
    return eigs, None, fro.value, fro.stderr


def drift_curve(s: Setting, run: Path, seed: int) -> dict:
    from tqdm.auto import tqdm

    from ipm.ntk import (
        as_gram,
        effective_rank,
        empirical_ntk,
        followable_share,
        kernel_alignment,
    )

    kept = sorted((run / "checkpoints").glob("step_*.pt"))
    g = torch.Generator().manual_seed(seed + 7)
    k0 = prev = eigs0 = gram0 = None
    out: dict[str, list] = {k: [] for k in ("steps", "drift", "consecutive_drift", "values",
                                            "alignment", "alignment_uncentred", "share",
                                            "effective_rank", "fro", "fro_stderr")}  # fmt: skip
    for ck in tqdm(kept, desc=f"NTK {run.name}", leave=False):
        cfg, model, payload, gen = _load(ck)
        if k0 is None:
            n_spec = s.spectral_probes or s.probes
            zs = torch.randn(n_spec, cfg.model.latent_dim, generator=g, dtype=torch.float64)
            z = zs[: s.probes]
            n_params = sum(p.numel() for p in gen.parameters())
            if s.pixels:
                idx = torch.randperm(int(math.prod(model.shape)), generator=g)[: s.pixels]
        net = OutputSubset(gen, idx) if s.pixels else gen
        eigs, gram, fro, fro_se = _spectrum(gen, zs)
        if gram is not None and not s.pixels and len(zs) == s.probes:
            k = gram  # the drift block is the spectrum's whole kernel: computed once
        else:
            k = as_gram(empirical_ntk(net, z))
        with torch.no_grad():
            x = gen(zs).reshape(len(zs), -1)
            field = model.field(x.float())
        if k0 is None:
            k0, eigs0, gram0 = k, eigs, gram
        out["steps"].append(int(payload["step"]))
        out["drift"].append(float(torch.linalg.matrix_norm(k - k0) / torch.linalg.matrix_norm(k0)))
        if prev is not None:
            out["consecutive_drift"].append(
                float(torch.linalg.matrix_norm(k - prev) / torch.linalg.matrix_norm(prev))
            )
        prev = k
        out["values"].append(eigs.values.tolist())
        out["alignment"].append(
            kernel_alignment(gram, gram0, n_particles=len(zs))
            if gram is not None
            else kernel_alignment(eigs, eigs0)
        )
        out["alignment_uncentred"].append(
            kernel_alignment(gram, gram0, n_particles=len(zs), centred=False)
            if gram is not None
            else kernel_alignment(eigs, eigs0, centred=False)
        )
        out["fro"].append(fro)
        out["fro_stderr"].append(fro_se)
        out["share"].append(followable_share(eigs, field) if field is not None else None)
        out["effective_rank"].append(effective_rank(eigs))
    if not out["steps"] or out["steps"][0] != 0:
        raise RuntimeError(f"{run}: no step-0 checkpoint (train with train.keep_every set)")
    return {
        **out,
        "k0_fro": float(torch.linalg.matrix_norm(k0)),
        "parameters": n_params,
        "ntk_shape": list(k0.shape),
        "spectral_shape": [len(zs), int(eigs.vectors.shape[2])],
        "alignment_kind": "exact" if gram0 is not None else f"rank-{eigs0.values.numel()}",
    }


def one_run(s: Setting, width: int, seed: int, runs: Path, threads: int) -> dict:
    """Train (or find) one run and measure its kernels along training."""
    torch.set_num_threads(threads)
    r = drift_curve(s, train_run(s, width, runs, seed, threads), seed)
    print(
        f"{s.name} width {width} seed {seed}: final drift {r['drift'][-1]:.4g}, "
        f"alignment with K_0 {r['alignment'][-1]:.3f} at step {r['steps'][-1]}",
        flush=True,
    )
    return r


def _map(todo: list, runs: Path, threads: int, jobs: int) -> list[dict]:
    """:func:`one_run` over ``todo`` in order, in ``jobs`` worker processes when above 1 (the
    longest settings, listed last, are started first)."""
    tasks = [(*t, runs, threads) for t in reversed(todo)]
    return run_tasks(one_run, tasks, jobs)[::-1]


def _seeds(by_seed: dict) -> list[dict]:
    return [by_seed[k] for k in sorted(by_seed, key=int)]


def _median_band(curves: list[list[float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.array([[np.nan if v is None else v for v in c] for c in curves], dtype=float)
    return np.nanmedian(a, 0), np.nanmin(a, 0), np.nanmax(a, 0)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    rows = [("drift", "‖K_t − K_0‖_F / ‖K_0‖_F", "symlog"),
            ("alignment", "centred alignment of K_t with K_0", "linear"),
            ("alignment_uncentred", "uncentred alignment of K_t with K_0", "linear"),
            ("share", "followable share of ∇h (top 16)", "linear")]  # fmt: skip
    fig, axes = plt.subplots(5, len(names), figsize=(4.6 * len(names), 15), squeeze=False)
    for j, name in enumerate(names):
        widths = sorted(results[name], key=int)
        colours = plt.cm.viridis(np.linspace(0, 0.85, len(widths)))
        for (key, label, scale), ax in zip(rows, axes[:4, j], strict=True):
            for w, c in zip(widths, colours, strict=True):
                runs = _seeds(results[name][w])
                if all(v is None for v in runs[0][key]):
                    continue
                med, lo, hi = _median_band([r[key] for r in runs])
                steps = runs[0]["steps"]
                ax.plot(steps, med, "o-", ms=3, color=c, label=f"width {w} ({len(runs)} seeds)")
                ax.fill_between(steps, lo, hi, color=c, alpha=0.2)
            if scale == "symlog":
                ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_xlabel("training step")
            ax.set_ylabel(label)
            ax.legend(fontsize=7)
        axes[0, j].set_title(name)
        bx = axes[4, j]
        for w, c in zip(widths, colours, strict=True):
            runs = _seeds(results[name][w])
            first = np.median([np.array(r["values"][0]) / r["values"][0][0] for r in runs], 0)
            last = np.median([np.array(r["values"][-1]) / r["values"][0][0] for r in runs], 0)
            i = np.arange(1, len(first) + 1)
            bx.semilogy(i, first, "--", color=c, lw=1)
            bx.semilogy(i, last, "o-", ms=3, color=c, label=f"width {w}")
        bx.set_xlabel("eigenvalue index i (dashed: step 0, solid: last)")
        bx.set_ylabel("λ_i(K_t) / λ_1(K_0)")
        bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--mnist", action="store_true", help="include MNIST-cpu in quick mode")
    p.add_argument("--score-gan", action="store_true", help="include the Score GAN in quick mode")
    p.add_argument("--score-gan-edm", default=None, help="the Gaussians EDM run (else trained)")
    p.add_argument("--mnist-edm", default=None, help="the MNIST-cpu EDM run (else trained)")
    p.add_argument("--out", type=Path, default=ROOT / "docs/results/ntk_drift")
    p.add_argument("--runs", type=Path, default=ROOT / "runs/ntk_drift")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="default: 0 1 2 (quick: 0)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--jobs", type=int, default=1, help="runs trained and measured at once")
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "ntk_drift", markdown)
    torch.set_num_threads(a.threads)
    seeds = a.seeds if a.seeds is not None else ([0] if a.quick else [0, 1, 2])
    report = Report("ntk_drift", a.out, " ".join(map(str, seeds)), a.quick)
    edm, mnist_edm = a.score_gan_edm, a.mnist_edm
    if edm is None and (a.score_gan or not a.quick):
        edm = data_edm("gaussians", a.quick, a.runs, a.threads)
    if mnist_edm is None and ((a.score_gan and a.mnist) or not a.quick):
        mnist_edm = data_edm("mnist-cpu", a.quick, a.runs, a.threads)
    todo = [(s, w, seed) for s in settings(a.quick, a.mnist, edm, mnist_edm) for w in s.widths
            for seed in seeds]  # fmt: skip
    results: dict[str, dict[str, dict[str, dict]]] = {}
    for (s, w, seed), r in zip(todo, _map(todo, a.runs, a.threads, a.jobs), strict=True):
        results.setdefault(s.name, {}).setdefault(str(w), {})[str(seed)] = r
    plot(results, a.out / "ntk_drift.png")
    res = {"results": results, "top_k": TOP_K}
    report.write(res, markdown(res))
    return results


def _fmt_spread(values: list[float | None]) -> str:
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return "–"
    if v.size == 1:
        return f"{v[0]:.3g}"
    return f"{np.median(v):.3g} [{v.min():.3g}, {v.max():.3g}]"


def _spearman(widths: list[int], values: list[float | None]) -> str:
    from scipy.stats import spearmanr

    pairs = [(w, v) for w, v in zip(widths, values, strict=True) if v is not None]
    if len({w for w, _ in pairs}) < 3 or len(pairs) < 5:
        return "–"
    rho, pval = spearmanr(*zip(*pairs, strict=True))
    return f"{rho:+.2f} (p = {pval:.2g})"


def _captured(r: dict, i: int) -> float:
    """Σ_{j≤k} λ_j² / ‖K‖_F² at checkpoint i: the share of the Gram's Frobenius mass its top k
    hold (the norm exact, or a Hutchinson estimate)."""
    return float(np.sum(np.square(r["values"][i])) / r["fro"][i] ** 2)


#: the final values compared across widths: JSON key -> column title
FINALS = {
    "drift": "final drift",
    "alignment": "centred alignment with K_0",
    "alignment_uncentred": "uncentred alignment with K_0",
    "share": "followable share",
    "effective_rank": "effective rank",
}


def markdown(res: dict) -> str:
    """The page: per setting and width, the final values over seeds (median [min, max]) and the
    rank correlation of each with width."""
    k = res.get("top_k", TOP_K)
    rows = [
        "| setting | width | seeds | parameters | drift block | spectrum on N × D | steps | "
        + " | ".join(FINALS.values())
        + f" | λ_1(K_T) / λ_1(K_0) | top-{k} share of ‖K_0‖_F², ‖K_T‖_F² |",
        "|---|---|---|---|---|---|---|" + "---|" * (len(FINALS) + 2),
    ]
    trends = ["| setting | " + " | ".join(FINALS.values()) + " |",
              "|---|" + "---|" * len(FINALS)]  # fmt: skip
    for name, by_w in res["results"].items():
        all_w: list[int] = []
        finals: dict[str, list] = {key: [] for key in FINALS}
        for w, by_seed in sorted(by_w.items(), key=lambda kv: int(kv[0])):
            runs = _seeds(by_seed)
            r0 = runs[0]
            last = {key: [r[key][-1] for r in runs] for key in FINALS}
            for key in FINALS:
                finals[key] += last[key]
            all_w += [int(w)] * len(runs)
            growth = [r["values"][-1][0] / r["values"][0][0] for r in runs]
            kind = f" ({r0['alignment_kind']})"
            cells = [
                _fmt_spread(last[key]) + (kind if "alignment" in key else "") for key in FINALS
            ]
            captured = (
                f"{_fmt_spread([_captured(r, 0) for r in runs])}, "
                f"{_fmt_spread([_captured(r, -1) for r in runs])}"
            )
            rows.append(
                f"| {name} | {w} | {len(runs)} | {r0['parameters']:,} | "
                f"{'×'.join(map(str, r0['ntk_shape']))} | "
                f"{' × '.join(map(str, r0['spectral_shape']))} | {r0['steps'][-1]} | "
                + " | ".join(cells)
                + f" | {_fmt_spread(growth)} | {captured} |"
            )
        trends.append(
            f"| {name} | " + " | ".join(_spearman(all_w, finals[key]) for key in FINALS) + " |"
        )
    return (
        "The generator's empirical NTK K_t along training on fixed probe latents (BatchNorm in "
        "eval mode), against K_0 at initialisation; each value at the last checkpoint, median "
        "[min, max] over seeds. **Drift**: ‖K_t − K_0‖_F / ‖K_0‖_F of the exact float64 kernel "
        f"on the drift block. On the spectrum's probes, from the top {k} eigenpairs of the Gram "
        "(exact where small, else matrix-free in float32): **alignment** of K_t with K_0, "
        "centred (Cortes et al. 2012: the mode that moves all particles together removed) and "
        f"uncentred, exact or between the rank-{k} truncations; **followable share**: the share "
        f"of the model's training field ∇h(g_θt(z)) in K_t's top-{k} eigenspace (the Score GAN's "
        f"field at σ_min); **effective rank**: Roy and Vetterli's, of the top {k}; the last "
        f"column says how much of each Gram's Frobenius mass its top {k} hold (‖K‖_F exact, or "
        f"by Hutchinson's estimator with {FRO_SAMPLES} probes), i.e. how far the truncations "
        "stand for the kernels. That share is of the uncentred Gram: where K_0's leading "
        "eigenvector is the mode that moves all particles together (an eigenvalue hundreds of "
        "times the next, as on MNIST), centring removes it and the rank-k truncation keeps "
        "little of the centred kernel, so a centred alignment marked rank-k is the "
        "truncations', not the kernels'.\n\n"
        + "\n".join(rows)
        + "\n\nSpearman's rank correlation of each final value with width, over all runs "
        "(– where fewer than three widths or five runs):\n\n"
        + "\n".join(trends)
        + "\n\n`ntk_drift.png`: per setting (columns), the drift, the centred and uncentred "
        "alignment with K_0 and the followable share against step (median over seeds, band: "
        "range), and the spectra λ_i(K_t)/λ_1(K_0) at step 0 (dashed) and at the last checkpoint "
        "(solid)."
    )


if __name__ == "__main__":
    main()

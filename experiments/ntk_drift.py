"""How far the generator's NTK moves while a GAN (or Score GAN) trains, against width.

    OMP_WAIT_POLICY=PASSIVE python -m experiments.ntk_drift [--quick] [--mnist] \
        [--score-gan-edm runs/gaussians/edm] [--out docs/results/ntk_drift] [--runs runs/ntk_drift]

Eq. 18 treats the generator's NTK k_{g_θ} as fixed over a step; the Int-PM view (Finding 3) is
exact when it is constant along training, as in the infinite-width (lazy) limit. This measures
it. For each setting and generator width, the config trains with
``model.generator.width=w`` and ``train.keep_every=K`` (a run that exists is resumed, not
repeated); then, for every kept checkpoint θ_t (step 0 included), the *exact* empirical NTK
K_t = ∇_θ g_θt(Z)ᵀ ∇_θ g_θt(Z) (:func:`ipm.ntk.empirical_ntk`, float64, BatchNorm in eval
mode) on a fixed probe set Z gives the relative drift ‖K_t − K_0‖_F / ‖K_0‖_F.

Settings: ``gaussians-gan`` (the paper's 2-D GAN config, MLP generator, full NTK on 64 probes ×
2 outputs); ``gaussians-score_gan`` with ``--score-gan-edm`` (the Score GAN config, its data score
from that EDM run); ``mnist-gan`` with ``--mnist`` or in full mode (the MNIST-cpu DCGAN; the
exact NTK block of 16 fixed pixels × 8 probes, as the full 1024-output kernel does not fit).

Writes ``ntk_drift.json``, ``README.md`` (a table) and ``ntk_drift.png`` (drift against step
per width; final drift against width) into ``--out``. ``--quick`` trains two small widths for a
few hundred steps (CPU, minutes).
"""

from __future__ import annotations

import argparse
import copy
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from experiments import CONFIGS, ROOT
from ipm.engine import ensure_run
from ipm.report import Report, rerender


@dataclass(frozen=True)
class Setting:
    name: str
    config: str
    widths: tuple[int, ...]
    steps: int
    keep: int
    probes: int
    pixels: int = 0  # > 0: the NTK block of this many fixed output coordinates
    extra: tuple[str, ...] = ()


def settings(quick: bool, mnist: bool, edm: str | None) -> list[Setting]:
    g = CONFIGS / "gaussians"
    out = [
        Setting("gaussians-gan", f"{g}/gan.yaml", (32, 128), 200, 50, 16)
        if quick
        else Setting("gaussians-gan", f"{g}/gan.yaml", (64, 128, 256, 512, 1024), 1900, 100, 64)
    ]
    if edm:
        sg = (f"model.edm_checkpoint={edm}",)
        out.append(
            Setting("gaussians-score_gan", f"{g}/score_gan.yaml", (32, 128), 100, 25, 16, 0, sg)
            if quick
            else Setting(
                "gaussians-score_gan",
                f"{g}/score_gan.yaml",
                (64, 256),
                1000,
                100,
                64,
                0,
                sg,
            )
        )
    if mnist or not quick:
        m = CONFIGS / "mnist-cpu/gan.yaml"
        out.append(
            Setting("mnist-gan", m, (8, 16), 40, 20, 4, 16)
            if quick
            else Setting("mnist-gan", m, (8, 16, 32), 1000, 100, 8, 16)
        )
    return out


class OutputSubset(nn.Module):
    """g restricted to fixed output coordinates: z ↦ g(z)[:, idx] (an exact NTK block)."""

    def __init__(self, net: nn.Module, idx: torch.Tensor):
        super().__init__()
        self.net = net
        self.register_buffer("idx", idx)

    def forward(self, z):
        return self.net(z)[:, self.idx]


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
    return ensure_run(s.config, overrides, runs / f"{s.name}_w{width}")


def drift_curve(s: Setting, run: Path, seed: int) -> dict:
    from tqdm.auto import tqdm

    from ipm.engine import load_run
    from ipm.ntk import empirical_ntk

    kept = sorted((run / "checkpoints").glob("step_*.pt"))
    g = torch.Generator().manual_seed(seed + 7)
    k0 = prev = None
    steps, drift, local = [], [], []
    for ck in tqdm(kept, desc=f"NTK {run.name}", leave=False):
        cfg, model, payload = load_run(ck, use_ema=False, accelerate=False)
        gen = copy.deepcopy(model.networks["generator"]).double().eval()
        if k0 is None:
            z = torch.randn(s.probes, cfg.model.latent_dim, generator=g, dtype=torch.float64)
            n_params = sum(p.numel() for p in gen.parameters())
            if s.pixels:
                d = int(math.prod(model.shape))
                idx = torch.randperm(d, generator=g)[: s.pixels]
        net = OutputSubset(gen, idx) if s.pixels else gen
        k = empirical_ntk(net, z).reshape(s.probes * (s.pixels or model.dim), -1)
        if k0 is None:
            k0 = k
        steps.append(int(payload["step"]))
        drift.append(float(torch.linalg.matrix_norm(k - k0) / torch.linalg.matrix_norm(k0)))
        if prev is not None:
            local.append(float(torch.linalg.matrix_norm(k - prev) / torch.linalg.matrix_norm(prev)))
        prev = k
    if not steps or steps[0] != 0:
        raise RuntimeError(f"{run}: no step-0 checkpoint (train with train.keep_every set)")
    return {
        "steps": steps,
        "drift": drift,
        "consecutive_drift": local,  # ‖K_{i+1} − K_i‖_F / ‖K_i‖_F between kept checkpoints
        "k0_fro": float(torch.linalg.matrix_norm(k0)),
        "parameters": n_params,
        "ntk_shape": list(k0.shape),
    }


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(4.5 * len(names), 7), squeeze=False)
    for j, name in enumerate(names):
        ax, bx = axes[0, j], axes[1, j]
        widths = sorted(results[name], key=int)
        for w in widths:
            r = results[name][w]
            ax.plot(r["steps"], r["drift"], "o-", ms=3, label=f"width {w}")
        ax.set_yscale("symlog", linthresh=1e-3)
        ax.set_title(name)
        ax.set_xlabel("training step")
        ax.set_ylabel("‖K_t − K_0‖_F / ‖K_0‖_F")
        ax.legend(fontsize=8)
        bx.plot([int(w) for w in widths], [results[name][w]["drift"][-1] for w in widths], "o-")
        bx.set_xscale("log", base=2)
        bx.set_yscale("log")
        bx.set_xlabel("generator width")
        bx.set_ylabel("final relative drift")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--mnist", action="store_true", help="include MNIST-cpu in quick mode")
    p.add_argument("--score-gan-edm", default=None, help="an EDM run: adds Score GAN (Gaussians)")
    p.add_argument("--out", type=Path, default=ROOT / "docs/results/ntk_drift")
    p.add_argument("--runs", type=Path, default=ROOT / "runs/ntk_drift")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--render", action="store_true", help="only rewrite the page from its JSON")
    a = p.parse_args(argv)
    if a.render:
        return rerender(a.out, "ntk_drift", markdown)
    torch.set_num_threads(a.threads)
    report = Report("ntk_drift", a.out, a.seed, a.quick)
    results: dict[str, dict[str, dict]] = {}
    for s in settings(a.quick, a.mnist, a.score_gan_edm):
        results[s.name] = {}
        for w in s.widths:
            run = train_run(s, w, a.runs, a.seed, a.threads)
            results[s.name][str(w)] = drift_curve(s, run, a.seed)
            r = results[s.name][str(w)]
            print(f"{s.name} width {w}: final drift {r['drift'][-1]:.4g} at step {r['steps'][-1]}")
    plot(results, a.out / "ntk_drift.png")
    res = {"results": results}
    report.write(res, markdown(res))
    return results


def markdown(res: dict) -> str:
    """The page: per setting and width the drift at a quarter, half and the end of training."""
    rows = [
        "| setting | width | parameters | NTK block | steps | drift at ¼ | at ½ | final "
        "| median drift per kept interval |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, by_w in res["results"].items():
        for w, r in sorted(by_w.items(), key=lambda kv: int(kv[0])):
            d, n = r["drift"], len(r["drift"]) - 1
            q1, q2 = math.ceil(n / 4), math.ceil(n / 2)
            med = float(torch.tensor(r["consecutive_drift"]).median())
            rows.append(
                f"| {name} | {w} | {r['parameters']:,} | {'×'.join(map(str, r['ntk_shape']))} | "
                f"{r['steps'][-1]} | {d[q1]:.3g} (step {r['steps'][q1]}) | "
                f"{d[q2]:.3g} (step {r['steps'][q2]}) | {d[-1]:.3g} | {med:.3g} "
                f"(every {r['steps'][1] - r['steps'][0]} steps) |"
            )
    return (
        "Relative drift ‖K_t − K_0‖_F / ‖K_0‖_F of the generator's exact empirical NTK on a fixed "
        "probe set (float64, BatchNorm in eval mode) along training; K_0 is the kernel at "
        "initialisation. `ntk_drift.png`: drift against step per width (top), final drift against "
        "width (bottom).\n\n" + "\n".join(rows)
    )


if __name__ == "__main__":
    main()

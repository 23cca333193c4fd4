"""Quality against training time: evaluate every kept checkpoint of one or more runs.

    OMP_WAIT_POLICY=PASSIVE python experiments/learning_curves.py RUN_DIR [RUN_DIR ...] \
        --out DIR [--reference-mmd2 8.7e-3 --reference-seconds 1068]

Train the runs with ``--set train.keep_every=K`` so that ``RUN_DIR/checkpoints/step_*.pt`` exist
(the last checkpoint is used too). Each checkpoint is evaluated like ``ipm evaluate`` (10,000
samples against fresh data by default; one thread) and placed at its *cumulative training
seconds* (the engine's timer: training steps only, no checkpointing or evaluation), so runs
with different per-step costs are compared on the time they spent. Writes ``DIR/curves.json``,
``DIR/curves.png`` (MMD² and off-mode fraction against training seconds) and prints a table.

With ``--reference-mmd2 M --reference-seconds S`` it reports, per run, the first checkpoint
with MMD² ≤ M, the first from which every later one stays ≤ M, and whether their training
times are ≤ S/2 (issue 4's Discriminator-Flow and Score-GAN target: the reference's final MMD²
in at most half its wall time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def checkpoints(run_dir: Path) -> list[Path]:
    """The kept snapshots, and last.pt unless it repeats the last of them (not sampled twice)."""
    from ipm.engine import load_checkpoint

    kept = sorted((run_dir / "checkpoints").glob("step_*.pt"))
    last = run_dir / "checkpoints" / "last.pt"
    if not last.is_file():
        return kept
    if kept and load_checkpoint(last)["step"] == load_checkpoint(kept[-1])["step"]:
        return kept
    return kept + [last]


def curve(run_dir: Path, threads: int) -> list[dict]:
    from tqdm.auto import tqdm

    from ipm.cli import evaluate_run

    rows = []
    for ck in tqdm(checkpoints(run_dir), desc=f"evaluate {run_dir.name}"):
        m = evaluate_run(ck, threads=threads)
        m["train_seconds"] = m["train_seconds_per_step"] * m["steps"]
        rows.append({"run": run_dir.name, "checkpoint": ck.name, **m})
    return sorted(rows, key=lambda r: r["steps"])


def stays_below(rows: list[dict], level: float) -> dict | None:
    """The first checkpoint from which every later one has MMD² ≤ ``level`` (None if the last
    one is above it): a noisy curve that touches the level once has not reached it."""
    hit = None
    for r in rows:
        if r["mmd2"] <= level:
            hit = hit or r
        else:
            hit = None
    return hit


def plot(curves: dict[str, list[dict]], out: Path, ref_mmd2, ref_seconds) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, rows in curves.items():
        secs = [r["train_seconds"] for r in rows]
        axes[0].plot(secs, [r["mmd2"] for r in rows], "o-", label=name)
        axes[1].plot(secs, [r["off_mode_fraction"] for r in rows], "o-", label=name)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("MMD² (bandwidth 1)")
    axes[1].set_ylabel("off-mode fraction")
    for ax in axes:
        ax.set_xlabel("training seconds (1 thread)")
        if ref_seconds:
            ax.axvline(ref_seconds / 2, color="gray", ls=":", label="half the reference's time")
    if ref_mmd2:
        axes[0].axhline(ref_mmd2, color="k", ls="--", label="reference final MMD²")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reference-mmd2", type=float, default=None)
    p.add_argument("--reference-seconds", type=float, default=None)
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    curves = {r.name: curve(r, a.threads) for r in a.runs}
    summary = {}
    print(f"{'run':28s} {'step':>6s} {'train s':>8s} {'MMD²':>9s} {'off-mode':>8s} {'modes':>5s}")
    for name, rows in curves.items():
        for r in rows:
            print(
                f"{name:28s} {r['steps']:6d} {r['train_seconds']:8.1f} {r['mmd2']:9.2e} "
                f"{r['off_mode_fraction']:8.4f} {r['modes_covered']:3d}/{r['n_modes']}"
            )
        if a.reference_mmd2 is not None:
            hit = next((r for r in rows if r["mmd2"] <= a.reference_mmd2), None)
            stay = stays_below(rows, a.reference_mmd2)
            half = a.reference_seconds / 2 if a.reference_seconds else None
            summary[name] = {
                "first_step_at_or_below_reference_mmd2": hit and hit["steps"],
                "train_seconds": hit and hit["train_seconds"],
                "within_half_reference_time": bool(hit and half and hit["train_seconds"] <= half),
                "stays_at_or_below_from_step": stay and stay["steps"],
                "stays_train_seconds": stay and stay["train_seconds"],
                "stays_within_half_reference_time": bool(
                    stay and half and stay["train_seconds"] <= half
                ),
            }
    for name, s in summary.items():
        print(f"{name}: {s}")
    (a.out / "curves.json").write_text(
        json.dumps(
            {
                "reference_mmd2": a.reference_mmd2,
                "reference_seconds": a.reference_seconds,
                "curves": curves,
                "summary": summary,
            },
            indent=2,
        )
    )
    plot(curves, a.out / "curves.png", a.reference_mmd2, a.reference_seconds)
    print(f"-> {a.out / 'curves.json'}, {a.out / 'curves.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

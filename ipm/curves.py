"""Quality against training time (``ipm curves``): every kept checkpoint of a run evaluated like
``ipm evaluate`` and placed at its cumulative training seconds (the engine's timer: training
steps only), so that runs with different per-step costs are compared on the time they spent.
Train the runs with ``--set train.keep_every=K`` so that ``RUN_DIR/checkpoints/step_*.pt`` exist.
"""

from __future__ import annotations

import json
from pathlib import Path

from tqdm.auto import tqdm

from .engine import load_checkpoint
from .evaluate import evaluate_run

__all__ = ["checkpoints", "curve", "learning_curves", "stays_below", "table"]


def checkpoints(run_dir: Path) -> list[Path]:
    """The kept snapshots, and last.pt unless it repeats the last of them (not sampled twice)."""
    kept = sorted((run_dir / "checkpoints").glob("step_*.pt"))
    last = run_dir / "checkpoints" / "last.pt"
    if not last.is_file():
        return kept
    if kept and load_checkpoint(last)["step"] == load_checkpoint(kept[-1])["step"]:
        return kept
    return kept + [last]


def curve(run_dir: Path, threads: int) -> list[dict]:
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


def learning_curves(
    runs: list[str | Path],
    out: str | Path,
    *,
    threads: int = 1,
    reference_mmd2: float | None = None,
    reference_seconds: float | None = None,
) -> dict:
    """Evaluate every kept checkpoint of ``runs`` (:func:`curve`), write ``out/curves.json`` and
    ``out/curves.png``. With ``reference_mmd2`` (and ``reference_seconds``), per run: the first
    checkpoint at or below that MMD², the first from which every later one stays there, and
    whether each came within half the reference's training seconds."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curves = {Path(r).name: curve(Path(r), threads) for r in runs}
    summary = {}
    if reference_mmd2 is not None:
        half = reference_seconds / 2 if reference_seconds else None
        for name, rows in curves.items():
            hit = next((r for r in rows if r["mmd2"] <= reference_mmd2), None)
            stay = stays_below(rows, reference_mmd2)
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
    res = {
        "reference_mmd2": reference_mmd2,
        "reference_seconds": reference_seconds,
        "curves": curves,
        "summary": summary,
    }
    (out / "curves.json").write_text(json.dumps(res, indent=2))
    plot(curves, out / "curves.png", reference_mmd2, reference_seconds)
    return res


def table(res: dict) -> str:
    """The curves as a plain-text table, one line per checkpoint, then each run's summary."""
    lines = [
        f"{'run':28s} {'step':>6s} {'train s':>8s} {'MMD²':>9s} {'off-mode':>8s} {'modes':>5s}"
    ]
    for name, rows in res["curves"].items():
        for r in rows:
            lines.append(
                f"{name:28s} {r['steps']:6d} {r['train_seconds']:8.1f} {r['mmd2']:9.2e} "
                f"{r['off_mode_fraction']:8.4f} {r['modes_covered']:3d}/{r['n_modes']}"
            )
    lines += [f"{name}: {s}" for name, s in res["summary"].items()]
    return "\n".join(lines)

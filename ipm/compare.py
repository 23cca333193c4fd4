"""Two sets of per-seed results side by side (``ipm compare``): per metric the median and
range of each, a two-sided Mann–Whitney U test between them, and how many seeds of each meet
reference figures.

A set is ``FILE[:PATH]``: a JSON file and a ``/``-separated path to the per-seed metrics, in
which one ``*`` stands for the seeds (keys that are integers; other keys beside them, such as
``0_stop14``, are skipped). The default path is ``runs/*``, which reads a ``seed_sweep.json``
(:mod:`ipm.sweeps`). A seed meets a figure as in :func:`ipm.sweeps.meets`. A seed whose run
failed (:func:`ipm.sweeps.failed`) counts as the worst value of every metric (+∞, or −∞ where
higher is better): it ranks below every finished seed in the test and enters the range.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .sweeps import HIGHER_IS_BETTER, failed, figures_text, fmt, seeds_meeting, spread

__all__ = ["compare", "load_set", "mann_whitney", "markdown", "select", "split_spec"]

DEFAULT_PATH = "runs/*"


def _is_seed(key) -> bool:
    return isinstance(key, int) or (isinstance(key, str) and key.isdigit())


def split_spec(spec: str) -> tuple[Path, str]:
    """``FILE[:PATH]`` to (file, path); the path must hold exactly one ``*``."""
    file, sep, path = spec.rpartition(":")
    if not sep:
        file, path = spec, DEFAULT_PATH
    if path.split("/").count("*") != 1:
        raise ValueError(f"{spec!r}: the path must hold exactly one '*' (the seeds), got {path!r}")
    return Path(file), path


def select(data, path: str, where: str = "") -> dict[int, dict]:
    """The per-seed dicts at ``path`` in ``data`` ({seed: metrics}); an error names the key
    that is missing and what is there instead."""
    head, _, rest = path.partition("/")
    here = where or "(top)"
    if not isinstance(data, dict):
        raise ValueError(f"{here}: expected an object, got {type(data).__name__}")
    if head == "*":
        seeds = sorted((int(k), v) for k, v in data.items() if _is_seed(k))
        if not seeds:
            raise ValueError(f"{here}: no seed keys under it (it has {sorted(data)})")
        return {s: select(v, rest, f"{where}/{s}".lstrip("/")) if rest else v for s, v in seeds}
    if head not in data:
        raise ValueError(f"{here}: no key {head!r} (it has {sorted(data)})")
    nxt = f"{where}/{head}".lstrip("/")
    return select(data[head], rest, nxt) if rest else data[head]


def load_set(spec: str) -> dict[int, dict]:
    file, path = split_spec(spec)
    if not file.is_file():
        raise FileNotFoundError(f"{spec!r}: no file {file}")
    try:
        return select(json.loads(file.read_text()), path)
    except ValueError as e:
        raise ValueError(f"{spec!r}: {e}") from None


def _values(runs: dict[int, dict], metric: str, label: str) -> list[float]:
    out = []
    for s, m in runs.items():
        if isinstance(m, dict) and failed(m):
            out.append(-math.inf if metric in HIGHER_IS_BETTER else math.inf)
            continue
        v = m.get(metric) if isinstance(m, dict) else None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{label}, seed {s}: no numeric {metric!r}")
        out.append(float(v))
    return out


def mann_whitney(a: list[float], b: list[float]) -> float:
    """Two-sided Mann–Whitney U p-value; 1.0 where every value of both sets is the same."""
    from scipy.stats import mannwhitneyu

    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def compare(
    a: dict[int, dict],
    b: dict[int, dict],
    metrics: list[str],
    reference: dict[str, float],
    labels: tuple[str, str] = ("A", "B"),
) -> dict:
    """The comparison as a dict: per metric each side's median, min, max and the p-value;
    per side the seeds meeting each figure and all of them."""
    rows = {}
    for k in metrics:
        va, vb = _values(a, k, labels[0]), _values(b, k, labels[1])
        rows[k] = {
            labels[0]: spread(va),
            labels[1]: spread(vb),
            "mann_whitney_p": mann_whitney(va, vb),
        }
    meeting = {}
    for lab, runs in zip(labels, (a, b)):
        _, per_figure, all_met = seeds_meeting(runs, reference)
        meeting[lab] = {
            "n_seeds": len(runs),
            "failed": sorted(s for s, m in runs.items() if isinstance(m, dict) and failed(m)),
            "per_figure": per_figure,
            "all": all_met if reference else None,
        }
    return {
        "labels": list(labels),
        "seeds": {lab: sorted(r) for lab, r in zip(labels, (a, b))},
        "metrics": rows,
        "reference": reference,
        "meeting": meeting,
    }


def markdown(res: dict) -> str:
    """The page: each set's file and seeds, per metric the medians, ranges and p-value, and
    the seeds of each set meeting the reference figures."""
    specs = res["sets"]
    la, lb = res["labels"]
    lines = [
        f"- {la}: `{specs[0]}`, seeds {res['seeds'][la]}",
        f"- {lb}: `{specs[1]}`, seeds {res['seeds'][lb]}",
        "",
        f"| metric | {la}: median (range) | {lb}: median (range) | Mann–Whitney p (two-sided) |",
        "|---|---|---|---|",
    ]
    for k, r in res["metrics"].items():
        cells = [
            f"{fmt(r[lab]['median'])} ({fmt(r[lab]['min'])} – {fmt(r[lab]['max'])})"
            for lab in (la, lb)
        ]
        lines.append(f"| {k} | {cells[0]} | {cells[1]} | {r['mann_whitney_p']:.2g} |")
    for lab in (la, lb):
        bad = res["meeting"][lab].get("failed")  # pages written before failed seeds were kept
        if bad:
            lines += [
                "",
                f"{lab}: the runs of seeds {bad} failed; each counts as the worst value of every "
                "metric (+inf, or -inf where higher is better).",
            ]
    ref = res["reference"]
    if ref:
        lines += ["", f"Reference figures: {figures_text(ref)}.", ""]
        for lab in (la, lb):
            m = res["meeting"][lab]
            per = ", ".join(f"{k} {n}" for k, n in m["per_figure"].items())
            lines.append(
                f"- {lab}: **{len(m['all'])} of {m['n_seeds']}** seeds meet all "
                f"(seeds {m['all']}); per figure: {per}."
            )
    return "\n".join(lines)

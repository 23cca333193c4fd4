"""``python -m validation [--quick|--full] [--only NAME ...] [--out DIR] [--seed S]``.

Runs the checks, prints a table, writes ``results.json`` (one row per check) and ``report.md``
with one figure per check (PNG), and exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from .registry import CHECKS
from .result import CheckResult

__all__ = ["main", "run_checks", "write_report"]


def _fmt(x: float) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def run_checks(names: list[str], quick: bool, seed: int) -> list[CheckResult]:
    results = []
    for name in names:
        mod = CHECKS[name]
        t0 = time.perf_counter()
        res = mod.run(quick=quick, seed=seed)
        res = type(res)(**{**res.__dict__, "seconds": time.perf_counter() - t0})
        results.append(res)
        print(
            f"{res.verdict:4s}  {res.name:22s} {res.equation:14s} measured {_fmt(res.measured):>10s}  "
            f"tolerance {_fmt(res.tolerance):>9s}  ({res.quantity}; {res.seconds:.1f} s)",
            flush=True,
        )
        for k, v in res.details.items():
            print(f"      {k}: {_fmt(v)}")
    return results


def write_report(
    results: list[CheckResult],
    out: Path,
    command: str,
    seed: int,
    mode: str,
    report: Path | None = None,
) -> Path:
    """results.json and one PNG per check in ``out``; the report at ``report``
    (default ``out/report.md``), its figure links relative to it. Returns the report's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    report = report or out / "report.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps([r.row() for r in results], indent=1))
    lines = [
        "# Validation report",
        "",
        f"Command: `{command}` — mode `{mode}`, seed {seed}; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| check | finding | eq. | quantity | expected | measured | tolerance | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    for r in results:
        lines.append(
            f"| `{r.name}` | {cell(r.finding)} | {r.equation} | {cell(r.quantity)} | {cell(r.expected)} | "
            f"{_fmt(r.measured)} | {_fmt(r.tolerance)} | {r.verdict} |"
        )
    for r in results:
        lines += ["", f"## `{r.name}` — {r.finding} ({r.equation})", ""]
        lines += [f"- {k}: {_fmt(v)}" for k, v in r.details.items()]
        fig = CHECKS[r.name].plot(r)
        if fig is not None:
            fig.savefig(out / f"{r.name}.png", dpi=90)
            plt.close(fig)
            rel = os.path.relpath(out / f"{r.name}.png", report.parent)
            lines += ["", f"![{r.name}]({Path(rel).as_posix()})"]
    report.write_text("\n".join(lines) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m validation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="reduced sizes (the default)")
    mode.add_argument("--full", action="store_true", help="full sizes (docs/validation.md)")
    ap.add_argument(
        "--only", nargs="+", metavar="NAME", help=f"checks to run, of: {', '.join(CHECKS)}"
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: validation_out; with --full, docs/validation/ and the "
        "report docs/validation.md)",
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    names = args.only or list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        ap.error(
            f"--only: unknown check {', '.join(map(repr, unknown))}; choose from {', '.join(CHECKS)}"
        )
    report = None
    if args.out is None:
        args.out = Path("docs/validation") if args.full else Path("validation_out")
        report = Path("docs/validation.md") if args.full else None
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        probe = args.out / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        ap.error(f"--out: cannot write to {str(args.out)!r}: {exc.strerror or exc}")
    mode_name = "full" if args.full else "quick"
    results = run_checks(names, quick=not args.full, seed=args.seed)
    command = "python -m validation " + " ".join(argv if argv is not None else sys.argv[1:])
    path = write_report(results, args.out, command.strip(), args.seed, mode_name, report)
    n_fail = sum(not r.passed for r in results)
    print(f"{len(results) - n_fail} passed, {n_fail} failed  (report: {path})")
    return 1 if n_fail else 0

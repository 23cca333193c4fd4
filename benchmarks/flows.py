"""Benchmark of chunked kernel sums: one squared-MMD flow step at scale (not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.flows [--json FILE] [--large 100000]

Rows: {mode, N, M, D, seconds, peak_rss_mib, chunk_size}. ``mode`` is ``chunked`` (the automatic
block size of ``ipm.kernels``) or ``dense`` (one block holding the whole N×M matrix). Each row runs
in a fresh process (for its peak memory); time is the median of ``--repeats`` calls after one
warm-up (``--large-repeats`` for the large configuration, whose dense form would need N·M·4 bytes
and is not run). The speed ratio comes from an ``interleaved`` row: dense and chunked calls
alternate in one process, so that the host's noise affects both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]


def _flows(n: int, m: int):
    import torch

    from ipm.distributions import five_gaussians
    from ipm.flows import SquaredMMD
    from ipm.kernels import RBF

    torch.manual_seed(0)
    data = five_gaussians().sample(m)
    x = torch.randn(n, 2)
    return x, SquaredMMD(RBF(1.0), data, chunk_size=n), SquaredMMD(RBF(1.0), data)


def child(cfg: dict) -> dict:
    import torch

    from ipm.kernels import auto_chunk_size

    n, m = cfg["N"], cfg["M"]
    x, dense, chunked = _flows(n, m)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if cfg["mode"] == "interleaved":
        # Speed ratio: both forms alternate in one process, so machine noise hits both alike.
        dense.field(x), chunked.field(x)
        td, tc = [], []
        for _ in range(cfg["repeats"]):
            t0 = time.perf_counter()
            dense.field(x)
            td.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            chunked.field(x)
            tc.append(time.perf_counter() - t0)
        return {
            **cfg,
            "D": 2,
            "dense_seconds": float(np.median(td)),
            "chunked_seconds": float(np.median(tc)),
            "threads": torch.get_num_threads(),
        }
    flow = dense if cfg["mode"] == "dense" else chunked
    fn = lambda: flow.field(x)  # noqa: E731
    fn()
    times = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        **cfg,
        "D": 2,
        "seconds": float(np.median(times)),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_rss_mib": base,
        "chunk_size": n if cfg["mode"] == "dense" else auto_chunk_size(n, m, 4),
        "threads": torch.get_num_threads(),
    }


def run_child(cfg: dict) -> dict | None:
    """One configuration measured in a fresh process (its own peak memory); None on failure."""
    p = subprocess.run(
        [sys.executable, "-m", "benchmarks.flows", "--child", json.dumps(cfg)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if p.returncode != 0:
        print(f"{cfg}: failed: {p.stderr.strip()[-500:]}")
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--large", type=int, default=100_000)
    ap.add_argument("--large-repeats", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    print(
        f"# bench_flows: {os.cpu_count()} cores, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )
    cfgs = [
        {"mode": "dense", "N": 10_000, "M": 10_000, "repeats": args.repeats},
        {"mode": "chunked", "N": 10_000, "M": 10_000, "repeats": args.repeats},
        {"mode": "chunked", "N": args.large, "M": args.large, "repeats": args.large_repeats},
    ]
    rows = []
    for cfg in cfgs:
        r = run_child(cfg)
        if r is None:
            return 1
        rows.append(r)
        print(
            f"{r['mode']:8s} N={r['N']:>7d} M={r['M']:>7d} chunk={r['chunk_size']:>6d} "
            f"{r['seconds']:9.3f} s  peak {r['peak_rss_mib']:7.0f} MiB  (median of {r['repeats']})",
            flush=True,
        )
    inter = run_child({"mode": "interleaved", "N": 10_000, "M": 10_000, "repeats": args.repeats})
    if inter is None:
        return 1
    rows.append(inter)
    ratio = inter["dense_seconds"] / inter["chunked_seconds"]
    print(
        f"interleaved N=10,000: dense {inter['dense_seconds']:.3f} s, chunked {inter['chunked_seconds']:.3f} s "
        f"(median of {args.repeats} each): chunked runs at {ratio:.2f}x the dense speed (target >= 0.8)"
    )
    print(
        f"peak at N={args.large:,}: {rows[2]['peak_rss_mib'] / 1024:.2f} GiB (target < 1.5 GiB; dense would need "
        f"{args.large**2 * 4 / 2**30:.0f} GiB per matrix)"
    )
    if args.json:
        save(args.json, "flows", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

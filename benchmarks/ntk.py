"""Benchmark of the empirical NTK methods and the matrix-free operator (a benchmark, not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.ntk [--json FILE] [--repeats 5]

Every configuration runs in a fresh Python process so that its peak resident memory
(``getrusage``) is its own; the time is the median of ``--repeats`` calls after one warm-up.
Models: the MLP 128 → 4×512 (LeakyReLU 0.2) → D for D ∈ {2, 1024}, and a DCGAN-style conv
generator (ConvTranspose 128 → 256@4×4 → 128@8×8 → 64@16×16 → 1@32×32, kernel 4, ReLU, tanh
output, no BatchNorm) for the operator. Methods: torch_func_recipe (the baseline: the plain
recipe of torch.func's NTK tutorial, ``vmap(jacrev)`` over all particles and one ``einsum`` per
parameter tensor, written here, not in ipm), ipm's generic paths jacobian_contraction and
ntk_vector_products (any module), structured (full N×N×D×D blocks), trace (N×N), operator
(A_θ(V) of Eq. 14). A last table gives each full-kernel method's time over the recipe's; ``--interleaved`` times
ipm's generic contraction and the recipe alternately in one process instead, for the ratio alone.
A configuration is skipped, with the reason printed, when its cost extrapolated from a measured
smaller N exceeds ``--max-seconds`` per call or its memory cannot fit.

With ``--jax-python PYTHON`` (an interpreter that has jax; jax is not a dependency of ipm) each
operator row is followed by the JAX anchor of the same configuration (``benchmarks/ntk_jax.py``),
measured right after it on the same machine, and a last table gives ipm's time over JAX's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]

NS = (16, 64, 256)
#: the methods that compute the full N×N×D×D kernel, compared with the recipe
FULL_METHODS = ("jacobian_contraction", "ntk_vector_products", "structured")
MLP_METHODS = (
    "torch_func_recipe",
    "jacobian_contraction",
    "ntk_vector_products",
    "structured",
    "trace",
    "operator",
)


def build(model: str, d: int):
    import torch
    from torch import nn

    from ipm.generators import MLP

    torch.manual_seed(0)
    if model == "mlp":
        return MLP(128, d, width=512, depth=4, activation_name="leaky_relu"), (128,)
    net = nn.Sequential(
        nn.Unflatten(1, (128, 1, 1)),
        nn.ConvTranspose2d(128, 256, 4, 1, 0),
        nn.ReLU(),
        nn.ConvTranspose2d(256, 128, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(128, 64, 4, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1),
        nn.Tanh(),
    )
    return net, (128,)


def torch_func_recipe(net, z):
    """The full empirical NTK (N, N, D, D) by the plain torch.func recipe, the baseline."""
    import torch
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in net.named_parameters()}

    def one(p, x):
        return functional_call(net, p, (x.unsqueeze(0),)).reshape(-1)

    jac = [j.flatten(2) for j in vmap(jacrev(one), (None, 0))(params, z).values()]
    return torch.stack([torch.einsum("Naf,Mbf->NMab", j, j) for j in jac]).sum(0)


def child(cfg: dict) -> dict:
    import torch

    from ipm.ntk import empirical_ntk, ntk_operator

    net, zshape = build(cfg["model"], cfg["D"])
    n = cfg["N"]
    z = torch.randn(n, *zshape)
    with torch.no_grad():
        d_out = net(z[:1]).reshape(1, -1).shape[1]
    v = torch.randn(n, d_out)
    method = cfg["method"]
    if method == "operator":
        fn = lambda: ntk_operator(net, z, v)  # noqa: E731
    elif method == "torch_func_recipe":
        fn = lambda: torch_func_recipe(net, z)  # noqa: E731
    elif method == "trace":
        fn = lambda: empirical_ntk(net, z, kind="trace")  # noqa: E731
    else:
        fn = lambda: empirical_ntk(net, z, method=method)  # noqa: E731
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = fn()  # warm-up
    shape = list(out.shape)
    del out
    times = []
    for _ in range(cfg["repeats"]):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        **{k: cfg[k] for k in ("method", "model", "D", "N")},
        "seconds": float(np.median(times)),
        "peak_rss_mib": peak,
        "baseline_rss_mib": base,
        "output_shape": shape,
        "threads": torch.get_num_threads(),
    }


def run_child(cfg: dict, timeout: float) -> dict | str:
    cmd = [sys.executable, "-m", "benchmarks.ntk", "--child", json.dumps(cfg)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if p.returncode != 0:
        return f"failed (exit {p.returncode}): {p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def run_jax_anchor(
    python: str, model: str, d: int, n: int, repeats: int, timeout: float
) -> dict | str:
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ntk_jax.py")
    cmd = [python, script, "--one", f"{model},{d},{n}", "--repeats", str(repeats)]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"JAX anchor not measured: {e}"
    if p.returncode != 0:
        tail = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        return f"JAX anchor failed (exit {p.returncode}): {tail}"
    return json.loads(p.stdout.strip().splitlines()[-1])


def skip_reason(
    method: str, model: str, d: int, n: int, done: dict, max_seconds: float
) -> str | None:
    p = 128 * 512 + 512 + 3 * (512 * 512 + 512) + 512 * d + d
    if method in ("torch_func_recipe", "jacobian_contraction", "ntk_vector_products") and d == 1024:
        jac = d * p * 4 / 2**30
        flops = n * n * d * d * p
        return f"per-sample Jacobian {jac:.1f} GiB and N²D²P = {flops:.1e} MACs: hours per call"
    prev = [
        (nn, r["seconds"])
        for (m, mo, dd, nn), r in done.items()
        if (m, mo, dd) == (method, model, d) and isinstance(r, dict)
    ]
    if prev:
        n0, t0 = max(prev)
        power = 1 if method == "operator" else 2
        est = t0 * (n / n0) ** power
        if est > max_seconds:
            return f"extrapolated {est:.0f} s per call from {t0:.2f} s at N={n0} (> {max_seconds:.0f} s)"
    return None


def fit_exponent(rows: list[dict], key) -> float | None:
    pts = [(r["N"], key(r)) for r in rows if key(r) > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def interleaved(ns=NS, repeats: int = 9) -> list[dict]:
    """ipm's generic jacobian_contraction and the plain recipe on the MLP (D = 2), timed
    alternately in this one process (after a warm-up of each): the ratio of their medians, free
    of the drift between processes that the rows above carry."""
    import torch

    from ipm.ntk import empirical_ntk

    out = []
    for n in ns:
        net, zshape = build("mlp", 2)
        z = torch.randn(n, *zshape)
        fns = {
            "jacobian_contraction": lambda net=net, z=z: empirical_ntk(
                net, z, method="jacobian_contraction"
            ),
            "torch_func_recipe": lambda net=net, z=z: torch_func_recipe(net, z),
        }
        times: dict[str, list[float]] = {k: [] for k in fns}
        for f in fns.values():
            f()
        for _ in range(repeats):
            for k, f in fns.items():
                t0 = time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t0)
        med = {k: float(np.median(v)) for k, v in times.items()}
        ratio = med["jacobian_contraction"] / med["torch_func_recipe"]
        out.append({"model": "mlp", "D": 2, "N": n, "repeats": repeats, **{f"{k}_seconds": v
                    for k, v in med.items()}, "ratio": ratio,
                    "threads": torch.get_num_threads()})  # fmt: skip
        print(f"interleaved mlp D=2 N={n}: jacobian_contraction / recipe = {ratio:.3f}", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--max-seconds",
        type=float,
        default=60.0,
        help="skip configurations estimated slower than this per call",
    )
    ap.add_argument(
        "--jax-python",
        metavar="PYTHON",
        help="measure the JAX anchor of each operator row with this interpreter (it needs jax)",
    )
    ap.add_argument(
        "--interleaved",
        action="store_true",
        help="only time jacobian_contraction against the recipe alternately in one process "
        "(written as benchmark ntk_interleaved)",
    )
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    if args.interleaved:
        rows = interleaved(repeats=max(args.repeats, 5))
        if args.json:
            save(args.json, "ntk_interleaved", rows)
        return 0
    configs = [(m, "mlp", d, n) for d in (2, 1024) for m in MLP_METHODS for n in NS]
    configs += [("operator", "conv", 1024, n) for n in NS]
    print(
        f"# bench_ntk: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, median of {args.repeats} calls"
    )
    print(
        f"{'method':22s} {'model':5s} {'D':>5s} {'N':>4s} {'seconds':>10s} {'peak MiB':>9s}  note"
    )
    done: dict = {}
    rows: list[dict] = []
    anchors: list[dict] = []
    for method, model, d, n in configs:
        if method == "structured" and d == 1024 and n > 16:
            reason = f"full kernel is {n * n * d * d * 4 / 2**30:.0f} GiB (the target is N = 16; use trace or operator)"
        else:
            reason = skip_reason(method, model, d, n, done, args.max_seconds)
        if reason is None:
            res = run_child(
                {"method": method, "model": model, "D": d, "N": n, "repeats": args.repeats},
                timeout=30 * args.max_seconds,
            )
            if isinstance(res, str):
                reason = res
        if reason is not None:
            done[(method, model, d, n)] = reason
            print(
                f"{method:22s} {model:5s} {d:5d} {n:4d} {'skipped':>10s} {'':>9s}  {reason}",
                flush=True,
            )
            continue
        done[(method, model, d, n)] = res
        rows.append(res)
        print(
            f"{method:22s} {model:5s} {d:5d} {n:4d} {res['seconds']:10.4f} {res['peak_rss_mib']:9.0f}",
            flush=True,
        )
        if method == "operator" and args.jax_python:
            jres = run_jax_anchor(args.jax_python, model, d, n, args.repeats, 30 * args.max_seconds)
            if isinstance(jres, str):
                print(
                    f"{'operator_jax':22s} {model:5s} {d:5d} {n:4d} {'failed':>10s} {'':>9s}  {jres}"
                )
                continue
            anchors.append(jres)
            print(
                f"{'operator_jax':22s} {model:5s} {d:5d} {n:4d} {jres['seconds']:10.4f} {'':>9s}  "
                f"jax {jres['jax']}",
                flush=True,
            )
    for model, d in (("mlp", 2), ("mlp", 1024), ("conv", 1024)):
        op = [r for r in rows if r["method"] == "operator" and r["model"] == model and r["D"] == d]
        e_raw = fit_exponent(op, lambda r: r["peak_rss_mib"])
        e_extra = fit_exponent(op, lambda r: r["peak_rss_mib"] - r["baseline_rss_mib"])
        if e_raw is not None:
            print(
                f"operator peak-memory exponent in N ({model}, D={d}): {e_raw:.3f} (process peak RSS), "
                f"{e_extra if e_extra is None else round(e_extra, 3)} (peak above the process baseline)"
            )
    if anchors:
        print("operator, ipm over the JAX anchor measured right after it (< 1: ipm faster):")
        for a in anchors:
            mine = next(
                r
                for r in rows
                if (r["method"], r["model"], r["D"], r["N"])
                == ("operator", a["model"].split("-")[0], a["D"], a["N"])
            )
            print(
                f"  {a['model']:5s} D={a['D']:<5d} N={a['N']:<4d} ipm {mine['seconds']:.4f} s, "
                f"jax {a['seconds']:.4f} s, ratio {mine['seconds'] / a['seconds']:.2f}"
            )
    base = {(r["model"], r["D"], r["N"]): r for r in rows if r["method"] == "torch_func_recipe"}
    if base:
        print("full kernel, each method over the plain torch.func recipe (< 1: faster):")
        for r in rows:
            b = base.get((r["model"], r["D"], r["N"]))
            if b is not None and r["method"] in FULL_METHODS:
                print(
                    f"  {r['method']:22s} D={r['D']:<5d} N={r['N']:<4d} "
                    f"{r['seconds']:.4f} s / {b['seconds']:.4f} s = {r['seconds'] / b['seconds']:.3g}"
                )
    if args.json:
        save(args.json, "ntk", rows + anchors)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of :func:`ipm.ntk.ntk_eigs`: the top eigenpairs of a DCGAN generator's NTK Gram at
image scale, where the kernel cannot be formed (a benchmark, not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.ntk_eigs [--json FILE] [--n 256] [--k 16]

The generator is the MNIST-cpu GAN's (``experiments/configs/mnist-cpu/gan.yaml``: a DCGAN
generator 128 → 1×32×32 at width 32, BatchNorm in eval mode) at its initialisation, float32;
N latents give a Gram of (N·1024)² entries. Each method runs in a fresh process (peak memory =
that process's peak resident set) to the same stopping rule, every one of the k residuals
‖K u − λ u‖ at most ``--tol`` × λ_1:

- ``ntk_eigs``: ipm's thick-restart Lanczos (:func:`ipm.ntk.ntk_eigs`);
- ``scipy_eigsh``: ARPACK's implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``, the
  baseline) on a ``LinearOperator`` whose products are the same matrix-free operator
  (:func:`ipm.ntk.gram_operator`), its tolerance chosen by the same rule (ARPACK's own
  criterion is checked afterwards by the residuals, computed outside the timed call).

The dense path (``empirical_ntk`` then ``eigh``, or neural-tangents' kernel) cannot run: its
Gram alone needs (N·D)² × 8 bytes, printed with the rows. Each row reports the operator
products used, the seconds, the peak memory and the largest relative residual; the eigenvalues
of the two methods are compared.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments/configs/mnist-cpu/gan.yaml"
METHODS = ("ntk_eigs", "scipy_eigsh")


def generator(seed: int = 0):
    """The MNIST-cpu GAN's generator at initialisation, eval mode, float32."""
    import torch

    from ipm.engine.config import load_config
    from ipm.models import build_model

    torch.manual_seed(seed)
    cfg = load_config(CONFIG)
    return build_model(cfg, (1, 32, 32)).networks["generator"].eval(), cfg.model.latent_dim


def residuals(apply, vectors, values) -> np.ndarray:
    """‖K u_i − λ_i u_i‖ / λ_1 for the (k, N, D) float64 eigenvectors."""
    import torch

    ku = apply(vectors.to(torch.float32)).to(torch.float64)
    r = (ku - vectors * values[:, None, None]).flatten(1).norm(dim=1)
    return (r / values[0]).numpy()


def child(cfg: dict) -> dict:
    import torch

    from ipm.ntk import gram_operator, ntk_eigs

    net, latent = generator()
    z = torch.randn(cfg["N"], latent, generator=torch.Generator().manual_seed(1))
    n, d, k = cfg["N"], 1024, cfg["k"]
    apply = gram_operator(net, z)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if cfg["method"] == "ntk_eigs":
        out = ntk_eigs(net, z, k, tol=cfg["tol"], method="iterative", progress=True)
        seconds = time.perf_counter() - t0
        values, vectors, products = out.values, out.vectors, out.products
        extra = {"restarts": out.restarts, "converged": out.converged}
    else:
        from scipy.sparse.linalg import LinearOperator, eigsh

        count = [0]

        def matmat(x):
            x = np.asarray(x).reshape(n * d, -1)
            count[0] += x.shape[1]
            v = torch.from_numpy(x.T.copy()).to(torch.float32).reshape(-1, n, d)
            return apply(v).reshape(x.shape[1], n * d).T.to(torch.float64).numpy()

        op = LinearOperator((n * d, n * d), matvec=matmat, matmat=matmat, dtype=np.float64)
        vals, vecs = eigsh(op, k=k, which="LA", tol=cfg["tol"], v0=np.ones(n * d))
        seconds = time.perf_counter() - t0
        order = np.argsort(vals)[::-1]
        values = torch.from_numpy(vals[order].copy())
        vectors = torch.from_numpy(vecs[:, order].T.copy()).reshape(k, n, d)
        products, extra = count[0], {}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = residuals(apply, vectors, values)
    return {
        **{key: cfg[key] for key in ("method", "N", "k", "tol")},
        "D": d,
        "seconds": seconds,
        "products": int(products),
        "peak_rss_mib": peak,
        "baseline_rss_mib": base,
        "max_residual": float(res.max()),
        "values": values.tolist(),
        "threads": torch.get_num_threads(),
        **extra,
    }


def run_child(cfg: dict, timeout: float) -> dict | str:
    cmd = [sys.executable, "-m", "benchmarks.ntk_eigs", "--child", json.dumps(cfg)]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout:.0f} s"
    if p.returncode != 0:
        return f"failed (exit {p.returncode})"
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--json", default=None, help="write the rows here")
    p.add_argument("--n", type=int, default=256, help="latents N (D = 1024 each)")
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--tol", type=float, default=1e-5, help="relative residual to reach")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--timeout", type=float, default=3600, help="seconds per method")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(json.loads(a.child))))
        return []
    dense_gb = (a.n * 1024) ** 2 * 8 / 1e9
    print(
        f"dense Gram at N = {a.n}, D = 1024: ({a.n * 1024:,})² float64 = {dense_gb:,.0f} GB "
        f"({dense_gb / 2:,.0f} GB in float32): empirical_ntk + eigh and neural-tangents cannot run"
    )
    rows = []
    for method in a.methods:
        r = run_child({"method": method, "N": a.n, "k": a.k, "tol": a.tol}, a.timeout)
        if isinstance(r, str):
            r = {"method": method, "N": a.n, "k": a.k, "tol": a.tol, "D": 1024, "note": r}
        else:
            print(
                f"{method}: {r['seconds']:.1f} s, {r['products']} products, "
                f"peak {r['peak_rss_mib']:.0f} MiB, max residual {r['max_residual']:.2e}"
            )
        rows.append(r)
    ok = [r for r in rows if "values" in r]
    if len(ok) == 2:
        a_, b_ = np.array(ok[0]["values"]), np.array(ok[1]["values"])
        print(f"largest relative eigenvalue difference: {np.max(np.abs(a_ - b_) / a_[0]):.2e}")
    rows.append({"method": "dense", "N": a.n, "k": a.k, "D": 1024, "dense_gram_gb": dense_gb,
                 "note": f"not run: the float64 Gram alone is {dense_gb:,.0f} GB"})  # fmt: skip
    if a.json:
        save(a.json, "ntk_eigs", rows)
    return rows


if __name__ == "__main__":
    main()

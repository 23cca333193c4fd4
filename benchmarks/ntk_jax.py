"""The JAX anchor of the matrix-free NTK operator, measured on this machine (a benchmark).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.ntk_jax [--json FILE] [--repeats 5]

The matrix-free operator's speed is judged against JAX on the same machine (the targets were
set as JAX figures of an anchor machine: 15 ms for the D = 2 MLP, 21 ms for D = 1024, at
N = 256). This script measures that anchor here, on the same models as ``benchmarks/ntk.py``, so ``ipm`` can be compared with it in one run on
one machine. It needs ``jax`` (not a dependency of ``ipm``: install it in a separate
environment, e.g. ``python -m venv JAXENV && JAXENV/bin/pip install jax``) and
never imports torch.

A_θ(V) = J(z)·(J(z)ᵀ V) is ``jax.jvp`` of the generator at θ along the cotangent returned by
``jax.vjp``, compiled once with ``jax.jit`` (XLA fuses the element-wise work and shares the
forward pass where it can). Models: the MLP 128 → 4×512 (LeakyReLU 0.2) → D, D ∈ {2, 1024},
and the DCGAN-style generator (ConvTranspose 128 → 256@4×4 → 128@8×8 → 64@16×16 → 1@32×32,
kernel 4, ReLU, tanh, no BatchNorm) written as input-dilated convolutions, in the NHWC and the
NCHW layout (both are reported; the faster one is the anchor). Each configuration is the
median of ``--repeats`` calls after a compiling warm-up, in this one process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

NS = (16, 64, 256)


def mlp_params(key, d: int):
    import jax

    sizes = [128, 512, 512, 512, 512, d]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        key, k1 = jax.random.split(key)
        bound = 1.0 / np.sqrt(n_in)
        w = jax.random.uniform(k1, (n_in, n_out), minval=-bound, maxval=bound)
        params.append((w, jax.numpy.zeros(n_out)))
    return params


def mlp_apply(params, z):
    import jax

    x = z
    for w, b in params[:-1]:
        x = jax.nn.leaky_relu(x @ w + b, 0.2)
    w, b = params[-1]
    return x @ w + b


CONV = (
    (128, 256, 1, 0),
    (256, 128, 2, 1),
    (128, 64, 2, 1),
    (64, 1, 2, 1),
)  # (in, out, stride, pad)


def conv_params(key, layout: str):
    import jax

    params = []
    for c_in, c_out, _, _ in CONV:
        key, k1 = jax.random.split(key)
        shape = (4, 4, c_in, c_out) if layout == "NHWC" else (c_out, c_in, 4, 4)
        w = jax.random.normal(k1, shape) * 0.02
        params.append((w, jax.numpy.zeros(c_out)))
    return params


def conv_apply(params, z, layout: str):
    """ConvTranspose2d(k=4, stride s, padding p) as a convolution of the s-dilated input,
    padded by k − 1 − p: the same output sizes as torch (4, 8, 16, 32)."""
    import jax
    from jax import lax

    n = z.shape[0]
    if layout == "NHWC":
        x, dims, bshape = z.reshape(n, 1, 1, 128), ("NHWC", "HWIO", "NHWC"), (1, 1, 1, -1)
    else:
        x, dims, bshape = z.reshape(n, 128, 1, 1), ("NCHW", "OIHW", "NCHW"), (1, -1, 1, 1)
    for i, ((w, b), (_, _, s, p)) in enumerate(zip(params, CONV)):
        pad = 4 - 1 - p
        x = lax.conv_general_dilated(
            x, w, (1, 1), ((pad, pad), (pad, pad)), lhs_dilation=(s, s), dimension_numbers=dims
        )
        x = x + b.reshape(bshape)
        x = jax.nn.relu(x) if i < len(CONV) - 1 else jax.numpy.tanh(x)
    return x.reshape(n, -1)


def operator(apply):
    import jax

    def op(params, z, v):
        _, vjp_fn = jax.vjp(lambda p: apply(p, z), params)
        (ct,) = vjp_fn(v)
        return jax.jvp(lambda p: apply(p, z), (params,), (ct,))[1]

    return jax.jit(op)


def time_call(fn, args, repeats: int) -> float:
    fn(*args).block_until_ready()  # compile + warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args).block_until_ready()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def measure(model: str, d: int, n: int, layout: str | None, repeats: int) -> dict:
    """One configuration: the median seconds of A_θ(V) at N = n."""
    import jax

    key = jax.random.PRNGKey(0)
    if model == "mlp":
        params, apply = mlp_params(key, d), mlp_apply
    else:
        params = conv_params(key, layout or "NHWC")

        def apply(p, z):
            return conv_apply(p, z, layout or "NHWC")

    kz, kv = jax.random.split(jax.random.fold_in(key, n))
    z = jax.random.normal(kz, (n, 128))
    v = jax.random.normal(kv, (n, d))
    sec = time_call(operator(apply), (params, z, v), repeats)
    name = model if model == "mlp" else f"conv-{layout or 'NHWC'}"
    return {
        "method": "operator_jax",
        "model": name,
        "D": d,
        "N": n,
        "seconds": sec,
        "jax": jax.__version__,
    }


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n", type=int, nargs="+", default=list(NS), help="particle counts N")
    ap.add_argument(
        "--one",
        metavar="MODEL,D,N",
        help="measure one configuration (model mlp or conv) and print its row as JSON "
        "(used by benchmarks/ntk.py --jax-python)",
    )
    args = ap.parse_args()
    try:
        import jax
    except ImportError:
        print(
            "bench_ntk_jax: jax is not installed; it is not a dependency of ipm. Install it in a "
            "separate environment (python -m venv JAXENV && JAXENV/bin/pip install jax) "
            "and run this script with that environment's python.",
            file=sys.stderr,
        )
        return 2
    if args.one:
        model, d, n = args.one.split(",")
        print(json.dumps(measure(model, int(d), int(n), None, args.repeats)))
        return 0
    print(
        f"# bench_ntk_jax: jax {jax.__version__} on {jax.default_backend()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(unset)')}, median of {args.repeats} calls"
    )
    print(f"{'method':14s} {'model':10s} {'D':>5s} {'N':>4s} {'seconds':>10s}")
    models = [("mlp", 2, None), ("mlp", 1024, None), ("conv", 1024, "NHWC"), ("conv", 1024, "NCHW")]
    rows = []
    for model, d, layout in models:
        for n in args.n:
            row = measure(model, d, n, layout, args.repeats)
            rows.append(row)
            print(
                f"{'operator_jax':14s} {row['model']:10s} {d:5d} {n:4d} {row['seconds']:10.4f}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

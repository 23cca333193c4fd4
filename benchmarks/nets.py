"""Parameter counts and forward/backward time per batch of the MNIST configs' networks on CPU
(a benchmark, not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.nets [--batch B] [--reps 5] [--threads 1] [--json FILE]

Every network of ``experiments/configs/mnist/*.yaml`` is built as ``ipm train`` builds it, on
flat MNIST particles (1×32×32), and timed on a random batch (the config's batch size unless
``--batch``): forward alone, and forward + backward of the sum of its outputs; median of
``--reps`` after one warm-up. Time-conditioned networks get one time per sample, denoisers one
σ per sample. Score GAN's data EDM is built from ``mnist/edm.yaml`` (no checkpoint needed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks import save

ROOT = Path(__file__).resolve().parents[1]

SHAPE = (1, 32, 32)


def _models():
    from ipm.engine import load_config
    from ipm.models import EDM, build_model
    from ipm.models.score_gan import ScoreGAN

    for name in ["edm", "gan", "score_gan", "discr_flow", "sd_flow", "dmmd"]:
        path = ROOT / "experiments/configs/mnist" / f"{name}.yaml"
        if not path.is_file():
            print(f"skip {name}: no {path.relative_to(ROOT)}")
            continue
        cfg = load_config(path)
        if name == "score_gan":
            edm = load_config(ROOT / "experiments/configs/mnist/edm.yaml")
            model = ScoreGAN(cfg.model, SHAPE, cfg.train.batch_size, EDM(edm.model, SHAPE))
        else:
            model = build_model(cfg, SHAPE)
        yield name, cfg, model


def _inputs(model, net_name: str, n: int, torch):
    d = model.dim
    if net_name == "generator":
        return (torch.randn(n, model.cfg.latent_dim),)
    x = torch.randn(n, d)
    if net_name in ("denoiser", "gen_score", "data_den", "source_den"):
        return (x, torch.exp(torch.randn(n)))
    if model.name in ("discr_flow", "dmmd"):
        return (x, torch.rand(n))
    return (x,)


def _time(fn, reps: int) -> float:
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=None, help="batch size (default: each config's)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    import os

    import torch

    torch.set_num_threads(a.threads)
    print(
        f"threads {a.threads}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
        f"torch {torch.__version__}, median of {a.reps} after a warm-up"
    )
    rows = []
    hdr = f"{'config':12s} {'network':12s} {'params':>11s} {'batch':>6s} {'fwd s':>9s} {'fwd+bwd s':>10s}"
    print(hdr)
    print("-" * len(hdr))
    for name, cfg, model in _models():
        n = a.batch or cfg.train.batch_size
        for net_name, net in model.networks.items():
            net.train()
            params = sum(q.numel() for q in net.parameters())
            args = _inputs(model, net_name, n, torch)

            def fwd(net=net, args=args):
                with torch.no_grad():
                    net(*args)

            def fwd_bwd(net=net, args=args):
                net.zero_grad(set_to_none=True)
                net(*args).sum().backward()

            tf, tb = _time(fwd, a.reps), _time(fwd_bwd, a.reps)
            rows.append(
                {
                    "config": f"mnist/{name}",
                    "network": net_name,
                    "params": params,
                    "batch": n,
                    "forward_s": tf,
                    "forward_backward_s": tb,
                    "threads": a.threads,
                }
            )
            print(f"{name:12s} {net_name:12s} {params:11,d} {n:6d} {tf:9.4f} {tb:10.4f}")
    if a.json:
        save(a.json, "nets", rows)
        print(f"-> {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

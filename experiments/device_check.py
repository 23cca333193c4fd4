"""Device check: the full MNIST configs' training speed on a GPU, in minutes.

    python experiments/device_check.py [--out device_check.json] [--mnist DIR] [--budget 480]
    python experiments/device_check.py --smoke      # the same code path on a CPU, toy sizes

For each config of ``experiments/configs/mnist/`` (EDM, GAN, Score GAN and Discriminator Flow of
the paper's Tables 4-7, the SD flow and DMMD) it builds the model as ``ipm train`` does (the
data set held on the device as uint8), runs ``--warmup`` training steps and times ``--steps``
more, in bf16 eager, then in bf16 compiled: images per second (batch × steps / seconds), seconds
per step and peak device memory; and the loader's images per second. The Score GAN's data score is an untrained EDM of
``mnist/edm.yaml`` (its speed is that of a trained one); the SD flow runs without its
denoiser-only warm-up, so that its flow step is timed. Then EDM is trained for ``--fid-steps``
steps in bf16 and classifier-FID (the shipped MNIST classifier's features) is measured on
``--fid-samples`` samples against as many training images. Everything goes into one JSON.

Eager runs come first, then the EDM FID run, then the compiled runs (compilation takes the
longest); whatever would start after ``--budget`` seconds is recorded as skipped. ``--smoke``
uses toy networks, batch 8, random uint8 images and 32 FID samples, and compiles the GAN alone
(compiling a U-Net afresh takes minutes on a CPU).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

CONFIGS = Path(__file__).resolve().parent / "configs" / "mnist"
MODELS = ("edm", "gan", "score_gan", "discr_flow", "sd_flow", "dmmd")

#: toy sizes of ``--smoke``, per model (``--set`` overrides of its config)
SMOKE = {
    "edm": ["model.net.width=4", "model.sampler_steps=2"],
    "gan": ["model.generator.width=4", "model.discriminator.width=4", "model.latent_dim=8"],
    "score_gan": ["model.generator.width=4", "model.score_net.width=4", "model.latent_dim=8"],
    "discr_flow": ["model.net.width=4", "model.time_embedding=8", "model.flow_steps=4"],
    "sd_flow": ["model.net.width=4", "model.generator.width=4", "model.latent_dim=8"],
    "dmmd": [
        "model.net.width=4",
        "model.features=8",
        "model.time_embedding=8",
        "model.reference=16",
        "model.flow_levels=2",
        "model.steps_per_level=1",
    ],
}


def overrides(name: str, smoke: bool) -> list[str]:
    sets = ["model.warmup=0"] if name == "sd_flow" else []
    return sets + (SMOKE[name] + ["train.batch_size=8"] if smoke else [])


def load_images(smoke: bool, root: str | None):
    """MNIST (32×32) from ``root`` or ``$IPM_MNIST_DIR``; random uint8 images for ``--smoke``."""
    from ipm.data import TensorImages, load_mnist

    if smoke:
        g = torch.Generator().manual_seed(0)
        pixels = torch.randint(0, 256, (256, 1, 32, 32), dtype=torch.uint8, generator=g)
        return TensorImages(pixels, 255.0, "random-uint8")
    return load_mnist(root, "train")[0]


def build(name: str, smoke: bool, shape, device):
    """(config, model on ``device``) of ``mnist/<name>.yaml`` as ``ipm train`` builds it."""
    from ipm.engine import load_config
    from ipm.models import build_model

    cfg = load_config(CONFIGS / f"{name}.yaml", overrides(name, smoke))
    inputs = {}
    if name == "score_gan":
        edm_cfg = load_config(CONFIGS / "edm.yaml", overrides("edm", smoke))
        edm = build_model(edm_cfg, shape)
        edm.denoiser.requires_grad_(False)
        inputs["data_score"] = edm.score()
    torch.manual_seed(cfg.seed)
    return cfg, build_model(cfg, shape, **inputs).to(device)


def trainer(name: str, smoke: bool, data, device, compile: bool):
    """(config, model in bf16, its optimisers, a step context on ``data``): what the engine
    sets up for a run of ``mnist/<name>.yaml``."""
    from ipm.models import StepContext

    cfg, model = build(name, smoke, data.shape, device)
    model.accelerate("bf16", compile)
    opts = model.make_optimizers()
    ctx = StepContext(
        torch.Generator().manual_seed(cfg.seed + 1),
        lambda n, g: data.sample(n, generator=g),
        device,
    )
    return cfg, model, opts, ctx


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def throughput(name, smoke, data, device, *, compile: bool, warmup: int, steps: int) -> dict:
    """Images per second, seconds per step and peak memory of ``steps`` bf16 training steps."""
    cfg, model, opts, ctx = trainer(name, smoke, data, device, compile)
    t0 = time.perf_counter()
    for _ in range(warmup):
        model.train_step(ctx, opts)
    _sync(device)
    warm = time.perf_counter() - t0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        out = model.train_step(ctx, opts)
    _sync(device)
    sec = (time.perf_counter() - t0) / steps
    finite = all(bool(torch.isfinite(v).all()) for v in out.values())
    batch = cfg.train.batch_size
    return {
        "config": f"mnist/{name}",
        "precision": "bf16",
        "compile": compile,
        "batch": batch,
        "warmup_steps": warmup,
        "warmup_seconds": warm,
        "steps": steps,
        "seconds_per_step": sec,
        "images_per_second": batch / sec,
        "peak_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20
        if device.type == "cuda"
        else None,
        "finite": finite,
    }


def loader(data, device, batch: int = 128, reps: int = 20) -> dict:
    """Images per second drawn as training batches from the data held on ``device``."""
    g = torch.Generator().manual_seed(0)
    data.sample(batch, generator=g)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(reps):
        data.sample(batch, generator=g)
    _sync(device)
    return {"batch": batch, "images_per_second": batch * reps / (time.perf_counter() - t0)}


def edm_fid(smoke, data, device, *, steps: int, samples: int) -> dict:
    """Classifier-FID of EDM after ``steps`` bf16 training steps, ``samples`` of each side."""
    from ipm.metrics.features import feature_space
    from ipm.metrics.image_quality import image_quality, reference_batches, sample_batches

    cfg, model, opts, ctx = trainer("edm", smoke, data, device, compile=False)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_step(ctx, opts)
    _sync(device)
    train_s = time.perf_counter() - t0
    for m in model.networks.values():
        m.eval()
    g = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    x = torch.cat([model.sample(k, generator=g).x for k in _chunks(samples, 500)])
    _sync(device)
    sample_s = time.perf_counter() - t0
    space = feature_space("classifier", device=device)
    parts = iter(x.split(500))
    q = image_quality(
        space,
        sample_batches(lambda k: next(parts), samples, 500, data.shape),
        reference_batches(data, samples, 500),
        n_samples=samples,
        n_reference=samples,
        kid_subset_size=min(1000, samples),
    )
    return {
        "config": "mnist/edm",
        "train_steps": steps,
        "batch": cfg.train.batch_size,
        "train_seconds": train_s,
        "samples": samples,
        "sample_seconds": sample_s,
        "nfe": model.sample(1, generator=g).nfe,
        "classifier_fid": q["fid"],
        "feature_space": q["feature_space"],
    }


def _chunks(n: int, size: int) -> list[int]:
    return [min(size, n - s) for s in range(0, n, size)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="toy sizes on this machine's CPU")
    p.add_argument("--out", type=Path, default=Path("device_check.json"))
    p.add_argument("--mnist", default=None, help="MNIST folder (default $IPM_MNIST_DIR)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (default 3; smoke 1)")
    p.add_argument("--steps", type=int, default=None, help="timed steps (default 20; smoke 2)")
    p.add_argument("--fid-steps", type=int, default=None, help="EDM steps (default 1500)")
    p.add_argument("--fid-samples", type=int, default=None, help="default 2000; smoke 32")
    p.add_argument("--budget", type=float, default=480.0, help="seconds before skipping runs")
    p.add_argument("--no-compile", action="store_true", help="skip the compiled runs")
    a = p.parse_args(argv)
    smoke = a.smoke
    warmup = a.warmup if a.warmup is not None else (1 if smoke else 3)
    steps = a.steps if a.steps is not None else (2 if smoke else 20)
    fid_steps = a.fid_steps if a.fid_steps is not None else (2 if smoke else 1500)
    fid_samples = a.fid_samples if a.fid_samples is not None else (32 if smoke else 2000)
    if smoke:
        device = torch.device("cpu")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        p.error("no CUDA device: run with --smoke on a CPU")
    start = time.perf_counter()
    data = load_images(smoke, a.mnist)
    data.to(device)
    plan = [("throughput", m, False) for m in MODELS] + [("fid", "edm", False)]
    if not a.no_compile:
        plan += [("throughput", m, True) for m in (("gan",) if smoke else MODELS)]
    record = {
        "command": " ".join(["python", *sys.argv]),
        "smoke": smoke,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "python": platform.python_version(),
        "data": data.name,
        "loader": loader(data, device),
        "throughput": [],
        "fid": None,
        "skipped": [],
        "errors": [],
    }
    for kind, name, compile in plan:
        label = f"{kind} mnist/{name}" + (" compiled" if compile else "")
        if time.perf_counter() - start > a.budget:
            record["skipped"].append(f"{label}: over the {a.budget:g} s budget")
            continue
        print(f"{label} …", flush=True)
        try:
            if kind == "fid":
                record["fid"] = edm_fid(smoke, data, device, steps=fid_steps, samples=fid_samples)
                print(f"  classifier-FID {record['fid']['classifier_fid']:.1f}", flush=True)
            else:
                r = throughput(
                    name, smoke, data, device, compile=compile, warmup=warmup, steps=steps
                )
                record["throughput"].append(r)
                print(f"  {r['images_per_second']:.0f} images/s", flush=True)
        except Exception as e:  # noqa: BLE001  (recorded: the other runs still report)
            record["errors"].append({"run": label, "error": repr(e)[:500]})
            print(f"  failed: {e!r}"[:300], flush=True)
        if device.type == "cuda":
            torch.cuda.empty_cache()
    record["seconds"] = time.perf_counter() - start
    a.out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"-> {a.out} ({record['seconds']:.0f} s, {len(record['errors'])} failed)")
    return 1 if record["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())

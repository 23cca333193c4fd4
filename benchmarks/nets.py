"""Seconds per training step of ``ipm``'s networks against a reference implementation of the
same architecture at (nearly) equal parameter count, side by side in one process (a benchmark,
not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.nets [--reps 5] [--threads 1 2] [--json FILE]

A step is a forward pass, the mean square of the output as loss, the backward pass and a fused
Adam update. For each thread count and precision (``fp32``; ``bf16``: both networks under
:func:`ipm.nets.precision.autocast`), every pair is built afresh, warmed up by two steps, and
timed alternately (``ipm``, reference, ``ipm``, …); the row gives the median of ``--reps``.

===================  ====================================================================
network              reference
===================  ====================================================================
``unet``             ``diffusers.UNet2DModel`` (optional dependency ``bench``) closest in
                     parameters to the MNIST EDM config's U-Net (width 16, channel multipliers
                     2-2-2, one block per level, attention at 16×16): in the same DDPM++
                     layout (residual resampling blocks, scale-shift conditioning; the
                     reference) and in diffusers' default layout (strided and interpolating
                     convolutions: another architecture, for comparison); counts are stated
``dcgan_generator``  the generator of the PyTorch DCGAN example (Radford et al. 2016) for
                     32×32, as ``nn.Sequential``; the MNIST GAN config's (width 64)
``dcgan_discriminator`` its discriminator, as ``nn.Sequential``
``mlp``              ``nn.Sequential`` of the same Linear and SiLU layers (1,024 → 3 × 1,024 →
                     1,024, the MNIST-cpu EDM denoiser's size)
===================  ====================================================================
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks import save

#: (network, batch, ipm's network, {reference name: builder} (empty where its package is
#: missing), inputs)
Pair = tuple[str, int, Callable[[], nn.Module], dict[str, Callable[[], nn.Module]], Callable]


def _count(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _unet():
    from ipm.nets.unet import UNet

    return UNet(1, 32, 16, channel_mult=(2, 2, 2), num_blocks=1, attention=(16,))


def _diffusers(layout: str):
    """``diffusers.UNet2DModel`` (:class:`ipm.nets.diffusers_unet.DiffusersUNet`) at the
    parameter count closest to :func:`_unet`'s: the DDPM++ layout of ipm's U-Net (residual
    down- and up-sampling blocks, scale-shift conditioning) or diffusers' default layout
    (strided and interpolating convolutions, additive conditioning)."""
    from ipm.nets.diffusers_unet import DiffusersUNet

    width, groups = (15, 6) if layout == "ddpmpp" else (17, 2)  # the closest parameter counts
    return DiffusersUNet(
        1, 32, width, channel_mult=(2, 2, 2), num_blocks=1, attention=(16,), layout=layout,
        groups=groups,
    )  # fmt: skip


def _dcgan_generator():
    from ipm.nets.dcgan import DCGANGenerator

    return DCGANGenerator(128, 1, 32, 64, batch_norm=True, activation_name="relu")


def _reference_generator() -> nn.Module:
    """The PyTorch DCGAN example's generator, one up-sampling stage fewer for 32×32."""
    w = 64
    return nn.Sequential(
        nn.Unflatten(1, (128, 1, 1)),
        nn.ConvTranspose2d(128, w * 4, 4, 1, 0, bias=False),
        nn.BatchNorm2d(w * 4),
        nn.ReLU(True),
        nn.ConvTranspose2d(w * 4, w * 2, 4, 2, 1, bias=False),
        nn.BatchNorm2d(w * 2),
        nn.ReLU(True),
        nn.ConvTranspose2d(w * 2, w, 4, 2, 1, bias=False),
        nn.BatchNorm2d(w),
        nn.ReLU(True),
        nn.ConvTranspose2d(w, 1, 4, 2, 1),
        nn.Tanh(),
    )


def _dcgan_discriminator():
    from ipm.nets.dcgan import DCGANDiscriminator

    return DCGANDiscriminator(1, 32, 64)


def _reference_discriminator() -> nn.Module:
    """The PyTorch DCGAN example's discriminator for 32×32 (no BatchNorm, as the GAN config)."""
    w = 64
    return nn.Sequential(
        nn.Conv2d(1, w, 4, 2, 1),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(w, w * 2, 4, 2, 1),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(w * 2, w * 4, 4, 2, 1),
        nn.LeakyReLU(0.2, True),
        nn.Conv2d(w * 4, 1, 4, 1, 0),
        nn.Flatten(),
    )


def _resnet_generator():
    from ipm.nets.resnet import ResNetGenerator

    return ResNetGenerator(128, 3, 64, 32, attention=32, activation_name="leaky_relu")


def _resnet_discriminator():
    from ipm.nets.resnet import ResNetDiscriminator

    return ResNetDiscriminator(3, 64, 32, attention=32, activation_name="leaky_relu")


class _RefAttention(nn.Module):
    """SAGAN self-attention (θ, φ to C/8, g to C/2, o back to C, gate γ from 0) through
    ``F.scaled_dot_product_attention``."""

    def __init__(self, c: int):
        super().__init__()
        self.theta, self.phi = (
            nn.Conv2d(c, c // 8, 1, bias=False),
            nn.Conv2d(c, c // 8, 1, bias=False),
        )
        self.g, self.o = nn.Conv2d(c, c // 2, 1, bias=False), nn.Conv2d(c // 2, c, 1, bias=False)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        n, _, h, w = x.shape
        q, k, v = (f(x).flatten(2).transpose(1, 2) for f in (self.theta, self.phi, self.g))
        out = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(n, -1, h, w)
        return x + self.gamma * self.o(out)


class _RefResidual(nn.Module):
    def __init__(self, residual: nn.Module, shortcut: nn.Module):
        super().__init__()
        self.residual, self.shortcut = residual, shortcut

    def forward(self, x):
        return self.residual(x) + self.shortcut(x)


def _reference_resnet_generator() -> nn.Module:
    """SNGAN/SAGAN ResNet generator for 64×64 (Miyato et al. 2018; Zhang et al. 2019), width 32:
    blocks BN → act → ×2 up → conv3 → BN → act → conv3 plus an up-sampled 1×1 shortcut, written
    with ``nn.Sequential`` and ``nn.Upsample``; attention at 32×32."""
    act, up = (lambda: nn.LeakyReLU(0.2)), (lambda: nn.Upsample(scale_factor=2.0))
    layers: list[nn.Module] = [nn.Linear(128, 256 * 16), nn.Unflatten(1, (256, 4, 4))]
    for i, (cin, cout) in enumerate(((256, 128), (128, 64), (64, 32), (32, 32))):
        residual = nn.Sequential(
            nn.BatchNorm2d(cin), act(), up(), nn.Conv2d(cin, cout, 3, 1, 1),
            nn.BatchNorm2d(cout), act(), nn.Conv2d(cout, cout, 3, 1, 1),
        )  # fmt: skip
        layers.append(_RefResidual(residual, nn.Sequential(up(), nn.Conv2d(cin, cout, 1))))
        if i == 2:  # the block that ends at 32×32
            layers.append(_RefAttention(cout))
    return nn.Sequential(*layers, nn.BatchNorm2d(32), act(), nn.Conv2d(32, 3, 3, 1, 1), nn.Tanh())


def _reference_resnet_discriminator() -> nn.Module:
    """SNGAN/SAGAN ResNet discriminator for 64×64, width 32 (no normalisation): blocks (act →)
    conv3 → act → conv3 → avg-pool plus a 1×1 shortcut; attention at 32×32; act, sum over
    positions, linear."""
    act, pool = (lambda: nn.LeakyReLU(0.2)), (lambda: nn.AvgPool2d(2))
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(((3, 32), (32, 64), (64, 128), (128, 256))):
        head = [] if i == 0 else [act()]
        residual = nn.Sequential(
            *head, nn.Conv2d(cin, cout, 3, 1, 1), act(), nn.Conv2d(cout, cout, 3, 1, 1), pool()
        )
        conv = nn.Conv2d(cin, cout, 1)
        shortcut = nn.Sequential(pool(), conv) if i == 0 else nn.Sequential(conv, pool())
        layers.append(_RefResidual(residual, shortcut))
        if i == 0:  # the block that ends at 32×32
            layers.append(_RefAttention(cout))
    return nn.Sequential(*layers, act(), nn.Flatten(2), _Sum(), nn.Linear(256, 1))


class _Sum(nn.Module):
    def forward(self, x):
        return x.sum(-1)


def _mlp():
    from ipm.generators.mlp import MLP

    return MLP(1024, 1024, 1024, 3, "silu")


def _reference_mlp() -> nn.Module:
    layers: list[nn.Module] = []
    for d in (1024, 1024, 1024):
        layers += [nn.Linear(d, 1024), nn.SiLU()]
    return nn.Sequential(*layers, nn.Linear(1024, 1024))


def pairs() -> list[Pair]:
    try:
        import diffusers

        v = f"diffusers {diffusers.__version__} UNet2DModel"
        unet_refs = {
            f"{v}, DDPM++ layout": lambda: _diffusers("ddpmpp"),
            f"{v}, default layout": lambda: _diffusers("default"),
        }
    except ImportError:
        unet_refs = {}
    images = lambda n: (torch.randn(n, 1, 32, 32),)  # noqa: E731
    dcgan = "PyTorch DCGAN example (nn.Sequential)"
    resnet = "SNGAN/SAGAN ResNet (nn.Sequential, scaled_dot_product_attention)"
    return [
        ("unet", 32, _unet, unet_refs, lambda n: (torch.randn(n, 1, 32, 32), torch.randn(n))),
        (
            "dcgan_generator",
            128,
            _dcgan_generator,
            {dcgan: _reference_generator},
            lambda n: (torch.randn(n, 128),),
        ),  # fmt: skip
        (
            "dcgan_discriminator",
            128,
            _dcgan_discriminator,
            {dcgan: _reference_discriminator},
            images,
        ),  # fmt: skip
        (
            "resnet_generator",
            64,
            _resnet_generator,
            {resnet: _reference_resnet_generator},
            lambda n: (torch.randn(n, 128),),
        ),  # fmt: skip
        (
            "resnet_discriminator",
            64,
            _resnet_discriminator,
            {resnet: _reference_resnet_discriminator},
            lambda n: (torch.randn(n, 3, 64, 64),),
        ),  # fmt: skip
        ("mlp", 128, _mlp, {"nn.Sequential": _reference_mlp}, lambda n: (torch.randn(n, 1024),)),
    ]


def _stepper(net: nn.Module, args: tuple) -> Callable[[], None]:
    opt = torch.optim.Adam(net.parameters(), lr=1e-4, fused=True)

    def step():
        opt.zero_grad(set_to_none=True)
        net(*args).float().square().mean().backward()
        opt.step()

    return step


def measure(pair: Pair, precision: str, threads: int, reps: int) -> list[dict]:
    """The rows of one pair at one precision and thread count (ipm first, then reference)."""
    from ipm.nets.precision import autocast

    network, batch, ours, refs, inputs = pair
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    args = inputs(batch)
    nets = {"ipm": ours(), **{name: build() for name, build in refs.items()}}
    steps = {k: _stepper(autocast(m, precision), args) for k, m in nets.items()}
    times: dict[str, list[float]] = {k: [] for k in steps}
    for step in steps.values():
        step(), step()
    for _ in range(reps):
        for k, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[k].append(time.perf_counter() - t0)
    return [
        {
            "network": network,
            "implementation": k,
            "parameters": _count(nets[k]),
            "batch": batch,
            "precision": precision,
            "threads": threads,
            "seconds_per_step": statistics.median(times[k]),
        }
        for k in nets
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--precision", nargs="+", default=["fp32", "bf16"])
    p.add_argument("--only", nargs="+", default=None, help="networks to run (default: all)")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    print(
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, torch {torch.__version__}, "
        f"median of {a.reps} after two warm-up steps"
    )
    todo = [q for q in pairs() if a.only is None or q[0] in a.only]
    missing = [q[0] for q in todo if not q[3]]
    if missing:
        print(f"no reference for {missing}: pip install -e '.[bench]' (diffusers)")
    rows, threads0 = [], torch.get_num_threads()
    hdr = f"{'network':20s} {'implementation':40s} {'params':>9s} {'prec':5s} {'thr':>3s} {'s/step':>8s}"
    print(hdr + "\n" + "-" * len(hdr))
    for threads in a.threads:
        for precision in a.precision:
            for pair in todo:
                for r in measure(pair, precision, threads, a.reps):
                    rows.append(r)
                    print(
                        f"{r['network']:20s} {r['implementation']:40s} {r['parameters']:9,d} "
                        f"{precision:5s} {threads:3d} {r['seconds_per_step']:8.4f}"
                    )
    torch.set_num_threads(threads0)  # the machine line states the default; rows their own
    if a.json:
        save(a.json, "nets", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

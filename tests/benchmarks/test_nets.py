"""The networks benchmark times ipm's network and its reference alternately and writes the rows
the page reads: network, implementation, parameters, batch, precision, threads, seconds."""

import torch
from torch import nn

from benchmarks.__main__ import nets_section
from benchmarks.nets import measure, pairs


def test_rows_pair_ipm_with_its_reference_at_each_precision():
    ref = {"nn.Sequential": lambda: nn.Sequential(nn.Linear(3, 2))}
    small = ("mlp", 4, lambda: nn.Linear(3, 2), ref, lambda n: (torch.randn(n, 3),))
    rows = [r for prec in ("fp32", "bf16") for r in measure(small, prec, 1, reps=2)]
    assert [(r["implementation"], r["precision"]) for r in rows] == [
        ("ipm", "fp32"),
        ("nn.Sequential", "fp32"),
        ("ipm", "bf16"),
        ("nn.Sequential", "bf16"),
    ]
    assert all(r["parameters"] == 8 and r["batch"] == 4 and r["seconds_per_step"] > 0 for r in rows)
    table = nets_section({"command": "c", "hardware": "h", "rows": rows})
    assert sum(line.startswith("| mlp |") for line in table) == 2


def test_the_reference_networks_match_ipms_parameter_counts_within_seven_percent():
    """(diffusers' U-Nets only where it is installed: ``pip install -e '.[bench]'``)"""
    for network, _, ours, refs, _ in pairs():
        a = sum(p.numel() for p in ours().parameters())
        for name, ref in refs.items():
            b = sum(p.numel() for p in ref().parameters())
            assert abs(a - b) <= 0.07 * a, (network, name, a, b)


def _copy_resnet_into_reference(ours: nn.Module, ref: nn.Sequential) -> None:
    """ipm's ResNet weights into the reference, module by module in the order they apply."""
    from ipm.nets.attention import SelfAttention
    from ipm.nets.resnet import ResNetGenerator

    gen = isinstance(ours, ResNetGenerator)
    order = ["bn1", "c1", "bn2", "c2", "sc"] if gen else ["c1", "c2", "sc"]  # as the reference
    src: list[nn.Module] = []
    if gen:
        src.append(ours.linear)
    blocks = list(ours.blocks)
    for i, b in enumerate(blocks):
        if isinstance(b, SelfAttention):
            src.append(b)
            continue
        src += [getattr(b, n) for n in order]
        if not gen and str(i) in ours.attn:
            src.append(ours.attn[str(i)])
    src += [ours.bn, ours.out] if gen else [ours.head]
    dst = [
        m
        for m in ref.modules()
        if type(m).__name__ == "_RefAttention"
        or (isinstance(m, (nn.Linear, nn.Conv2d, nn.BatchNorm2d)) and not _in_attention(ref, m))
    ]
    assert len(src) == len(dst)
    for a, b in zip(src, dst, strict=True):
        b.load_state_dict(a.state_dict())


def _in_attention(ref: nn.Module, m: nn.Module) -> bool:
    return any(
        type(p).__name__ == "_RefAttention" and any(c is m for c in p.modules())
        for p in ref.modules()
    )


def test_the_resnet_references_compute_ipms_functions():
    """Same architecture: with ipm's weights (attention gates off zero) the reference gives
    ipm's outputs."""
    from benchmarks.nets import (
        _reference_resnet_discriminator,
        _reference_resnet_generator,
        _resnet_discriminator,
        _resnet_generator,
    )

    torch.manual_seed(0)
    for ours, ref, x in (
        (_resnet_generator(), _reference_resnet_generator(), torch.randn(3, 128)),
        (_resnet_discriminator(), _reference_resnet_discriminator(), torch.randn(3, 3, 64, 64)),
    ):
        with torch.no_grad():
            for n, p in ours.named_parameters():
                if n.endswith("gamma"):
                    p.fill_(0.7)
        _copy_resnet_into_reference(ours, ref)
        ours.eval(), ref.eval()
        torch.testing.assert_close(ref(x), ours(x), rtol=1e-4, atol=1e-5)

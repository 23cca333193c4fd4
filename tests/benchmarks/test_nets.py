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

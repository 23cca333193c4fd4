"""``python -m experiments.ntk_drift --quick`` and its exact NTK block on an output subset."""

from __future__ import annotations

import json

import pytest
import torch


def test_ntk_drift_quick(tmp_path):
    from experiments.ntk_drift import main

    res = main(["--quick", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")])
    out = json.loads((tmp_path / "out/ntk_drift.json").read_text())
    assert out["mode"] == "quick" and out["command"].startswith("python ")
    assert "wall_seconds" in out and "hardware" in out
    assert (tmp_path / "out/ntk_drift.png").is_file()
    md = (tmp_path / "out/README.md").read_text()
    assert md.startswith("# ntk_drift") and "| gaussians-gan | 32 |" in md
    for r in res["gaussians-gan"].values():
        assert r["steps"][0] == 0 and r["drift"][0] == 0.0  # K_0 against itself
        assert r["steps"][-1] == 200 and r["drift"][-1] > 0  # Adam moved the weights
        assert len(r["consecutive_drift"]) == len(r["steps"]) - 1
    # a second call finds the trained runs and only recomputes the kernels
    again = main(["--quick", "--out", str(tmp_path / "out2"), "--runs", str(tmp_path / "runs")])
    assert again["gaussians-gan"]["32"]["drift"] == pytest.approx(
        res["gaussians-gan"]["32"]["drift"]
    )


def test_output_subset_is_an_exact_ntk_block():
    from experiments.ntk_drift import OutputSubset
    from ipm.ntk import empirical_ntk

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5)
    ).double()
    z = torch.randn(4, 3, dtype=torch.float64)
    idx = torch.tensor([4, 1])
    full = empirical_ntk(net, z)  # (4, 4, 5, 5)
    block = empirical_ntk(OutputSubset(net, idx), z)
    torch.testing.assert_close(block, full[:, :, idx][:, :, :, idx])

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
    assert "followable share" in md and "Spearman" in md and "uncentred alignment" in md
    for by_seed in res["gaussians-gan"].values():
        r = by_seed["0"]
        assert r["steps"][0] == 0 and r["drift"][0] == 0.0  # K_0 against itself
        assert r["steps"][-1] == 200 and r["drift"][-1] > 0  # Adam moved the weights
        assert len(r["consecutive_drift"]) == len(r["steps"]) - 1
        assert r["alignment"][0] == pytest.approx(1.0, abs=1e-12)  # K_0 with itself
        assert all(-1 <= a <= 1 + 1e-12 for a in r["alignment"]) and r["alignment"][-1] < 1
        assert r["alignment_uncentred"][0] == pytest.approx(1.0, abs=1e-12)
        assert r["alignment_uncentred"][-1] != pytest.approx(r["alignment"][-1], abs=1e-6)
        # the top 16 of a 32 × 32 Gram hold part of its Frobenius mass, exactly
        for values, fro in zip(r["values"], r["fro"], strict=True):
            assert 0 < sum(v * v for v in values) <= fro**2 * (1 + 1e-12)
        assert all(0 <= s <= 1 + 1e-12 for s in r["share"])
        assert all(len(v) == 16 and v[0] >= v[-1] > 0 for v in r["values"])
        assert r["alignment_kind"] == "exact" and r["spectral_shape"] == [16, 2]
    # a second call, in two worker processes, finds the trained runs and recomputes the same
    again = main(["--quick", "--jobs", "2", "--out", str(tmp_path / "out2"),
                  "--runs", str(tmp_path / "runs")])  # fmt: skip
    first, second = res["gaussians-gan"]["32"]["0"], again["gaussians-gan"]["32"]["0"]
    for key in ("drift", "alignment", "share"):
        assert second[key] == pytest.approx(first[key], rel=1e-12)
    assert torch.allclose(torch.tensor(second["values"]), torch.tensor(first["values"]), rtol=1e-12)


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

"""``python -m experiments.fid_vs_nfe --quick``."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def gaussian_runs(tmp_path_factory):
    """One quick EDM and Discriminator Flow on the Gaussians, shared by the tests below."""
    return tmp_path_factory.mktemp("runs")


def test_fid_vs_nfe_quick(tmp_path, gaussian_runs):
    from experiments.fid_vs_nfe import main

    rows = main(["--quick", "--out", str(tmp_path), "--runs", str(gaussian_runs)])
    methods = {r["method"].split(" (")[0] for r in rows}
    assert methods == {"EDM Euler", "EDM Heun", "DF coarser grid", "DF early stop"}
    euler = {r["nfe"] for r in rows if r["method"] == "EDM Euler"}
    heun = {r["nfe"] for r in rows if r["method"] == "EDM Heun"}
    assert euler == {3, 9} and heun == {3, 9}  # Heun: 2n − 1 evaluations
    assert all(r["mmd2"] == r["mmd2"] and r["w2"] > 0 for r in rows)
    out = json.loads((tmp_path / "fid_vs_nfe.json").read_text())
    assert out["n_samples"] == 500 and (tmp_path / "fid_vs_nfe.png").is_file()

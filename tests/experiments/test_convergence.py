"""``python -m experiments.convergence --quick``."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def gaussian_runs(tmp_path_factory):
    """One quick EDM and Discriminator Flow on the Gaussians, shared by the tests below."""
    return tmp_path_factory.mktemp("runs")


def test_convergence_quick(tmp_path, gaussian_runs):
    from experiments.convergence import main

    res = main(["--quick", "--out", str(tmp_path), "--runs", str(gaussian_runs)])
    for r in res.values():
        assert len(r["rows"]) == r["steps"] + 1 and r["rows"][-1]["fraction_of_nfe"] == 1.0
    # the prior is far from the data; the end of generation is closer
    for name in ("edm", "discr_flow"):
        assert res[name]["rows"][-1]["mmd2"] < res[name]["rows"][0]["mmd2"]
    assert (tmp_path / "convergence.png").is_file()

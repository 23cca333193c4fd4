"""``python -m experiments.edm_reference --quick``: ipm's EDM against the same EDM on
``diffusers.UNet2DModel``, at equal wall time, over seeds (on MNIST stand-ins)."""

from __future__ import annotations

import json

import pytest
import yaml


def test_edm_reference_quick(tmp_path, roots, monkeypatch):
    pytest.importorskip("diffusers")
    from experiments.edm_reference import MODELS, main, markdown

    monkeypatch.setenv("IPM_MNIST_DIR", str(roots["mnist"]))
    out, runs = tmp_path / "out", tmp_path / "runs"
    own = ["model.net.skip_scale=1"]  # an ipm-only option: the reference does not get it
    main(["--quick", "--seeds", "0", "1", "--out", str(out), "--runs", str(runs), "--set", *own])
    res = json.loads((out / "edm_reference.json").read_text())
    # equal wall time: the reference's steps are ipm's times the ratio of their step times
    t, steps = res["timing_seconds_per_step"], res["steps"]
    assert steps["diffusers"] == max(1, round(steps["ipm"] * t["ipm"] / t["diffusers"]))
    for m in MODELS:
        for s in ("0", "1"):
            r = res["runs"][m][s]
            saved = yaml.safe_load((runs / m / f"seed{s}" / "config.yaml").read_text())
            assert saved["seed"] == int(s) and saved["train"]["steps"] == steps[m]
            assert saved["model"]["net"]["kind"] == ("unet" if m == "ipm" else "diffusers_unet")
            assert ("skip_scale" in saved["model"]["net"]) == (m == "ipm")
            if m == "ipm":
                assert saved["model"]["net"]["skip_scale"] == 1.0
            assert r["steps"] == steps[m] and r["n_samples"] == 200 and r["fid"] > 0
    # the two networks have the same levels and nearly the same size
    p = [res["runs"][m]["0"]["parameters"] for m in MODELS]
    assert abs(p[0] - p[1]) / p[0] < 0.05
    fids = sorted(res["runs"]["ipm"][s]["fid"] for s in ("0", "1"))
    assert res["summary"]["fid"]["ipm"] == {"median": sum(fids) / 2, "min": fids[0], "max": fids[1]}
    assert 0 <= res["mann_whitney_p"]["fid"] <= 1
    page = (out / "README.md").read_text()
    assert res["overrides"] == own and "with `model.net.skip_scale=1` (`ipm`)" in page
    assert markdown(res) in page and f"{res['runs']['diffusers']['1']['fid']:.4g}" in page
    assert "earlier invocation" not in page
    # a second invocation reuses the runs and their evaluations, and says so
    again = main(["--quick", "--seeds", "0", "1", "--out", str(out), "--runs", str(runs),
                  "--set", *own])  # fmt: skip
    res2 = json.loads((out / "edm_reference.json").read_text())
    assert all(res2["runs"][m][s]["reused"] for m in MODELS for s in ("0", "1"))
    assert res2["summary"] == res["summary"]
    assert "earlier invocation into the same `--runs`" in again.read_text()

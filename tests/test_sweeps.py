"""Seed sweeps (:mod:`ipm.sweeps`)."""

from __future__ import annotations

import json

import pytest


def test_seed_sweep_helpers():
    """{seed} substitution, reference parsing and the direction of each figure."""
    from ipm.sweeps import meets, parse_reference, seed_overrides, summarize

    over = seed_overrides(["model.edm_checkpoint=runs/edm/seed{seed}", "train.ema=0.9"], 3, False)
    assert over == ["seed=3", "model.edm_checkpoint=runs/edm/seed3", "train.ema=0.9"]
    assert "train.steps=40" in seed_overrides([], 0, True)
    assert parse_reference(["mmd2=1.0e-2", "modes_covered=5"]) == {"mmd2": 0.01, "modes_covered": 5}
    for bad in ("mmd2", "mmd2=x", "=1", "mmd2=nan"):
        with pytest.raises(ValueError, match="--reference"):
            parse_reference([bad])
    m = {"mmd2": 0.02, "modes_covered": 4, "off_mode_fraction": 0.05}
    ref = {"mmd2": 0.01, "modes_covered": 4, "off_mode_fraction": 0.05}
    assert meets(m, ref) == {"mmd2": False, "modes_covered": True, "off_mode_fraction": True}
    assert meets(m, {"modes_covered": 5}) == {"modes_covered": False}  # higher is better
    with pytest.raises(ValueError, match="--reference fid: not a metric"):
        meets(m, {"fid": 1.0})
    s = summarize({0: {"a": 1.0, "b": "x"}, 1: {"a": 3.0, "b": "y"}, 2: {"a": 2.0}})
    assert s == {"a": {"median": 2.0, "min": 1.0, "max": 3.0}}


def test_seed_sweep_quick(tmp_path, monkeypatch):
    """Two GAN seeds train and are scored like ipm evaluate; the counts of seeds meeting each
    figure follow the per-seed metrics; a second sweep reuses the runs and their evaluations."""
    import ipm.sweeps
    from ipm.sweeps import sweep

    config = "experiments/configs/gaussians/gan.yaml"
    kw = {"runs_dir": tmp_path / "runs", "quick": True}
    ref = {"mmd2": 10.0, "modes_covered": 6}
    res = sweep(config, [0, 1], reference=ref, out=tmp_path / "out", **kw)
    assert set(res["runs"]) == {0, 1}
    assert res["runs"][0] != res["runs"][1]  # different seeds, different samples
    assert res["n_meeting"] == {"mmd2": 2, "modes_covered": 0} and res["n_meeting_all"] == 0
    med = res["summary"]["mmd2"]["median"]
    assert med == pytest.approx((res["runs"][0]["mmd2"] + res["runs"][1]["mmd2"]) / 2)
    saved = json.loads((tmp_path / "out/seed_sweep.json").read_text())
    assert saved["mode"] == "quick" and saved["runs"]["1"]["n_samples"] == 1000
    assert "Seeds meeting all of them: **0 of 2**" in (tmp_path / "out/README.md").read_text()
    assert (tmp_path / "out/seed_sweep.png").is_file()
    assert (tmp_path / "runs/seed1/checkpoints/last.pt").is_file()

    def no_eval(*a, **k):
        raise AssertionError("the cached evaluation should have been reused")

    monkeypatch.setattr(ipm.sweeps, "evaluate_run", no_eval)
    again = sweep(config, [0, 1], out=tmp_path / "out2", **kw)
    assert again["runs"] == res["runs"]
    assert "Each seed trains with 1 thread(s)" in (tmp_path / "out2/README.md").read_text()
    monkeypatch.undo()
    # two processes: seed 0 is reused as it stands, seed 2 trains in a worker
    par = sweep(config, [0, 2], jobs=2, out=tmp_path / "out3", **kw)
    assert par["runs"][0] == res["runs"][0]
    assert par["runs"][2] != res["runs"][0]
    assert (tmp_path / "runs/seed2/checkpoints/last.pt").is_file()
    # a bad override is refused before any seed trains
    with pytest.raises(Exception, match="train.bogus"):
        sweep(config, [7], ["train.bogus=1"], runs_dir=tmp_path / "r7", quick=True)
    assert not (tmp_path / "r7").exists()


def test_a_seed_whose_run_fails_is_kept_as_failed_and_the_others_go_on(tmp_path, monkeypatch):
    """A run whose status says failed is a seed's outcome: recorded with its reason and step,
    left out of the summary, meeting no figure, named in the report; an error that leaves no
    failed status (here: a directory of another config) stops the sweep."""
    import ipm.sweeps
    from ipm.sweeps import sweep, train_and_evaluate

    def diverges(config, over, run):
        run.mkdir(parents=True)
        (run / "status.json").write_text('{"state": "failed", "step": 7, "reason": "NaN loss"}')
        raise FloatingPointError("NaN loss")

    monkeypatch.setattr(ipm.sweeps, "ensure_run", diverges)
    out = train_and_evaluate("c.yaml", [], tmp_path / "bad", False, 1)
    assert out == {"failed": "NaN loss", "step": 7}

    def mismatch(config, over, run):
        raise ValueError("holds a run of another config")

    monkeypatch.setattr(ipm.sweeps, "ensure_run", mismatch)
    with pytest.raises(ValueError, match="another config"):
        train_and_evaluate("c.yaml", [], tmp_path / "other", False, 1)

    runs = {0: {"mmd2": 0.5, "n_samples": 10}, 1: out, 2: {"mmd2": 1.5, "n_samples": 10}}
    monkeypatch.setattr(
        ipm.sweeps, "train_and_evaluate", lambda c, o, run, q, t: runs[int(o[0][5:])]
    )
    config = "experiments/configs/gaussians/gan.yaml"
    res = sweep(config, [0, 1, 2], reference={"mmd2": 1.0}, out=tmp_path / "o", runs_dir=tmp_path)
    assert res["runs"][1] == {"failed": "NaN loss", "step": 7}
    assert res["summary"]["mmd2"] == {"median": 1.0, "min": 0.5, "max": 1.5}
    assert res["n_meeting"] == {"mmd2": 1} and res["meets"][1] == {"mmd2": False}
    page = (tmp_path / "o/README.md").read_text()
    assert "**1 of 3 seeds failed**" in page and "seed 1 after step 7: NaN loss" in page
    assert "| 1 | failed |" in page

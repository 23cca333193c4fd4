"""``python -m experiments.training_length``: quality against training length over seeds, each
seed one run whose kept checkpoints stand for the shorter configs."""

from __future__ import annotations

import json

import pytest


def test_training_length_evaluates_each_kept_step_as_a_shorter_run_would(tmp_path):
    from experiments.runs import config
    from experiments.training_length import main
    from ipm.engine import ensure_run
    from ipm.evaluate import evaluate_run

    small = ["eval.n_samples=300"]
    out, runs = tmp_path / "out", tmp_path / "runs"
    res = main(["--data", "gaussians", "--model", "gan", "--at", "40", "20", "--seeds", "0", "1",
                "--set", *small, "--out", str(out), "--runs", str(runs)])  # fmt: skip
    assert res["at"] == [20, 40] and res["n_samples"] == 300
    # the step-20 checkpoint of seed 1 is the run a 20-step config ends with
    alone = ensure_run(
        config("gaussians", "gan"),
        [*small, "train.steps=20", "seed=1", "train.threads=1", "train.progress=false"],
        tmp_path / "alone",
    )
    timeless = lambda r: {k: v for k, v in r.items() if "seconds" not in k}  # noqa: E731
    assert timeless(res["runs"]["1"]["steps"]["20"]) == timeless(evaluate_run(alone))
    assert res["runs"]["1"]["steps"]["40"] != res["runs"]["1"]["steps"]["20"]
    # the summary is the seeds' spread, and the page prints it
    w2 = sorted(res["runs"][s]["steps"]["40"]["w2"] for s in ("0", "1"))
    assert res["summary"]["by_step"]["40"]["w2"] == {
        "median": sum(w2) / 2, "min": w2[0], "max": w2[1]
    }  # fmt: skip
    better = sum(r["steps"]["40"]["w2"] < r["steps"]["20"]["w2"] for r in res["runs"].values())
    assert res["summary"]["last_better_in_seeds"]["w2"] == better
    page = (out / "gaussians-gan" / "README.md").read_text()
    assert f"{w2[1]:.4g}]" in page and (out / "gaussians-gan" / "steps.png").stat().st_size > 0
    saved = json.loads((out / "gaussians-gan" / "training_length.json").read_text())
    assert saved["summary"] == json.loads(json.dumps(res["summary"]))
    # a second invocation reuses the runs and the cached evaluations
    again = main(["--data", "gaussians", "--model", "gan", "--at", "20", "40", "--seeds", "0",
                  "1", "--set", *small, "--out", str(out), "--runs", str(runs)])  # fmt: skip
    assert again["runs"] == json.loads(json.dumps(res["runs"]))
    # and its page names them, as the wall time leaves them out; the first reused nothing
    assert not any(r["run"] or r["steps"] for r in res["reused"].values())
    assert again["reused"] == {s: {"run": True, "steps": [20, 40]} for s in ("0", "1")}
    page = (out / "gaussians-gan" / "README.md").read_text()
    assert "Runs trained, wholly or in part, by an earlier invocation into the same" in page
    assert "seed 0, seed 1" in page and "seed 1 at 40" in page


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--at", "20"], "at least two"),
        (["--at", "0", "20"], "positive"),
        (["--at", "20", "40", "--set", "train.lr_decay=cosine"], "train.lr_decay"),
        (["--at", "20", "40", "--set", "model.nope=1"], "model.nope"),
    ],
)
def test_training_length_refuses_what_it_cannot_compare(tmp_path, args, match):
    from experiments.training_length import main

    with pytest.raises(Exception, match=match):
        main(["--data", "gaussians", "--model", "gan", "--out", str(tmp_path), *args])

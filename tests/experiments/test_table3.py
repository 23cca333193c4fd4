"""``python -m experiments.table3 --quick``: all six models, cached evaluations, the noise column."""

from __future__ import annotations

import json

import pytest

from experiments import ROOT


def test_table3_quick(tmp_path, capsys):
    from experiments.table3 import MODELS, main

    res = main(["--quick", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")])
    assert set(res["gaussians"]) == set(MODELS)
    md = (tmp_path / "out/README.md").read_text()
    for m, r in res["gaussians"].items():
        assert r["n_samples"] == 1000, m
        assert f"{r['mmd2']:.2e}" in md, m
    assert "| metric | EDM | Discr. Flow | GAN | Score GAN | SD flow | DMMD |" in md
    assert "not comparable" in md  # the paper's Inception-FIDs are labelled, not mixed in
    # a second table, in two worker processes, reuses the cached evaluations of unchanged
    # checkpoints (the Score GAN's EDM joins it) ...
    capsys.readouterr()
    again = main(
        ["--quick", "--models", "gan", "score_gan", "--jobs", "2",
         "--out", str(tmp_path / "o2"), "--runs", str(tmp_path / "runs")]
    )  # fmt: skip
    for m in ("edm", "gan", "score_gan"):
        assert again["gaussians"][m] == res["gaussians"][m], m
    saved = json.loads((tmp_path / "o2/table3.json").read_text())
    assert sorted(saved["reused"]) == ["gaussians/edm", "gaussians/gan", "gaussians/score_gan"]
    # ... but not of a changed one
    cache = tmp_path / "runs/gaussians/gan/table3_eval.json"
    saved = json.loads(cache.read_text())
    saved["key"]["checkpoint_sha256"] = "0" * 64
    cache.write_text(json.dumps(saved))
    capsys.readouterr()
    main(["--quick", "--models", "gan", "--out", str(tmp_path / "o3"),
          "--runs", str(tmp_path / "runs")])  # fmt: skip
    assert "evaluation reused" not in capsys.readouterr().out
    # a finished run is reused only with the same config
    from ipm.engine import ensure_run

    with pytest.raises(ValueError, match="another config"):
        ensure_run(
            "experiments/configs/gaussians/gan.yaml",
            ["train.steps=60", "model.loss=ipm"],
            tmp_path / "runs/gaussians/gan",
        )


def test_table3_noise_reference_is_far_from_the_digits_and_labelled():
    """The noise column: pure noise against the digits scores a much larger classifier-FID than
    the data against itself would, and the table prints it beside the models with its caveat."""
    from types import SimpleNamespace

    from experiments.table3 import markdown, noise_reference

    a = SimpleNamespace(quick=True, inception_weights=None)
    r = noise_reference("digits", a)
    assert r["n_samples"] == 1000 and r["fid_counts"] == [1000, 1000]
    assert r["fid"] > 100 and r["recall"] < 0.05 and 0 <= r["precision"] <= 1
    md = markdown({"results": {"digits": {"noise": r}}})
    assert "noise (reference)" in md and "never alone" in md


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the repository's git history")
def test_table3_shows_the_figures_of_a_committed_table_beside():
    """--before REV: the committed table's figures, per data set and model, in parentheses."""
    from experiments.table3 import before, markdown

    out = ROOT / "docs/results/table3"
    prev = before("HEAD", out, ["mnist", "nowhere"])
    assert set(prev["results"]) == {"mnist"} and len(prev["commit"]) == 40
    committed = prev["results"]
    assert committed["mnist"]["edm"]["fid"] > 0
    now = {"mnist": {m: dict(r, fid=12.5) for m, r in committed["mnist"].items()}}
    md = markdown({"results": now, "before": prev})
    assert f"| classifier-FID | 12.5 ({committed['mnist']['edm']['fid']:.3g}) |" in md
    assert f"`{prev['commit'][:7]}`" in md
    with pytest.raises(ValueError, match="no-such-revision"):
        before("no-such-revision", out, ["mnist"])


def test_table3_keeps_what_this_command_did_not_run_from_the_earlier_page(tmp_path):
    """Re-running some data sets or models keeps the others' results and grids from the page's
    earlier JSON, named with the command and hardware that measured them; a second partial
    re-run keeps naming the original source."""
    from experiments.table3 import keep_earlier, markdown

    r = lambda fid: {"fid": fid, "kid": 1.0, "precision": 0.5, "recall": 0.5, "nfe": 1,  # noqa: E731
                     "n_samples": 10, "feature_space": "f", "fid_counts": [10, 10]}  # fmt: skip
    g = {"w2": 0.5, "mmd2": 1e-3, "off_mode_fraction": 0.1, "modes_covered": 5, "n_modes": 5,
         "nfe": 1, "n_samples": 10}  # fmt: skip
    path = tmp_path / "table3.json"
    earlier = {
        "command": "python -m experiments.table3 --data gaussians mnist",
        "hardware": "host A",
        "results": {"gaussians": {"gan": g}, "mnist": {"edm": r(300.0), "gan": r(150.0)}},
        "grids": {"mnist": {"edm": {"path": "grids/mnist/edm.png", "drawn_by": "x"}}},
    }
    path.write_text(json.dumps(earlier))
    now = {"results": {"mnist": {"gan": r(90.0)}}, "grids": {}, "reused": []}
    res = keep_earlier(now, path)
    assert list(res["results"]) == ["gaussians", "mnist"]  # the data sets' own order
    assert res["results"]["mnist"]["gan"]["fid"] == 90.0  # this run's figure wins
    assert res["results"]["mnist"]["edm"]["fid"] == 300.0
    assert res["results"]["gaussians"]["gan"] == g
    assert res["grids"] == {"mnist": {"edm": earlier["grids"]["mnist"]["edm"]}}
    src = {"command": earlier["command"], "hardware": "host A"}
    assert res["kept"] == {"gaussians/gan": src, "mnist/edm": src}
    md = markdown(res)
    assert "kept from the page's earlier invocation `python -m experiments.table3 --data " in md
    assert "(host A): gaussians/gan, mnist/edm." in md
    assert "| classifier-FID | 300 | 90 |" in md and "| W2 | 0.5 |" in md
    # the next partial run reads this page: the kept figures keep their first source
    path.write_text(json.dumps({"command": "second", "hardware": "host B", **res}))
    again = keep_earlier({"results": {"gaussians": {"gan": g}}, "grids": {}}, path)
    assert again["kept"] == {
        "mnist/edm": src,
        "mnist/gan": {"command": "second", "hardware": "host B"},
    }
    assert keep_earlier(now, tmp_path / "none.json") is now  # no earlier page

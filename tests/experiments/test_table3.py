"""``python -m experiments.table3 --quick``: all six models, cached evaluations, the noise column."""

from __future__ import annotations

import json

import pytest


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
    # a second table reuses the cached evaluation of an unchanged checkpoint ...
    again = main(
        [
            "--quick",
            "--models",
            "gan",
            "--out",
            str(tmp_path / "o2"),
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    assert again["gaussians"]["gan"] == res["gaussians"]["gan"]
    assert "evaluation reused" in capsys.readouterr().out
    # ... but not of a changed one
    cache = tmp_path / "runs/gaussians/gan/table3_eval.json"
    saved = json.loads(cache.read_text())
    saved["key"]["checkpoint_sha256"] = "0" * 64
    cache.write_text(json.dumps(saved))
    main(
        [
            "--quick",
            "--models",
            "gan",
            "--out",
            str(tmp_path / "o3"),
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
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

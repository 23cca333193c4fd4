"""``python -m experiments.class_balance`` on an image run."""

from __future__ import annotations

import json

import pytest


def test_experiment_on_an_image_run(tmp_path):
    from experiments.class_balance import main
    from tests.image_fixtures import tiny_mnist_gan_run

    run = tiny_mnist_gan_run(tmp_path)
    rows = main([str(run), "--quick", "--out", str(tmp_path / "out")])
    assert rows["data"]["tv_to_reference"] == pytest.approx(0.0, abs=1e-12)
    assert rows["data"]["n"] == 8  # the fake data set holds 8 images
    r = rows[str(run)]
    assert r["n"] == 200 and sum(r["shares"]) == pytest.approx(1.0)
    out = json.loads((tmp_path / "out/class_balance.json").read_text())
    assert out["mode"] == "quick" and (tmp_path / "out/class_balance.png").is_file()

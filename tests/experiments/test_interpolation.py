"""``python -m experiments.interpolation`` on an image run."""

from __future__ import annotations

import pytest
import torch


def test_interpolation_on_an_image_run(tmp_path):
    from experiments.interpolation import main, path_stats
    from tests.image_fixtures import tiny_mnist_gan_run

    run = tiny_mnist_gan_run(tmp_path)
    res = main([str(run), "--quick", "--out", str(tmp_path / "out")])
    assert {r["method"] for r in res.values()} == {"spherical_cauchy_linear", "linear"}
    assert all(r["path_length_ratio"] >= 1 - 1e-6 for r in res.values())
    assert (tmp_path / "out/gan_linear.png").is_file()
    straight = torch.linspace(0, 1, 5)[None, :, None] * torch.ones(1, 5, 3)
    assert path_stats(straight) == pytest.approx((1.0, 0.25))

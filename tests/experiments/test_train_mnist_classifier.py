"""``python -m experiments.train_mnist_classifier``: it trains and writes weights and a record."""

from __future__ import annotations

import json

import pytest
import torch

from ipm.metrics.classifier import (
    load_mnist_classifier,
)
from tests.image_fixtures import fake_mnist


def test_training_script_runs_and_writes_weights_and_record(tmp_path):
    from experiments.train_mnist_classifier import main

    root = fake_mnist(tmp_path / "m", n=64)
    out = tmp_path / "w" / "clf.pt"
    rec = main(["--root", str(root), "--epochs", "1", "--batch-size", "32", "--out", str(out)])
    assert out.is_file() and json.loads(out.with_suffix(".json").read_text()) == rec
    again = main(["--root", str(root), "--epochs", "1", "--batch-size", "32", "--out", str(out)])
    figures = ("test_accuracy", "fid_floor_test_vs_train", "fid_floor_counts", "parameters")
    assert {k: again[k] for k in figures} == {k: rec[k] for k in figures}  # seeded: reproducible
    net = load_mnist_classifier(out)
    assert net.embed(torch.zeros(1, 1, 32, 32)).shape == (1, 128)
    with pytest.raises(FileNotFoundError, match="train_mnist_classifier"):
        load_mnist_classifier(tmp_path / "none.pt")

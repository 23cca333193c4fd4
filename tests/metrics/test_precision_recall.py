"""k-NN precision and recall (:mod:`ipm.metrics.precision_recall`)."""

from __future__ import annotations

import torch

from ipm.metrics import (
    knn_radii,
    precision_recall,
)


def test_precision_recall_cases():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(500, 4, generator=g)
    pr = precision_recall(real, real.clone())
    assert (pr.precision, pr.recall) == (1.0, 1.0)
    far = precision_recall(real, torch.randn(500, 4, generator=g) + 100)
    assert (far.precision, far.recall) == (0.0, 0.0)
    # fakes on one half-space of the reals: precise, but they cover only about half the data
    half = real[real[:, 0] > 0]
    pr = precision_recall(real, half)
    assert pr.precision == 1.0 and 0.3 < pr.recall < 0.7
    r = knn_radii(torch.tensor([[0.0], [1.0], [3.0]]), k=1)
    assert r.tolist() == [1.0, 1.0, 2.0]

"""FID from features (:mod:`ipm.metrics.image_quality`)."""

from __future__ import annotations

import pytest
import torch

from ipm.metrics import (
    fid_from_features,
)


def test_fid_from_features_detects_a_shift():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3000, 8, generator=g)
    assert fid_from_features(x, torch.randn(3000, 8, generator=g)) < 0.05
    assert fid_from_features(x, torch.randn(3000, 8, generator=g) + 1) == pytest.approx(8, rel=0.05)

"""Feature spaces and streamed feature statistics (:mod:`ipm.metrics.features`)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import torch

from ipm.metrics.features import feature_space, feature_stats


def test_torch_fidelity_space_contract(monkeypatch, tmp_path):
    """Without the extra, a clear ImportError; with it, uint8 RGB goes in, 2048-d comes out."""
    monkeypatch.setitem(sys.modules, "torch_fidelity", None)
    with pytest.raises(ImportError, match=r"ipm\[fid\]"):
        feature_space("torch-fidelity", tmp_path / "w.pth")
    seen = {}

    class FakeExtractor(torch.nn.Module):
        def __init__(self, name, features, feature_extractor_weights_path):
            super().__init__()
            seen["args"] = (name, tuple(features), feature_extractor_weights_path)

        def forward(self, x):
            seen["input"] = x
            return (x.float().mean((2, 3)).repeat(1, 683)[:, :2048],)

    mod = types.ModuleType("torch_fidelity.feature_extractor_inceptionv3")
    mod.FeatureExtractorInceptionV3 = FakeExtractor
    monkeypatch.setitem(sys.modules, "torch_fidelity", types.ModuleType("torch_fidelity"))
    monkeypatch.setitem(sys.modules, "torch_fidelity.feature_extractor_inceptionv3", mod)
    w = tmp_path / "w.pth"
    w.write_bytes(b"x")
    space = feature_space("torch-fidelity", w)
    f = space(torch.tensor([-1.0, 1.0]).view(2, 1, 1, 1).expand(2, 1, 4, 4))
    assert seen["args"] == ("inception-v3-compat", ("2048",), str(w))
    assert seen["input"].dtype == torch.uint8 and seen["input"].shape == (2, 3, 4, 4)
    assert seen["input"][0].max() == 0 and seen["input"][1].min() == 255
    assert f.shape == (2, 2048)


def test_feature_space_rejects_unknown_name():
    with pytest.raises(ValueError, match="'vgg'"):
        feature_space("vgg")


def test_feature_stats_streams_batches_and_keeps_rows():
    space = feature_space("classifier")
    g = torch.Generator().manual_seed(0)
    batches = [torch.rand(5, 1, 32, 32, generator=g) * 2 - 1 for _ in range(3)]
    stats, kept = feature_stats(space, iter(batches), keep=7)
    allf = space(torch.cat(batches)).double()
    assert stats.n == 15 and kept.shape == (7, 128)
    np.testing.assert_allclose(stats.fit().mean, allf.mean(0).numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="NaN"):
        space(torch.full((1, 1, 32, 32), float("nan")))

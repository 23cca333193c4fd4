"""FID-InceptionV3 from a local weights file (:mod:`ipm.metrics.inception`)."""

from __future__ import annotations

import pytest
import torch

from ipm.metrics.features import feature_space
from ipm.metrics.inception import (
    INCEPTION_ENV,
    INCEPTION_FILE,
    FIDInceptionV3,
    InceptionWeightsError,
    load_fid_inception,
)


@pytest.fixture(scope="module")
def inception_file(tmp_path_factory):
    torch.manual_seed(0)
    net = FIDInceptionV3()
    path = tmp_path_factory.mktemp("inc") / INCEPTION_FILE
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save(state, path)  # like the 2015 port: no BatchNorm step counters
    return path


def test_inception_loads_from_path_and_gives_pool_features(inception_file, monkeypatch):
    net = load_fid_inception(inception_file)
    imgs = torch.rand(2, 3, 32, 32) * 2 - 1
    f = net(imgs)
    assert f.shape == (2, 2048) and torch.isfinite(f).all()
    assert (f >= 0).all()  # average of ReLU outputs
    # the folder holding the file, and the environment variable, give the same network
    monkeypatch.setenv(INCEPTION_ENV, str(inception_file.parent))
    torch.testing.assert_close(load_fid_inception()(imgs), f)
    space = feature_space("inception", inception_file)
    grey = space(imgs[:, :1])
    assert grey.shape == (2, 2048)
    torch.testing.assert_close(grey, net(imgs[:, :1].expand(-1, 3, -1, -1)))


def test_inception_missing_file_raises_documented_error(tmp_path, monkeypatch):
    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    with pytest.raises(InceptionWeightsError, match=INCEPTION_ENV):
        load_fid_inception()
    missing = tmp_path / "nowhere" / INCEPTION_FILE
    with pytest.raises(InceptionWeightsError, match=str(missing).replace("\\", "\\\\")) as e:
        load_fid_inception(missing)
    assert "never downloaded" in str(e.value)
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, bad)
    with pytest.raises(RuntimeError, match="does not match FID-InceptionV3"):
        load_fid_inception(bad)
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(InceptionWeightsError, match="cannot read"):
        load_fid_inception(tmp_path / "junk.pth")

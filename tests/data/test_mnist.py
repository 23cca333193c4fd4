"""MNIST from its IDX files (:mod:`ipm.data.mnist`): round trips, padding, and errors naming the
file or variable; the real files where ``../shared/data/mnist`` holds them."""

import gzip

import numpy as np
import pytest
import torch

from ipm.data import DataError, load_mnist, read_idx
from tests.helpers import SHARED_MNIST
from tests.image_fixtures import fake_mnist, write_idx


def test_idx_round_trip_and_padding(tmp_path):
    folder = fake_mnist(tmp_path / "m", n=5)
    raw = read_idx(folder / "train-images-idx3-ubyte.gz")
    imgs, labels = load_mnist(folder, "train")
    assert len(imgs) == 5 and labels.shape == (5,) and imgs.shape == (1, 32, 32)
    x = imgs.images(torch.arange(5))
    # the 2-pixel border is background (−1), the centre is the file's pixels scaled to [−1, 1]
    assert torch.all(x[:, :, :2] == -1) and torch.all(x[:, :, :, -2:] == -1)
    want = torch.from_numpy(raw.astype(np.float32)) / 127.5 - 1
    assert torch.allclose(x[:, 0, 2:30, 2:30], want, atol=1e-6)
    assert imgs.sample(7, generator=torch.Generator().manual_seed(0)).shape == (7, 1024)


def test_mnist_missing_file_names_it(tmp_path):
    folder = fake_mnist(tmp_path / "m")
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz"):
        load_mnist(folder, "train")


def test_mnist_no_folder_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("IPM_MNIST_DIR", raising=False)
    with pytest.raises(DataError, match="IPM_MNIST_DIR"):
        load_mnist("", "train")
    with pytest.raises(DataError, match="nowhere"):
        load_mnist(tmp_path / "nowhere", "train")
    monkeypatch.setenv("IPM_MNIST_DIR", str(fake_mnist(tmp_path / "env", n=3)))
    assert len(load_mnist("", "test")[0]) == 3


def test_mnist_corrupt_gz_names_it(tmp_path):
    folder = fake_mnist(tmp_path / "m")
    bad = folder / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(b"this is not gzip data at all")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz.*not a valid .gz"):
        load_mnist(folder, "test")
    # a valid gzip stream cut short
    good = gzip.compress(bytes([0, 0, 8, 3]) + (4).to_bytes(4, "big") + bytes(8) + bytes(100))
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(folder, "test")


def test_mnist_header_mismatch_names_it(tmp_path):
    folder = fake_mnist(tmp_path / "m")
    path = folder / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "wb") as f:  # header says 16 images, data holds fewer bytes
        f.write(
            bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (16, 28, 28)) + bytes(50)
        )
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz.*truncated or corrupt"):
        load_mnist(folder, "train")
    write_idx(path, np.zeros((3, 28, 28)))  # 3 images, 16 labels
    with pytest.raises(DataError, match="one label per image"):
        load_mnist(folder, "train")


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"needs the MNIST files in {SHARED_MNIST}")
def test_real_mnist_files():
    train, labels = load_mnist(SHARED_MNIST, "train")
    test, test_labels = load_mnist(SHARED_MNIST, "test")
    assert (len(train), len(test)) == (60000, 10000)
    assert labels[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]  # the files' published first labels
    assert test_labels[:4].tolist() == [7, 2, 1, 0]
    x = train.images(torch.arange(1000))
    assert x.min() == -1 and x.max() == 1
    assert torch.all(x[..., :2, :] == -1)  # padding
    # mean pixel intensity of MNIST train is 0.1307 on the 28×28 images
    mean28 = (x[..., 2:30, 2:30] + 1).mean() / 2
    assert abs(float(mean28) - 0.1307) < 0.01

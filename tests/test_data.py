"""Data loaders (issue 5): MNIST IDX files, scikit-learn digits, image folders, and their errors."""

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ipm.data import DataError, ImageFolder, load_digits, load_mnist, read_idx
from ipm.data.folder import load_image
from tests.image_fixtures import fake_image_folder, fake_mnist, write_idx

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


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


def test_digits():
    d8, labels = load_digits(8)
    assert len(d8) == 1797 and d8.shape == (1, 8, 8) and labels.max() == 9
    x = d8.images(torch.arange(len(d8)))
    assert x.min() == -1 and x.max() == 1
    d32, _ = load_digits(32)
    assert d32.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1024)
    with pytest.raises(ValueError, match="size"):
        load_digits(12)


def test_image_folder_center_crop_resize(tmp_path):
    from PIL import Image

    folder = fake_image_folder(tmp_path / "imgs", n=5)
    data = ImageFolder(folder, size=16, channels=3)
    assert len(data) == 5 and data.shape == (3, 16, 16)
    assert data.sample(4, generator=torch.Generator().manual_seed(0)).shape == (4, 768)
    # a wide image: black 20-px bands left and right, white 40×40 centre -> a white crop
    a = np.zeros((40, 80, 3), np.uint8)
    a[:, 20:60] = 255
    Image.fromarray(a, "RGB").save(tmp_path / "wide.png")
    x = load_image(tmp_path / "wide.png", 8, 3)
    assert x.shape == (3, 8, 8) and torch.allclose(x, torch.ones_like(x), atol=1e-6)


def test_image_folder_errors_name_the_path(tmp_path, monkeypatch):
    from PIL import Image

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="empty.*holds no images"):
        ImageFolder(empty)
    with pytest.raises(DataError, match="missing"):
        ImageFolder(tmp_path / "missing")
    monkeypatch.delenv("IPM_CELEBA_DIR", raising=False)
    with pytest.raises(DataError, match="IPM_CELEBA_DIR"):
        ImageFolder("")
    folder = fake_image_folder(tmp_path / "imgs", n=2)
    Image.fromarray(np.zeros((30, 30), np.uint8), "L").save(folder / "gray.png")
    data = ImageFolder(folder, size=8)
    gray = [i for i, f in enumerate(data.files) if f.name == "gray.png"]
    with pytest.raises(DataError, match=r"gray\.png.*mode 'L', expected 'RGB'"):
        data.images(torch.tensor(gray))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    data = ImageFolder(folder, size=8)
    broken = [i for i, f in enumerate(data.files) if f.name == "broken.jpg"]
    with pytest.raises(DataError, match=r"broken\.jpg"):
        data.images(torch.tensor(broken))
    assert os.path.exists(folder)

"""Image folders (:mod:`ipm.data.folder`): centre crop and resize, and errors naming the path."""

import os

import numpy as np
import pytest
import torch

from ipm.data import DataError, ImageFolder
from ipm.data.folder import load_image
from tests.image_fixtures import fake_image_folder


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


def test_in_memory_holds_the_same_images_as_uint8_and_keeps_hflip(tmp_path):
    from ipm.data import TensorImages, dataset
    from ipm.data.config import ImageFolderData

    folder = fake_image_folder(tmp_path / "imgs", n=5)
    streamed = dataset(ImageFolderData(root=str(folder), size=16, hflip=True))
    held = streamed.in_memory(progress=False)
    assert isinstance(held, TensorImages) and held.pixels.dtype == torch.uint8
    assert held.hflip and held.shape == streamed.shape == (3, 16, 16)
    idx = torch.arange(5)
    torch.testing.assert_close(held.images(idx), streamed.images(idx), rtol=0, atol=0)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert torch.equal(held.sample(7, generator=g1), streamed.sample(7, generator=g2))

"""Small stand-ins for image data, generated in a temporary folder: MNIST-format IDX files and
an image folder (CelebA-like), so image tests never need the real data."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ipm.data import MNIST_FILES


def write_idx(path: Path, arr: np.ndarray) -> None:
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.astype(np.uint8).tobytes())


def fake_mnist(folder: Path, n: int = 16, seed: int = 0) -> Path:
    """The four MNIST files with ``n`` random 28×28 images (and labels) per split."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for img, lab in MNIST_FILES.values():
        write_idx(folder / img, rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / lab, rng.integers(0, 10, (n,)))
    return folder


def fake_image_folder(folder: Path, n: int = 6, seed: int = 0, size=(80, 60)) -> Path:
    """``n`` random RGB images (JPEG and PNG, in a sub-folder too)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        where = folder / "sub" if i % 2 else folder
        Image.fromarray(a, "RGB").save(where / f"img{i}.{'png' if i % 3 == 0 else 'jpg'}")
    return folder


def tiny_mnist_gan_run(tmp_path: Path) -> Path:
    """A 2-step MNIST-cpu GAN (widths 4, batch 4) on 8 fake images, trained into tmp_path/gan."""
    from ipm.engine import load_config, train

    cfg = load_config(
        "experiments/configs/mnist-cpu/gan.yaml",
        [
            f"data.root={fake_mnist(tmp_path / 'm', n=8)}",
            "model.generator.width=4",
            "model.discriminator.width=4",
            "train.steps=2",
            "train.batch_size=4",
            "train.progress=false",
            "eval.grid=4",
        ],
    )
    train(cfg, tmp_path / "gan")
    return tmp_path / "gan"

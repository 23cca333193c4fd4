"""MNIST from the four official IDX ``.gz`` files (LeCun et al.), read locally, never downloaded.

The folder is ``data.root`` in a run config, else the environment variable ``IPM_MNIST_DIR``.
Images are padded with 2 pixels of background to 32×32 (the paper's MNIST setting) and scaled
to [−1, 1]. A missing file, a corrupt ``.gz`` or an IDX header that does not match the file
raises :class:`~ipm.data.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .errors import DataError
from .images import TensorImages

__all__ = ["ENV_MNIST", "MNIST_FILES", "load_mnist", "mnist_dir", "read_idx"]

ENV_MNIST = "IPM_MNIST_DIR"
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_HOW = (
    "put the four official files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) in one folder and pass it as "
    f"data.root or in ${ENV_MNIST}"
)


def mnist_dir(root: str | Path | None = None) -> Path:
    """The MNIST folder: ``root`` if given, else ``$IPM_MNIST_DIR``."""
    root = root or os.environ.get(ENV_MNIST, "")
    if not root:
        raise DataError(
            f"MNIST: no folder given (data.root is empty and ${ENV_MNIST} is unset); {_HOW}"
        )
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DataError(f"MNIST: folder {str(path)!r} does not exist; {_HOW}")
    return path


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file (gzip-compressed), checked against its header."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"MNIST: missing file {str(path)!r}; {_HOW}")
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(
            f"MNIST: {str(path)!r} is not a valid .gz file ({e}); replace it with the official file"
        ) from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"MNIST: {str(path)!r} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    head = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != head + int(np.prod(dims)):
        raise DataError(
            f"MNIST: {str(path)!r} holds {len(raw) - head} bytes of data, its header says {dims} "
            f"({int(np.prod(dims))} bytes): truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=head).reshape(dims)


def load_mnist(root: str | Path | None = None, split: str = "train", pad: bool = True):
    """(images, labels): ``TensorImages`` of (N, 1, 32, 32) (28×28 with ``pad=False``) and (N,)."""
    if split not in MNIST_FILES:
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    folder = mnist_dir(root)
    img_name, lab_name = MNIST_FILES[split]
    imgs, labels = read_idx(folder / img_name), read_idx(folder / lab_name)
    if imgs.ndim != 3 or labels.ndim != 1 or imgs.shape[0] != labels.shape[0]:
        raise DataError(
            f"MNIST: {str(folder / img_name)!r} {imgs.shape} and {str(folder / lab_name)!r} "
            f"{labels.shape} do not form an image set with one label per image"
        )
    x = torch.from_numpy(imgs.copy())[:, None]
    if pad:
        x = F.pad(x, (2, 2, 2, 2))
    return TensorImages(x, 255.0, f"mnist-{split}"), torch.from_numpy(labels.astype(np.int64))

"""An image folder (e.g. CelebA's ``img_align_celeba``), streamed from disk or held in memory.

Every image file under ``root`` (recursively; .jpg .jpeg .png .bmp .webp) is one sample:
center-cropped to a square, resized to ``size`` with Lanczos, scaled to [−1, 1]. An
:class:`ImageFolder` reads an image when it is drawn; :meth:`ImageFolder.in_memory` decodes them
all once into uint8 :class:`~ipm.data.TensorImages` (CelebA at 64×64: 2.4 GB), which training
then keeps on its device, so that no step waits for a decoder. An
image whose mode is not the expected one (RGB for 3 channels, L for 1) is an error naming the
file — nothing is converted silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from .errors import DataError
from .images import ImageData, TensorImages, to_unit_range

__all__ = ["ENV_CELEBA", "IMAGE_EXTENSIONS", "ImageFolder", "load_image", "read_pixels"]

ENV_CELEBA = "IPM_CELEBA_DIR"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def load_image(path: Path, size: int, channels: int) -> torch.Tensor:
    """One image as (C, size, size) float32 in [−1, 1]."""
    return to_unit_range(read_pixels(path, size, channels), 255.0)


def read_pixels(path: Path, size: int, channels: int) -> torch.Tensor:
    """One image as (C, size, size) uint8."""
    from PIL import Image, UnidentifiedImageError

    want = "RGB" if channels == 3 else "L"
    try:
        with Image.open(path) as im:
            if im.mode != want:
                raise DataError(
                    f"image folder: {str(path)!r} has mode {im.mode!r}, expected {want!r} "
                    f"({channels} channel(s)); convert it or set data.channels"
                )
            w, h = im.size
            s = min(w, h)
            left, top = (w - s) // 2, (h - s) // 2
            im = im.crop((left, top, left + s, top + s)).resize((size, size), Image.LANCZOS)
            a = np.asarray(im, dtype=np.uint8)
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"image folder: cannot read {str(path)!r} as an image ({e})") from None
    t = torch.from_numpy(a.copy())
    return t[None] if t.ndim == 2 else t.permute(2, 0, 1).contiguous()


class ImageFolder(ImageData):
    """The images under ``root`` (empty: ``$IPM_CELEBA_DIR``), drawn from disk on demand."""

    def __init__(self, root: str | Path = "", size: int = 64, channels: int = 3):
        root = root or os.environ.get(ENV_CELEBA, "")
        if not root:
            raise DataError(
                f"image folder: no folder given (data.root is empty and ${ENV_CELEBA} is unset); "
                "pass the folder of images (e.g. CelebA's img_align_celeba) as data.root"
            )
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise DataError(f"image folder: {str(self.root)!r} does not exist or is not a folder")
        self.files = sorted(
            p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
        )
        if not self.files:
            raise DataError(
                f"image folder: {str(self.root)!r} holds no images ({', '.join(IMAGE_EXTENSIONS)})"
            )
        if channels not in (1, 3):
            raise ValueError(f"channels: expected 1 or 3, got {channels!r}")
        self.size, self.channels = int(size), int(channels)
        self.shape = (self.channels, self.size, self.size)
        self.name = f"folder:{self.root.name}"

    def __len__(self) -> int:
        return len(self.files)

    def images(self, idx: torch.Tensor) -> torch.Tensor:
        return torch.stack([load_image(self.files[int(i)], self.size, self.channels) for i in idx])

    def in_memory(self, progress: bool = True) -> TensorImages:
        """Every image decoded once, as uint8 :class:`~ipm.data.TensorImages` (same order,
        same values as :meth:`images`, same ``hflip``)."""
        from tqdm.auto import tqdm

        pixels = torch.empty((len(self), *self.shape), dtype=torch.uint8)
        files = tqdm(self.files, desc=f"decode {self.name}", disable=not progress, unit="img")
        for i, f in enumerate(files):
            pixels[i] = read_pixels(f, self.size, self.channels)
        data = TensorImages(pixels, 255.0, self.name)
        data.hflip = self.hflip
        return data

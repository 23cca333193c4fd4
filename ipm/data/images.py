"""Image data sets as distributions of flat particles.

An :class:`ImageData` holds (or streams) images in [−1, 1] and draws batches as batch-first
vectors (n, C·H·W), like every other distribution in :mod:`ipm`; ``shape`` is (C, H, W).
Draws use the caller's ``torch.Generator`` (indices with replacement), so training that reads
them resumes exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ImageData", "TensorImages", "to_unit_range"]


def to_unit_range(x: Tensor, high: float) -> Tensor:
    """Pixel values in [0, high] → [−1, 1], float32."""
    return x.float() * (2.0 / high) - 1.0


class ImageData:
    """Base of image data sets: ``shape``, ``dim``, ``len`` and ``sample(n, generator)``."""

    shape: tuple[int, int, int]
    name: str = "images"
    hflip: bool = False  # augmentation: each drawn image mirrored left-right with probability ½

    @property
    def dim(self) -> int:
        c, h, w = self.shape
        return c * h * w

    def __len__(self) -> int:
        raise NotImplementedError

    def images(self, idx: Tensor) -> Tensor:
        """Images ``idx`` as (len(idx), C, H, W) float32 in [−1, 1]."""
        raise NotImplementedError

    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """n images drawn uniformly with replacement, flat: (n, C·H·W); with ``hflip``, each
        mirrored left-right with probability ½ (the coin drawn after the indices, from the same
        generator; the flip itself happens where the images are, e.g. on the GPU)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        idx = torch.randint(len(self), (n,), generator=generator)
        x = self.images(idx)
        if self.hflip:
            flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        return x.reshape(n, -1)


class TensorImages(ImageData):
    """Images held in memory as uint8 (N, C, H, W) with values in [0, ``high``].

    :meth:`to` keeps them on the training device (a quarter of float32's memory): a batch is
    then gathered, converted and resized there, and only its n indices (drawn from the
    caller's CPU generator, so that draws do not depend on the device) cross from the host."""

    def __init__(self, pixels: Tensor, high: float = 255.0, name: str = "images"):
        if pixels.ndim != 4:
            raise ValueError(f"pixels: expected (N, C, H, W), got {tuple(pixels.shape)}")
        self.pixels, self.high, self.name = pixels, float(high), name
        self.shape = tuple(int(s) for s in pixels.shape[1:])  # type: ignore[assignment]

    def __len__(self) -> int:
        return self.pixels.shape[0]

    @property
    def device(self) -> torch.device:
        return self.pixels.device

    def to(self, device: torch.device | str) -> TensorImages:
        """The images moved to ``device`` (in place; returns self)."""
        self.pixels = self.pixels.to(device)
        return self

    def images(self, idx: Tensor) -> Tensor:
        return to_unit_range(self.pixels[idx.to(self.pixels.device)], self.high)

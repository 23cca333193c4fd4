"""Data set configs (``data.name``: gaussians, digits, mnist, image_folder), read by
:func:`ipm.data.dataset`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..config import DataConfig, positive

__all__ = ["DigitsData", "GaussiansData", "ImageFolderData", "MNISTData"]


@dataclass(frozen=True)
class GaussiansData(DataConfig):
    """The 2-D data set: ``n_modes`` Gaussians (std ``std``) on a circle of radius ``radius``."""

    name: Literal["gaussians"] = "gaussians"
    radius: float = 3.0
    std: float = 0.5
    n_modes: int = 5

    def __post_init__(self):
        positive(self, "radius", "std", "n_modes")


@dataclass(frozen=True)
class DigitsData(DataConfig):
    """scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download), scaled to
    [−1, 1] and resized (bilinear) to ``size``×``size``."""

    name: Literal["digits"] = "digits"
    size: Literal[8, 16, 32] = 8


@dataclass(frozen=True)
class MNISTData(DataConfig):
    """MNIST from the four official IDX ``.gz`` files in ``root`` (empty: ``$IPM_MNIST_DIR``),
    padded to 32×32 and scaled to [−1, 1]."""

    name: Literal["mnist"] = "mnist"
    root: str = ""
    split: Literal["train", "test"] = "train"


@dataclass(frozen=True)
class ImageFolderData(DataConfig):
    """Images under ``root`` (empty: ``$IPM_CELEBA_DIR``), e.g. CelebA: center-cropped, resized
    to ``size`` with Lanczos, scaled to [−1, 1]; RGB (``channels`` 3) or grayscale (1);
    ``hflip``: training batches mirrored left-right at random (augmentation, on the device);
    ``in_memory``: for training, decoded once at the start and held as uint8 on the training
    device, else read from disk at every draw (evaluation reads only the images it draws)."""

    name: Literal["image_folder"] = "image_folder"
    root: str = ""
    size: int = 64
    channels: Literal[1, 3] = 3
    hflip: bool = False
    in_memory: bool = True

    def __post_init__(self):
        positive(self, "size")

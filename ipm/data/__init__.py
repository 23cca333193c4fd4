"""Data sets, all read locally (nothing is downloaded): the 2-D Gaussians, scikit-learn's 8×8
digits, MNIST from its IDX files, and image folders (CelebA). Each is a distribution of flat
particles with ``shape``, ``dim`` and ``sample(n, generator=...)``."""

from __future__ import annotations

from .config import DigitsData, GaussiansData, ImageFolderData, MNISTData
from .digits import load_digits
from .errors import DataError
from .folder import ENV_CELEBA, ImageFolder, load_image
from .images import ImageData, TensorImages
from .mnist import ENV_MNIST, MNIST_FILES, load_mnist, read_idx

__all__ = [
    "ENV_CELEBA",
    "ENV_MNIST",
    "MNIST_FILES",
    "DataError",
    "DigitsData",
    "GaussiansData",
    "ImageFolderData",
    "MNISTData",
    "ImageData",
    "ImageFolder",
    "TensorImages",
    "data_shape",
    "dataset",
    "load_digits",
    "load_image",
    "load_mnist",
    "read_idx",
    "training_dataset",
]


def dataset(cfg):
    """The distribution a ``data:`` config section describes (:mod:`ipm.data.config`)."""
    name = cfg.name
    if name == "gaussians":
        from ..distributions import circle_of_gaussians

        return circle_of_gaussians(cfg.n_modes, cfg.radius, cfg.std)
    if name == "digits":
        return load_digits(cfg.size)[0]
    if name == "mnist":
        return load_mnist(cfg.root, cfg.split)[0]
    if name == "image_folder":
        data = ImageFolder(cfg.root, cfg.size, cfg.channels)
        data.hflip = cfg.hflip
        return data
    raise ValueError(f"data.name: unknown data set {name!r}")


def training_dataset(cfg, progress: bool = False):
    """The data set a run trains on: :func:`dataset`, with an image folder whose config says
    ``in_memory`` decoded once into uint8 :class:`TensorImages` (a bar with ``progress``)."""
    data = dataset(cfg)
    if isinstance(cfg, ImageFolderData) and cfg.in_memory:
        data = data.in_memory(progress=progress)
    return data


def data_shape(dist) -> tuple[int, ...]:
    """(D,) for vectors, (C, H, W) for image data sets."""
    return tuple(getattr(dist, "shape", None) or (dist.dim,))

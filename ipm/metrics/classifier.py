"""The MNIST classifier whose penultimate layer is ipm's feature space for FID on MNIST and digits.

A small CNN that ``python -m experiments.train_mnist_classifier`` trains on the MNIST training set;
its state dict ships in the package (``ipm/metrics/weights/mnist_classifier.pt``, float32) with
its test accuracy in ``mnist_classifier.json`` beside it. Inputs are images (N, 1, H, W) in
[−1, 1] (ipm's convention); anything other than 32×32 (digits at 8 or 16 px, raw 28×28 MNIST)
is resized bilinearly to 32×32 first. Features: the 128-d ReLU layer before the logits.

FIDs in this feature space ("classifier-FID") are comparable only with each other, at the same
sample counts, never with Inception-FIDs.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MNISTClassifier", "classifier_info", "load_mnist_classifier", "shipped_weights"]

_WEIGHTS = "mnist_classifier.pt"
_INFO = "mnist_classifier.json"


class MNISTClassifier(nn.Module):
    """conv 32-32 → pool → conv 64-64 → pool → conv 64 → pool → fc 128 (features) → fc 10."""

    features = 128

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4
            nn.Flatten(),
            nn.Linear(64 * 16, self.features),
            nn.ReLU(),
        )
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(self.features, 10)

    @staticmethod
    def prepare(images: Tensor) -> Tensor:
        if images.ndim != 4 or images.shape[1] != 1:
            raise ValueError(
                f"MNISTClassifier: expected grey images (N, 1, H, W), got {tuple(images.shape)}"
            )
        if images.shape[-2:] != (32, 32):
            images = F.interpolate(images, size=(32, 32), mode="bilinear", align_corners=False)
        return images

    def embed(self, images: Tensor) -> Tensor:
        """Penultimate features (N, 128)."""
        return self.body(self.prepare(images.to(self.head.weight.dtype)))

    def forward(self, images: Tensor) -> Tensor:
        """Logits (N, 10)."""
        return self.head(self.dropout(self.embed(images)))


def shipped_weights() -> Path:
    return Path(str(resources.files("ipm.metrics").joinpath("weights", _WEIGHTS)))


def classifier_info() -> dict:
    """What the training script recorded: test accuracy, epochs, seed, wall time, command."""
    p = Path(str(resources.files("ipm.metrics").joinpath("weights", _INFO)))
    if not p.is_file():
        raise FileNotFoundError(f"MNIST classifier: no record {p}")
    return json.loads(p.read_text())


def load_mnist_classifier(path: str | Path | None = None, device="cpu") -> MNISTClassifier:
    """The classifier with the shipped weights (or those at ``path``), in eval mode, frozen."""
    p = Path(path) if path else shipped_weights()
    if not p.is_file():
        raise FileNotFoundError(
            f"MNIST classifier: no weights at {p}; train them with "
            "`python -m experiments.train_mnist_classifier --out <file>`"
        )
    net = MNISTClassifier()
    net.load_state_dict(torch.load(p, map_location="cpu", weights_only=True))
    return net.to(device).eval().requires_grad_(False)

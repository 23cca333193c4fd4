"""scikit-learn's bundled 8×8 handwritten digits (1,797 images; real data shipped with the
package, nothing downloaded), scaled from [0, 16] to [−1, 1] and optionally resized (bilinear)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .images import TensorImages

__all__ = ["load_digits"]


class _Digits(TensorImages):
    def __init__(self, pixels: torch.Tensor, size: int):
        super().__init__(pixels, 16.0, f"digits{size}")
        self.size = size
        self.shape = (1, size, size)

    def images(self, idx):
        x = super().images(idx)
        if self.size != 8:
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return x


def load_digits(size: int = 8):
    """(images, labels): the digits as images of side ``size`` ∈ {8, 16, 32} and their labels."""
    if size not in (8, 16, 32):
        raise ValueError(f"size: expected 8, 16 or 32, got {size!r}")
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    pixels = torch.from_numpy(d.images.astype("uint8"))[:, None]
    return _Digits(pixels, size), torch.from_numpy(d.target.astype("int64"))

"""p×p patches as channels (the patch stem of Hoogeboom et al. 2023's simple diffusion): an
image (N, C, H, W) is run as (N, C·p², H/p, W/p) and its output rearranged back."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def check_patch(patch: int, size: int) -> int:
    """``patch``, a positive divisor of the image ``size``, or a ValueError naming it."""
    if isinstance(patch, bool) or not isinstance(patch, int) or patch < 1 or size % patch:
        raise ValueError(f"patch: expected a positive divisor of size {size}, got {patch!r}")
    return patch


def to_patches(x: Tensor, patch: int) -> Tensor:
    """(N, C, H, W) → (N, C·p², H/p, W/p)."""
    return F.pixel_unshuffle(x, patch) if patch > 1 else x


def from_patches(x: Tensor, patch: int) -> Tensor:
    """(N, C·p², H/p, W/p) → (N, C, H, W), the inverse of :func:`to_patches`."""
    return F.pixel_shuffle(x, patch) if patch > 1 else x

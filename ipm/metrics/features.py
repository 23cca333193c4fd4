"""Feature spaces for FID/KID/precision-recall, and streaming feature statistics of image sets.

Three spaces, each with a name that every reported number carries:

- ``"classifier"``: ipm's shipped MNIST classifier, 128-d (MNIST and the 8×8 digits; grey
  images of any size, resized to 32×32);
- ``"inception"``: FID-InceptionV3 pool features, 2048-d, from the local
  ``pt_inception-2015-12-05`` file (:mod:`.inception`);
- ``"torch-fidelity"``: the same Inception features computed by torch-fidelity (the optional
  extra ``ipm[fid]``, which needs torchvision), from its local weights file.

Numbers from different spaces, or from different sample counts (FID is biased in n), are not
comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn
from tqdm import tqdm

from .frechet import FeatureStats

__all__ = ["FEATURE_SPACES", "FeatureSpace", "feature_space", "feature_stats"]

FEATURE_SPACES = ("classifier", "inception", "torch-fidelity")


@dataclass
class FeatureSpace:
    """A frozen network mapping images (N, C, H, W) in [−1, 1] to features (N, dim)."""

    name: str
    dim: int
    embed: Callable[[Tensor], Tensor]
    device: torch.device

    @torch.no_grad()
    def __call__(self, images: Tensor) -> Tensor:
        if images.ndim != 4:
            raise ValueError(f"{self.name}: expected images (N, C, H, W), got {images.shape}")
        if not torch.isfinite(images).all():
            raise ValueError(f"{self.name}: images hold NaN/inf")
        return self.embed(images.to(self.device)).float()


def _torch_fidelity(weights: str | Path | None, device) -> FeatureSpace:
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError as e:
        raise ImportError(
            "feature space 'torch-fidelity' needs the optional extra: pip install 'ipm[fid]' "
            "(torch-fidelity, which requires torchvision); the core 'inception' space reads the "
            "same weights without it"
        ) from e
    if not weights or not Path(weights).is_file():
        raise FileNotFoundError(
            f"torch-fidelity: no Inception weights file at {weights!r}; copy torch-fidelity's "
            "weights-inception-2015-12-05-6726825d.pth to this machine and pass its path "
            "(it is never downloaded)"
        )
    net = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(weights)
    )
    net = net.to(device).eval()

    def embed(x: Tensor) -> Tensor:
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        u8 = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # its input: uint8 0..255
        return net(u8)[0]

    return FeatureSpace("inception-v3-pool3 (torch-fidelity)", 2048, embed, torch.device(device))


def feature_space(name: str, weights: str | Path | None = None, device="cpu") -> FeatureSpace:
    """The feature space ``name`` ∈ FEATURE_SPACES; ``weights`` overrides the default file."""
    device = torch.device(device)
    if name == "classifier":
        from .classifier import load_mnist_classifier

        net: nn.Module = load_mnist_classifier(weights, device)
        return FeatureSpace("mnist-classifier-128 (ipm)", 128, net.embed, device)
    if name == "inception":
        from .inception import load_fid_inception

        net = load_fid_inception(weights, device)
        return FeatureSpace("inception-v3-pool3 (pt_inception-2015-12-05)", 2048, net, device)
    if name == "torch-fidelity":
        return _torch_fidelity(weights, device)
    raise ValueError(f"feature space: expected one of {FEATURE_SPACES}, got {name!r}")


def feature_stats(
    space: FeatureSpace,
    batches: Iterable[Tensor],
    *,
    total: int | None = None,
    desc: str = "features",
    keep: int = 0,
) -> tuple[FeatureStats, Tensor | None]:
    """Streaming float64 statistics of the features of image ``batches``.

    Only one batch of images and features is in memory at a time, plus the first ``keep``
    feature rows (returned for KID / precision-recall, which need samples, not moments).
    """
    stats, kept = FeatureStats(space.dim), []
    n_kept = 0
    with tqdm(total=total, desc=desc, unit="img", leave=False) as bar:
        for b in batches:
            f = space(b)
            stats.update(f)
            if n_kept < keep:
                kept.append(f[: keep - n_kept].cpu())
                n_kept += kept[-1].shape[0]
            bar.update(b.shape[0])
    return stats, (torch.cat(kept) if kept else None)

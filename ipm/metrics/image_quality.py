"""FID, KID and precision/recall of a sampler against an image data set, in one feature space.

Samples and reference images are streamed in batches through the feature network into float64
running moments (FID); the first ``keep`` feature rows of each side are kept for KID and
precision/recall, which need samples. Every result names its feature space and sample counts:
FID is biased in n, so only numbers with the same space and counts are comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor

from .features import FeatureSpace, feature_stats
from .frechet import frechet_distance
from .kid import kid
from .precision_recall import precision_recall

__all__ = ["image_quality", "reference_batches", "sample_batches"]


def sample_batches(
    sample: Callable[[int], Tensor], n: int, batch: int, shape: tuple[int, ...]
) -> Iterator[Tensor]:
    """n images from ``sample(k) -> (k, C·H·W)``, as batches (k, C, H, W)."""
    done = 0
    while done < n:
        k = min(batch, n - done)
        yield sample(k).reshape(k, *shape)
        done += k


def reference_batches(data, n: int, batch: int, seed: int = 0) -> Iterator[Tensor]:
    """min(n, len(data)) distinct images of ``data`` (an :class:`~ipm.data.ImageData`) in a fixed
    random order, as batches (k, C, H, W)."""
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    for s in range(0, idx.shape[0], batch):
        yield data.images(idx[s : s + batch])


def image_quality(
    space: FeatureSpace,
    samples: Iterator[Tensor],
    reference: Iterator[Tensor],
    *,
    n_samples: int,
    n_reference: int,
    keep: int = 5000,
    kid_subsets: int = 50,
    kid_subset_size: int = 1000,
    k: int = 3,
    seed: int = 0,
) -> dict:
    """FID, KID (mean ± std) and precision/recall of ``samples`` against ``reference``."""
    s_stats, s_keep = feature_stats(
        space, samples, total=n_samples, desc="sample features", keep=keep
    )
    r_stats, r_keep = feature_stats(
        space, reference, total=n_reference, desc="reference features", keep=keep
    )
    g = torch.Generator().manual_seed(seed)
    kd = kid(s_keep, r_keep, subsets=kid_subsets, subset_size=kid_subset_size, generator=g)
    pr = precision_recall(r_keep, s_keep, k=k)
    return {
        "feature_space": space.name,
        "fid": frechet_distance(s_stats.fit(), r_stats.fit()),
        "fid_counts": [s_stats.n, r_stats.n],
        "kid": kd.mean,
        "kid_std": kd.std,
        "kid_subsets": f"{kd.subsets} x {kd.subset_size}",
        "precision": pr.precision,
        "recall": pr.recall,
        "pr_k": pr.k,
        "pr_counts": [s_keep.shape[0], r_keep.shape[0]],
    }

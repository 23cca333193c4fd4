"""Which digits a model draws: predicted-class shares under a classifier.

FID folds "wrong shapes" and "wrong proportions" into one number. For MNIST-like data the
shipped classifier (:mod:`.classifier`) separates them: the share of samples it assigns to each
class (a model that over-draws 1s shows it here), how many it classifies confidently (a
recognisability proxy, read against the data's own fraction: 0.98 for 2,000 MNIST training
images), and the total-variation distance between the sample shares and the data's shares.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class ClassBalance:
    shares: list[float]  # fraction of samples predicted as each class
    confident: float  # fraction with max softmax probability > threshold
    threshold: float
    tv_to_reference: float  # ½ Σ_c |shares_c − reference_c| (reference: uniform if none given)
    n: int

    def as_dict(self) -> dict:
        return asdict(self)


def class_balance(
    logits: Tensor, reference_shares: Tensor | None = None, threshold: float = 0.9
) -> ClassBalance:
    """Class shares, confident fraction and TV distance to ``reference_shares`` of (N, C) logits."""
    if logits.ndim != 2 or logits.shape[0] == 0:
        raise ValueError(f"logits: expected (N, C) with N > 0, got {tuple(logits.shape)}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold: expected in (0, 1), got {threshold}")
    n, c = logits.shape
    if not torch.isfinite(logits).all():
        raise ValueError("logits: contain NaN or inf")
    p = torch.softmax(logits.double(), dim=1)
    conf, cls = p.max(dim=1)
    shares = torch.bincount(cls, minlength=c).double() / n
    if reference_shares is None:
        ref = torch.full((c,), 1.0 / c, dtype=torch.float64)
    else:
        ref = reference_shares.detach().double().cpu()
        if ref.shape != (c,) or (ref < 0).any() or abs(float(ref.sum()) - 1.0) > 1e-6:
            raise ValueError(
                f"reference_shares: expected ({c},) non-negative shares summing to 1, got {ref}"
            )
    return ClassBalance(
        shares=shares.tolist(),
        confident=float((conf > threshold).double().mean()),
        threshold=threshold,
        tv_to_reference=float(0.5 * (shares.cpu() - ref).abs().sum()),
        n=n,
    )

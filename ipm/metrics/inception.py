"""FID-InceptionV3: the 2048-d pool features of the TF Inception of 2015-12-05, in plain torch.

This is the network of pytorch-fid (``pt_inception-2015-12-05-6726825d.pth``), written here
without torchvision so that the core install stays small. Parameter names follow torchvision's
``Inception3`` (``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch1x1.bn.running_mean``, …,
``fc.weight``), which is the layout of that file, so ``load_state_dict`` reads it strictly.
The FID variant differs from torchvision's ImageNet Inception in its pooling: average pools in
the Inception-A/C/E blocks exclude padding, and the last block (Mixed_7c) max-pools its pool
branch, as in the TF graph.

Input: images (N, C, H, W) in [−1, 1] (ipm's convention), C ∈ {1, 3} (grey is repeated),
resized bilinearly to 299×299. Output: (N, 2048) pool features (float32).

The weights are never downloaded: :func:`load_fid_inception` reads them from a path given as
an argument or in ``IPM_INCEPTION_WEIGHTS``, and names the file and how to get it when absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "INCEPTION_ENV",
    "INCEPTION_FILE",
    "FIDInceptionV3",
    "InceptionWeightsError",
    "load_fid_inception",
]

INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_ENV = "IPM_INCEPTION_WEIGHTS"
_HOW_TO = (
    f"the FID Inception weights are never downloaded by ipm. Copy the file {INCEPTION_FILE} "
    "(released with pytorch-fid: github.com/mseitzer/pytorch-fid, 'fid_weights') to this "
    f"machine and pass its path (metrics.inception_weights / --inception-weights) or set "
    f"{INCEPTION_ENV}=/path/to/{INCEPTION_FILE}"
)


class InceptionWeightsError(FileNotFoundError):
    """The FID Inception weights file is missing or unreadable."""


class BasicConv2d(nn.Module):
    """Conv (no bias) → BatchNorm (ε = 1e-3) → ReLU."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg3(x: Tensor) -> Tensor:
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    def __init__(self, cin: int, pool_features: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b1, b5, b3, self.branch_pool(_avg3(x))], 1)


class InceptionB(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin: int, c7: int):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = x
        for i in range(1, 6):
            bd = getattr(self, f"branch7x7dbl_{i}")(bd)
        return torch.cat([b1, b7, bd, self.branch_pool(_avg3(x))], 1)


class InceptionD(nn.Module):
    def __init__(self, cin: int):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: Tensor) -> Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for i in range(1, 5):
            b7 = getattr(self, f"branch7x7x3_{i}")(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class InceptionE(nn.Module):
    """The last two blocks; ``max_pool`` selects the TF graph's pool branch of Mixed_7c."""

    def __init__(self, cin: int, max_pool: bool):
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x: Tensor) -> Tensor:
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg3(x)
        return torch.cat([b1, b3, bd, self.branch_pool(pooled)], 1)


class FIDInceptionV3(nn.Module):
    """FID-InceptionV3 up to its 2048-d global average pool (``fc`` kept for the state dict)."""

    features = 2048

    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, 32)
        self.Mixed_5c = InceptionA(256, 64)
        self.Mixed_5d = InceptionA(288, 64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, 128)
        self.Mixed_6c = InceptionC(768, 160)
        self.Mixed_6d = InceptionC(768, 160)
        self.Mixed_6e = InceptionC(768, 192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)  # logits of the 2015 graph; unused for FID
        self.eval()

    def forward(self, images: Tensor) -> Tensor:
        """Pool features (N, 2048) of images (N, 1 or 3, H, W) in [−1, 1]."""
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(
                f"FIDInceptionV3: expected images (N, 1 or 3, H, W), got {tuple(images.shape)}"
            )
        x = images.to(self.fc.weight.dtype)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, 3, stride=2)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            x = getattr(self, f"Mixed_{name}")(x)
        return x.mean((2, 3))


def _resolve(path: str | Path | None) -> Path:
    if path is None or str(path) == "":
        env = os.environ.get(INCEPTION_ENV, "")
        if not env:
            raise InceptionWeightsError(
                f"FID Inception: no weights path given and {INCEPTION_ENV} is not set; {_HOW_TO}"
            )
        path = env
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / INCEPTION_FILE
    if not p.is_file():
        raise InceptionWeightsError(f"FID Inception: no weights file at {p}; {_HOW_TO}")
    return p


def load_fid_inception(path: str | Path | None = None, device="cpu") -> FIDInceptionV3:
    """FID-InceptionV3 with weights from ``path`` (a file, or a folder holding
    ``pt_inception-2015-12-05-6726825d.pth``), else from ``$IPM_INCEPTION_WEIGHTS``.

    Raises :class:`InceptionWeightsError` naming the file when it is absent, and a
    ``RuntimeError`` naming the file when its keys or shapes do not match the network.
    """
    p = _resolve(path)
    try:
        state = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 — any unreadable file gets the same clear message
        raise InceptionWeightsError(f"FID Inception: cannot read {p}: {e}; {_HOW_TO}") from e
    if not isinstance(state, dict):
        raise InceptionWeightsError(f"FID Inception: {p} does not hold a state dict; {_HOW_TO}")
    net = FIDInceptionV3()
    # files saved before torch 0.4.1 have no BatchNorm step counters; they are unused in eval
    own = net.state_dict()
    for k in own:
        if k.endswith("num_batches_tracked") and k not in state:
            state[k] = own[k]
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise RuntimeError(f"FID Inception: {p} does not match FID-InceptionV3: {e}") from e
    return net.to(device).eval().requires_grad_(False)

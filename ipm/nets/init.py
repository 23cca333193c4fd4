"""Weight initialisation options of the paper's networks (Tables 4–7): PyTorch's default,
normal N(0, gain²) and orthogonal with a gain, on every Linear / Conv / ConvTranspose layer;
biases set to zero and normalisation layers to unit weight, zero bias."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["INITS", "init_weights"]

INITS = ("default", "normal", "orthogonal")
_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)
_NORMS = (nn.BatchNorm2d, nn.GroupNorm)


@torch.no_grad()
def init_weights(module: nn.Module, kind: str = "default", gain: float = 0.02) -> nn.Module:
    """Initialise ``module`` in place: ``"default"`` leaves it, ``"normal"`` draws W ~ N(0, gain²),
    ``"orthogonal"`` draws an orthogonal W scaled by ``gain``. Layers marked ``_keep_init``
    (zero-initialised output layers, time modulations) are left as built."""
    if kind not in INITS:
        raise ValueError(f"init: expected one of {list(INITS)}, got {kind!r}")
    if kind == "default":
        return module
    keep = {id(s) for m in module.modules() if getattr(m, "_keep_init", False) for s in m.modules()}
    for m in module.modules():
        if id(m) in keep:
            continue
        if isinstance(m, _LAYERS):
            if kind == "normal":
                m.weight.normal_(0.0, gain)
            else:
                nn.init.orthogonal_(m.weight, gain)
            if m.bias is not None:
                m.bias.zero_()
        elif isinstance(m, _NORMS) and m.weight is not None:
            m.weight.fill_(1.0)
            m.bias.zero_()
    return module

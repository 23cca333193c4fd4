"""Generators: MLPs in standard or NTK parameterisation, and the free-particle table."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._checks import check_positive_int

__all__ = ["MLP", "ParticleTable", "ScaledLinear", "activation"]


class ScaledLinear(nn.Linear):
    """y = s_w W x + s_b b with W, b ~ N(0, 1): the NTK parameterisation (Jacot et al., 2018).

    ``weight_scale`` s_w = gain/√fan_in, ``bias_scale`` s_b = β. As the width grows the NTK
    of an MLP built from these layers tends to a constant (the assumption behind Eq. 18).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        gain: float = 1.0,
        beta: float = 1.0,
    ):
        super().__init__(in_features, out_features, bias=bias)
        self.weight_scale = gain / math.sqrt(in_features)
        self.bias_scale = beta
        with torch.no_grad():
            self.weight.normal_()
            if self.bias is not None:
                self.bias.normal_()

    def forward(self, x: Tensor) -> Tensor:
        b = None if self.bias is None else self.bias_scale * self.bias
        return F.linear(x, self.weight_scale * self.weight, b)


_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "gelu": lambda: nn.GELU(),
    "silu": lambda: nn.SiLU(),
    "softplus": lambda: nn.Softplus(),
    "sigmoid": lambda: nn.Sigmoid(),
}


def activation(name: str) -> nn.Module:
    """An activation by name: relu, leaky_relu (slope 0.2), tanh, gelu, silu, softplus, sigmoid."""
    if name not in _ACTIVATIONS:
        raise ValueError(f"activation: expected one of {sorted(_ACTIVATIONS)}, got {name!r}")
    return _ACTIVATIONS[name]()


class MLP(nn.Sequential):
    """in_dim → depth × (Linear(width) → activation) → Linear(out_dim).

    ``parameterization="ntk"`` uses :class:`ScaledLinear` layers (NTK parameterisation);
    ``"standard"`` uses ``nn.Linear`` (PyTorch's default initialisation). Being an
    ``nn.Sequential`` of Linear layers and element-wise activations, its NTK takes the fast
    structured path of :func:`ipm.ntk.empirical_ntk`.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        width: int = 512,
        depth: int = 4,
        activation_name: str = "leaky_relu",
        *,
        parameterization: str = "standard",
        output_activation: str | None = None,
    ):
        check_positive_int(in_dim, "in_dim")
        check_positive_int(out_dim, "out_dim")
        check_positive_int(width, "width")
        check_positive_int(depth, "depth")
        if parameterization not in ("standard", "ntk"):
            raise ValueError(
                f"parameterization: expected 'standard' or 'ntk', got {parameterization!r}"
            )
        lin = ScaledLinear if parameterization == "ntk" else nn.Linear
        layers: list[nn.Module] = []
        d = in_dim
        for _ in range(depth):
            layers += [lin(d, width), activation(activation_name)]
            d = width
        layers.append(lin(d, out_dim))
        if output_activation is not None:
            layers.append(activation(output_activation))
        super().__init__(*layers)
        self.in_dim, self.out_dim, self.width, self.depth = in_dim, out_dim, width, depth
        self.parameterization = parameterization


class ParticleTable(nn.Module):
    """Free particles as a generator: g_θ(z_i) = θ_i for integer latents z_i ∈ {0, …, n−1}.

    Its NTK is the identity, k(z_i, z_j) = δ_ij I (Finding 4): training it as an Int-PM
    moves each particle exactly as the PM does.
    """

    def __init__(self, init: Tensor):
        super().__init__()
        if not isinstance(init, Tensor) or init.ndim != 2:
            raise ValueError(
                f"init: expected a tensor of shape (n, D), got {getattr(init, 'shape', type(init).__name__)}"
            )
        self.theta = nn.Parameter(init.detach().clone())

    @property
    def n(self) -> int:
        return self.theta.shape[0]

    def latents(self) -> Tensor:
        """All latents 0 … n−1."""
        return torch.arange(self.n, device=self.theta.device)

    def forward(self, z: Tensor) -> Tensor:
        if z.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"z: expected integer particle indices, got dtype {z.dtype}")
        return self.theta[z]

"""Interacting particle models (Definition 2): a generator trained along a PM's flow."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .._checks import check_finite, check_positive, check_positive_int
from ..flows.base import Flow
from ..optim import descend

__all__ = ["IntPMStep", "InteractingParticleModel"]


@dataclass(frozen=True)
class IntPMStep:
    """One Int-PM training step.

    Attributes:
        loss: value of the surrogate loss −E_z[g_θ(z)ᵀ StopGradient(∇h)] (Eq. 25).
        x: (N, D) generated particles g_θ(z) before the step (detached).
        field: (N, D) the stop-gradient target ∇h_{ρ_t}(g_θ(z)) (noise included if any).
        h: (N,) h_{ρ_t}(g_θ(z)) when the flow computes it alongside its field, else None.
    """

    loss: float
    x: Tensor
    field: Tensor
    h: Tensor | None = None


def _input_width(generator: nn.Module) -> tuple[int, str] | None:
    """(width, where it was read) of the latents the generator takes, where it is certain: an
    int ``in_dim`` or ``latent_dim`` attribute (ipm's generators), a Linear layer, or a
    Sequential whose first module is one of these; None otherwise."""
    for attr in ("in_dim", "latent_dim"):
        if isinstance(getattr(generator, attr, None), int):
            return getattr(generator, attr), f"its {attr}"
    if isinstance(generator, nn.Linear):
        return generator.in_features, "in_features of its first Linear layer"
    if isinstance(generator, nn.Sequential) and len(generator) > 0:
        return _input_width(generator[0])
    return None


def _check_latent_width(latent, generator: nn.Module) -> None:
    """Raise naming ``latent`` when its draws cannot enter the generator."""
    width = getattr(latent, "dim", None)
    takes = _input_width(generator)
    if isinstance(width, int) and takes is not None and takes[0] != width:
        raise ValueError(
            f"latent: draws of width {width}, but the generator takes {takes[0]} inputs "
            f"({takes[1]})"
        )


class InteractingParticleModel:
    """An Int-PM: a flow × a generator g_θ × an optimiser (Definition 2).

    A step minimises L_gen(θ) = −E_z[h_{ρ_t}(g_θ(z))] with ρ_t = g_θ♯p_z under stop-gradient
    (Eq. 10) through the equivalent surrogate of Eq. 25,

        L(θ) = −(1/N) Σ_i g_θ(z_i)ᵀ StopGradient(∇h_{ρ_t}(g_θ(z_i))),

    whose gradient is −E_z[∇_θ g_θ(z)ᵀ ∇h] (Eq. 11): under SGD with learning rate η the
    generated points move by η·(1/N) Σ_j k_θ(z, z_j) ∇h(g(z_j)) + O(η²) (Eq. 12–14).

    Args:
        flow: the field ∇h_ρ.
        generator: ``nn.Module`` mapping latents (N, ...) to samples (N, ...), flattened to D.
        optimizer: a ``torch.optim.Optimizer`` over the generator's parameters, or a factory
            ``params -> Optimizer``.
        latent: ``latent(n, generator) -> z``, or an object with ``sample(n, generator=...)``;
            needed when :meth:`step` / :meth:`sample` are called without z.
        noise: γ of the stochastic version (Eq. 22); the target becomes ∇h + γ ξ/√η with
            ξ ~ N(0, I) and η the first parameter group's learning rate, i.e. Euler–Maruyama
            with Δt = η for SGD.
    """

    def __init__(
        self,
        flow: Flow,
        generator: nn.Module,
        optimizer: torch.optim.Optimizer | Callable,
        latent=None,
        *,
        noise: float = 0.0,
    ):
        if not isinstance(flow, Flow):
            raise TypeError(f"flow: expected an ipm.flows.Flow, got {type(flow).__name__}")
        if not isinstance(generator, nn.Module):
            raise TypeError(
                f"generator: expected a torch.nn.Module, got {type(generator).__name__}"
            )
        if flow.stochastic:
            raise ValueError(
                f"flow: {type(flow).__name__} is stochastic; use its deterministic form and noise=γ (Eq. 22)"
            )
        if not isinstance(optimizer, torch.optim.Optimizer):
            if not callable(optimizer):
                raise TypeError(
                    f"optimizer: expected a torch Optimizer or a factory, got {type(optimizer).__name__}"
                )
            optimizer = optimizer(generator.parameters())
        self.flow, self.generator, self.optimizer = flow, generator, optimizer
        if (
            latent is not None
            and not callable(latent)
            and not callable(getattr(latent, "sample", None))
        ):
            raise TypeError(
                f"latent: expected a callable or an object with sample(n), got {type(latent).__name__}"
            )
        _check_latent_width(latent, generator)
        self.latent = latent
        self.noise = check_positive(noise, "noise", allow_zero=True)

    def draw_latents(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        check_positive_int(n, "n")
        if self.latent is None:
            raise ValueError("latent: no latent law was given; pass z explicitly")
        if callable(getattr(self.latent, "sample", None)):
            return self.latent.sample(n, generator=generator)
        return self.latent(n, generator)

    def generate(self, z: Tensor) -> Tensor:
        """g_θ(z) flattened to (N, D), checked against the flow's data dimension."""
        out = self.generator(z)
        x = out.reshape(out.shape[0], -1)
        if self.flow.dim is not None and x.shape[1] != self.flow.dim:
            raise ValueError(
                f"generator: output of shape {tuple(out.shape)} ({x.shape[1]} values per sample) "
                f"differs from the data's dimension D={self.flow.dim}"
            )
        return x

    @torch.no_grad()
    def sample(self, n: int, *, generator: torch.Generator | None = None) -> Tensor:
        """n generated samples g_θ(z), z ~ p_z; (n, D)."""
        return self.generate(self.draw_latents(n, generator))

    def step(
        self,
        z: Tensor | None = None,
        *,
        n: int | None = None,
        t: float | None = None,
        generator: torch.Generator | None = None,
    ) -> IntPMStep:
        """One optimiser step on the surrogate loss of Eq. 25 (ρ_t = the generated batch)."""
        if z is None:
            if n is None:
                raise ValueError("n: pass latents z or a batch size n")
            z = self.draw_latents(n, generator)
        x = self.generate(z)
        check_finite(x, "generator output")
        with torch.no_grad():
            xd = x.detach()
            v, h = self.flow.field_and_value(xd, t, particles=xd)
            if self.noise > 0:
                lr = float(self.optimizer.param_groups[0]["lr"])
                xi = torch.randn(v.shape, dtype=v.dtype, device=v.device, generator=generator)
                v = v + (self.noise / math.sqrt(lr)) * xi
        loss = descend(self.optimizer, -(x * v).sum(1).mean())
        return IntPMStep(float(loss), xd, v, h)

"""GANs as particle models (Findings 5–6): the discriminator's objective with its gradient
penalty R (Eq. 15), the generator loss c∘f (Eq. 16) and the discriminator flow −∇(c∘f) (Eq. 20)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import torch
import torch.nn.functional as F
from torch import Tensor

from .._checks import check_finite, check_particles
from .base import Flow

__all__ = [
    "DiscriminatorFlow",
    "GANLoss",
    "discriminator_objective",
    "gradient_penalty",
    "penalty_points",
]


@dataclass(frozen=True)
class _Fns:
    a: Callable[[Tensor], Tensor]
    b: Callable[[Tensor], Tensor]
    c: Callable[[Tensor], Tensor]


class GANLoss(str, Enum):
    """The (a, b, c) of Eq. 15–16: the discriminator ascends E_ρ[a∘f] − E_p[b∘f] (+ R),
    the generator minimises E_z[(c∘f)(g(z))], so h_ρ = −c∘f.

    ``NS`` (non-saturating vanilla): a(f) = log(1 − sigmoid f) = −softplus(f),
    b(f) = −log sigmoid f = softplus(−f), c = b; f is high on data.
    ``IPM`` (WGAN, a = b = c = id): f is high on generated points.
    ``HINGE`` (Lim & Ye): a(f) = −relu(1 + f), b(f) = relu(1 − f), c(f) = −f.

    Note: a summary of the paper lists a = −log(1 − sigmoid); with the ascent of Eq. 15 the
    standard non-saturating GAN needs a = +log(1 − sigmoid), which we use.
    """

    NS = "ns"
    IPM = "ipm"
    HINGE = "hinge"

    @property
    def fns(self) -> _Fns:
        if self is GANLoss.NS:
            return _Fns(
                lambda f: -F.softplus(f), lambda f: F.softplus(-f), lambda f: F.softplus(-f)
            )
        if self is GANLoss.IPM:
            return _Fns(lambda f: f, lambda f: f, lambda f: f)
        return _Fns(lambda f: -F.relu(1 + f), lambda f: F.relu(1 - f), lambda f: -f)


def discriminator_objective(loss: GANLoss | str, f_fake: Tensor, f_real: Tensor) -> Tensor:
    """L_d = E_ρ[a∘f] − E_p[b∘f] (Eq. 15, without R): the quantity the discriminator ascends."""
    fns = GANLoss(loss).fns
    return fns.a(f_fake).mean() - fns.b(f_real).mean()


def gradient_penalty(f: Callable[[Tensor], Tensor], x: Tensor, center: float = 1.0) -> Tensor:
    """R(f) = E[(‖∇f(x)‖ − c)²] at the points x (Eq. 15's regulariser), differentiable in f's
    parameters: c = 1 is the penalty of Gulrajani et al. (2017); c = 0 the zero-centred penalty
    E‖∇f(x)‖² of the paper's image Discriminator Flows (its Table 4, "GP center 0").

    Args:
        f: x (N, D) → (N,).
        x: (N, D) points; their own graph is cut (the penalty differentiates f only).
    """
    x = x.detach().requires_grad_(True)
    # f runs eagerly here: a compiled graph (aot_autograd) has no double backward
    with torch.compiler.set_stance("force_eager"):
        (g,) = torch.autograd.grad(f(x).sum(), x, create_graph=True)
    if center == 0:
        return (g * g).sum(1).mean()
    return ((g.norm(dim=1) - center) ** 2).mean()


def penalty_points(on: str, real: Tensor, fake: Tensor, u: Tensor) -> Tensor:
    """Where R is taken: ``"interpolates"`` u·real + (1 − u)·fake with u (N,) ~ U[0, 1] per
    sample (Gulrajani et al. 2017), ``"real"`` or ``"fake"``."""
    if on == "real":
        return real
    if on == "fake":
        return fake
    if on != "interpolates":
        raise ValueError(f"on: expected 'interpolates', 'real' or 'fake', got {on!r}")
    return u[:, None] * real + (1 - u[:, None]) * fake


class DiscriminatorFlow(Flow):
    """The discriminator flow dx/dt = −∇(c∘f_{ρ_t})(x) (Eq. 20; h_ρ = −c∘f, Eq. 16).

    Args:
        discriminator: f(x) → (N,) or (N, 1); with ``time_conditioned`` f(x, t).
        loss: which c (see :class:`GANLoss`).
    """

    def __init__(
        self,
        discriminator: Callable,
        loss: GANLoss | str = GANLoss.NS,
        *,
        time_conditioned: bool = False,
    ):
        if not callable(discriminator):
            raise TypeError(
                f"discriminator: expected a callable, got {type(discriminator).__name__}"
            )
        try:
            self.loss = GANLoss(loss)
        except ValueError:
            raise ValueError(
                f"loss: expected one of {[k.value for k in GANLoss]}, got {loss!r}"
            ) from None
        self.discriminator = discriminator
        self.time_conditioned = bool(time_conditioned)

    def h(self, x: Tensor, t: float | Tensor | None = None) -> Tensor:
        """h(x) = −c(f(x)), shape (N,); ``t`` a scalar or one time per particle, shape (N,)."""
        if self.time_conditioned:
            if t is None:
                raise ValueError("t: a time-conditioned discriminator needs t, got None")
            if isinstance(t, Tensor) and t.ndim == 1:
                if t.shape != (x.shape[0],):
                    raise ValueError(
                        f"t: expected a scalar or shape ({x.shape[0]},), got {tuple(t.shape)}"
                    )
                tt = t.to(dtype=x.dtype, device=x.device)
            else:
                tt = torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device)
            f = self.discriminator(x, tt)
        else:
            f = self.discriminator(x)
        f = f.reshape(x.shape[0], -1)
        if f.shape[1] != 1:
            raise ValueError(
                f"discriminator: expected one value per particle, got shape {tuple(f.shape)}"
            )
        return -self.loss.fns.c(f[:, 0])

    def _field(self, x, t, particles):
        return self._field_and_h(x, t)[0]

    def _field_and_h(self, x: Tensor, t) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            h = self.h(xg, t)
            (g,) = torch.autograd.grad(h.sum(), xg)
        return g, h.detach()

    def field_and_value(self, x, t=None, particles=None):
        """(∇h(x), h(x)) from one forward pass: h = −c∘f is the pointwise generator loss."""
        x = check_particles(x, "x", self.dim)
        g, h = self._field_and_h(x, t)
        return check_finite(g, "DiscriminatorFlow.field(x)"), h

"""The vector field of a particle model: ∇h_ρ (Definition 1, Eq. 1).

A :class:`Flow` gives ∇h_{ρ_t}(x) for particles x, given a sample of the current law ρ_t
(``particles``; by default x itself, as in a PM where the particles *are* ρ_t) and the time t
where the functional depends on it (σ for the EDM flows, see :mod:`ipm.flows.score`).
Flows add and scale: ``ForwardKL(...) + 0.1 * Entropy(...)`` is the flow of the summed
functional (Table 2: functionals add up).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from torch import Tensor

from .._checks import check_finite, check_particles, check_same_device_dtype

__all__ = ["Flow", "FlowSum"]


class Flow(ABC):
    """∇h_ρ: the field every particle ascends (Finding 1).

    Subclasses implement :meth:`_field`; :meth:`field` validates inputs and output.
    Stochastic dynamics (Langevin, the EDM SDE) also give a non-zero :meth:`diffusion`
    g(t): their SDE is dx = field dt + g(t) dW.
    """

    #: Data dimension the flow expects (None when any dimension is accepted).
    dim: int | None = None

    def field(self, x: Tensor, t: float | None = None, particles: Tensor | None = None) -> Tensor:
        """∇h_{ρ_t}(x) for x of shape (N, D); ``particles`` (M, D) is a sample of ρ_t."""
        x = check_particles(x, "x", self.dim)
        if particles is None:
            particles = x
        else:
            particles = check_particles(particles, "particles", x.shape[1])
            check_same_device_dtype([("x", x), ("particles", particles)])
        out = self._field(x, t, particles)
        if out.shape != x.shape:
            raise RuntimeError(
                f"{type(self).__name__}: field of shape {tuple(out.shape)} for particles of "
                f"shape {tuple(x.shape)}"
            )
        return check_finite(out, f"{type(self).__name__}.field(x)")

    def field_and_value(
        self, x: Tensor, t: float | None = None, particles: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """(∇h(x), h(x)) where a flow gets h(x) from the same pass as its gradient (a
        discriminator's), else (∇h(x), None)."""
        return self.field(x, t, particles), None

    @abstractmethod
    def _field(self, x: Tensor, t: float | None, particles: Tensor) -> Tensor: ...

    def diffusion(self, t: float | None) -> float:
        """g(t) of the SDE dx = field dt + g(t) dW (0 for a deterministic flow)."""
        return 0.0

    @property
    def stochastic(self) -> bool:
        return False

    def __add__(self, other: Flow) -> FlowSum:
        if not isinstance(other, Flow):
            return NotImplemented
        return FlowSum([(1.0, self), (1.0, other)])

    def __mul__(self, c: float) -> FlowSum:
        if isinstance(c, bool) or not isinstance(c, (int, float)):
            return NotImplemented
        return FlowSum([(float(c), self)])

    __rmul__ = __mul__


class FlowSum(Flow):
    """Σ_k w_k ∇h_k: the flow of the functional Σ_k w_k F_k (Table 2, "functionals add up")."""

    def __init__(self, terms: list[tuple[float, Flow]]):
        flat: list[tuple[float, Flow]] = []
        for w, f in terms:
            if not isinstance(f, Flow):
                raise TypeError(f"terms: expected Flow instances, got {type(f).__name__}")
            if f.stochastic:
                raise ValueError(
                    f"terms: {type(f).__name__} is stochastic; only deterministic flows can be summed"
                )
            if isinstance(f, FlowSum):
                flat += [(w * w2, f2) for w2, f2 in f.terms]
            else:
                flat.append((float(w), f))
        dims = {f.dim for _, f in flat if f.dim is not None}
        if len(dims) > 1:
            raise ValueError(f"terms: flows expect different data dimensions {sorted(dims)}")
        self.terms = flat
        self.dim = dims.pop() if dims else None

    def _field(self, x, t, particles):
        out = None
        for w, f in self.terms:
            v = f.field(x, t, particles)
            out = w * v if out is None else out.add_(v, alpha=w)
        return out

    def __repr__(self) -> str:
        return " + ".join(f"{w:g}*{f!r}" for w, f in self.terms)

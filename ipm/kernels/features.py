"""The linear kernel on a feature map: k(x, y) = ⟨φ(x), φ(y)⟩, optionally noise-conditioned.

With a learned, noise-conditioned φ(x, t) this is the kernel k_t of the diffusion-MMD flow of
Galashov et al. (2024): its squared MMD is ‖μ_t(P) − μ_t(Q)‖² with μ_t the mean features, so
the squared-MMD flow (:class:`~ipm.flows.SquaredMMD`) moves particles along
∇_x⟨φ(x, t), μ_t(p) − μ_t(ρ)⟩ at the cost of one forward and one backward pass of φ.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import torch
from torch import Tensor

from .._checks import check_particles
from .base import Kernel, _check_pair, _check_weights

__all__ = ["FeatureKernel"]


class FeatureKernel(Kernel):
    """k(x, y) = ⟨φ(x), φ(y)⟩, or k_t(x, y) = ⟨φ(x, t), φ(y, t)⟩ once bound to a time by
    :meth:`at`.

    Args:
        features: φ, a callable x (N, D) [, t] → (N, F) (e.g. a network).
        t: the time (noise level) φ is evaluated at; None for a φ without time.
        chunk_size: rows of φ evaluated at once for the mean embedding of a large set.
    """

    def __init__(
        self, features: Callable[..., Tensor], t: float | None = None, *, chunk_size: int = 4096
    ):
        if not callable(features):
            raise TypeError(f"features: expected a callable, got {type(features).__name__}")
        self.features, self.t, self.chunk_size = features, t, int(chunk_size)
        # the last data set's mean embedding: (weakref to the tensor, its version, t, mean)
        self._cache: list = [None]

    def at(self, t) -> FeatureKernel:
        if t is None or t == self.t:
            return self
        k = FeatureKernel(self.features, t, chunk_size=self.chunk_size)
        k._cache = self._cache  # one cache for the kernel at every time
        return k

    def embed(self, x: Tensor) -> Tensor:
        """φ(x) or φ(x, t): (N, F)."""
        return self.features(x) if self.t is None else self.features(x, self.t)

    def mean_embedding(self, y: Tensor) -> Tensor:
        """μ(y) = (1/M) Σ_j φ(y_j), (F,), without gradients, in chunks; the last set's value
        is kept until the set or the time changes (a flow's fixed data set at one noise level)."""
        y = check_particles(y, "y")
        hit = self._cache[0]
        if hit is not None and hit[0]() is y and hit[1] == y._version and hit[2] == self.t:
            return hit[3]
        with torch.no_grad():
            mean = torch.cat([self.embed(r) for r in y.split(self.chunk_size)]).mean(0)
        self._cache[0] = (weakref.ref(y), y._version, self.t, mean)
        return mean

    def __call__(self, x, y):
        x, y = _check_pair(x, y)
        return self.embed(x) @ self.embed(y).T

    def matvec(self, x, y, v, *, chunk_size=None):
        x, y = _check_pair(x, y)
        v = _check_weights(v, y, "v", vector=True)
        return self.embed(x) @ (self.embed(y).T @ v)

    def _grad_along(self, x: Tensor, direction: Tensor) -> Tensor:
        """∇_x ⟨φ(x), direction⟩ for a fixed (F,) direction."""
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            (g,) = torch.autograd.grad((self.embed(xg) * direction).sum(), xg)
        return g

    def grad_sum(self, x, y, w=None, *, chunk_size=None):
        x, y = _check_pair(x, y)
        if w is None:
            m = self.mean_embedding(y)
        else:
            w = _check_weights(w, y, "w", vector=False)
            with torch.no_grad():
                m = w @ self.embed(y)
        return self._grad_along(x, m)

    def grad_witness(self, x, data, particles, *, chunk_size=None):
        """∇_x⟨φ(x), μ(data) − μ(particles)⟩ with one forward and one backward pass of φ at x
        when the particles are x themselves (their mean features held fixed)."""
        x, data = _check_pair(x, data)
        mu_p = self.mean_embedding(data)
        if particles is not x:
            return self._grad_along(x, mu_p - self.mean_embedding(particles))
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            fx = self.embed(xg)
            w = (fx.mean(0) - mu_p).detach()
            (g,) = torch.autograd.grad((fx * w).sum(), xg)
        return -g

    def __repr__(self) -> str:
        return f"FeatureKernel({type(self.features).__name__}, t={self.t})"

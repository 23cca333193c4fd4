"""Scalar kernels on data space: RBF (paper normalisation), IMQ, Laplace, identity (delta).

Every kernel gives its Gram matrix ``k(x, y)`` (N, M) and two chunked sums used by the flows:
``matvec``  Σ_j k(x_i, y_j) v_j              (MMD witness values, Stein flows, Eq. 17)
``grad_sum`` Σ_j w_j ∇_x k(x_i, y_j)          (squared-MMD flow, Table 2)
Neither holds more than one (chunk, M) block of the kernel matrix in memory.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import Tensor

from .._checks import check_particles, check_positive, check_same_device_dtype
from .sums import map_row_chunks, needs_grad, sq_dists

__all__ = ["IMQ", "RBF", "Identity", "Kernel", "Laplace", "RadialKernel"]


def _check_pair(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    x = check_particles(x, "x")
    y = check_particles(y, "y", x.shape[1])
    check_same_device_dtype([("x", x), ("y", y)])
    return x, y


def _centred_pair(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """x and y checked and shifted by y's mean: a radial kernel is unchanged by a common shift,
    and ‖x‖² + ‖y‖² − 2⟨x, y⟩ then cancels no large norms (in float32 at an offset of 300,
    MMD² by RBF and Laplace kernels was off by 1.5e-3 and 1.6e-2 relative without it)."""
    x, y = _check_pair(x, y)
    c = y.detach().mean(0)
    return x - c, y - c


def _check_weights(v: Tensor | None, y: Tensor, name: str, vector: bool) -> Tensor:
    if v is None:
        return torch.full((y.shape[0],), 1.0 / y.shape[0], dtype=y.dtype, device=y.device)
    if not isinstance(v, Tensor):
        raise TypeError(f"{name}: expected a tensor, got {type(v).__name__}")
    ok = (v.ndim == 2 if vector else v.ndim == 1) and v.shape[0] == y.shape[0]
    if not ok:
        want = f"({y.shape[0]}, K)" if vector else f"({y.shape[0]},)"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(v.shape)}")
    check_same_device_dtype([("y", y), (name, v)])
    if not bool(torch.isfinite(v).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return v


def _scaled_exp(r2: Tensor, c: float) -> Tensor:
    """exp(c·r2), in place on the temporary r2 unless autograd needs it."""
    if r2.requires_grad:
        return torch.exp(c * r2)
    return r2.mul_(c).exp_()


def _mul(t: Tensor, c: float) -> Tensor:
    return t * c if t.requires_grad else t.mul_(c)


class Kernel(ABC):
    """A positive-definite scalar kernel k(x, y) on R^D."""

    @abstractmethod
    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        """Gram matrix k(x_i, y_j), shape (N, M)."""

    def matvec(self, x: Tensor, y: Tensor, v: Tensor, *, chunk_size: int | None = None) -> Tensor:
        """Σ_j k(x_i, y_j) v_j for v of shape (M, K); returns (N, K). Chunked over rows of x."""
        x, y = _check_pair(x, y)
        v = _check_weights(v, y, "v", vector=True)
        return map_row_chunks(
            lambda xb, buf: self(xb, y) @ v, x, y.shape[0], chunk_size, reuse_buffer=False
        )

    @abstractmethod
    def grad_sum(
        self, x: Tensor, y: Tensor, w: Tensor | None = None, *, chunk_size: int | None = None
    ) -> Tensor:
        """Σ_j w_j ∇_x k(x_i, y_j) (default w_j = 1/M); returns (N, D). Chunked."""

    def grad_witness(
        self, x: Tensor, data: Tensor, particles: Tensor, *, chunk_size: int | None = None
    ) -> Tensor:
        """∇_x[E_p k(y, x) − E_ρ k(x', x)] on the samples ``data`` of p and ``particles`` of ρ:
        the field of the squared-MMD flow (Table 2); (N, D)."""
        gp = self.grad_sum(x, data, chunk_size=chunk_size)
        return gp.sub_(self.grad_sum(x, particles, chunk_size=chunk_size))

    def at(self, t) -> Kernel:
        """The kernel at time t: itself for a fixed kernel; noise-adaptive kernels (DMMD's k_t,
        :class:`~ipm.kernels.FeatureKernel`) bind t."""
        return self


class RadialKernel(Kernel):
    """k(x, y) = φ(‖x − y‖²) for a profile φ; subclasses give φ and φ'."""

    @abstractmethod
    def profile(self, r2: Tensor, dim: int) -> Tensor:
        """φ(r²)."""

    @abstractmethod
    def profile_grad(self, r2: Tensor, dim: int) -> Tensor:
        """dφ/d(r²)."""

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        x, y = _centred_pair(x, y)
        return self.profile(sq_dists(x, y), x.shape[1])

    def matvec(self, x, y, v, *, chunk_size=None):
        x, y = _centred_pair(x, y)
        v = _check_weights(v, y, "v", vector=True)
        d = x.shape[1]
        yn = (y * y).sum(-1)
        return map_row_chunks(
            lambda xb, buf: self.profile(sq_dists(xb, y, out=buf, y_sqnorm=yn), d) @ v,
            x,
            y.shape[0],
            chunk_size,
            reuse_buffer=not needs_grad(x, y, v),
        )

    def grad_sum(self, x, y, w=None, *, chunk_size=None):
        # ∇_x φ(‖x − y‖²) = 2 φ'(r²) (x − y), so
        # Σ_j w_j ∇_x k(x_i, y_j) = 2 [x_i (Φ' w)_i − (Φ' (w ⊙ y))_i]: one matmul per block.
        x, y = _centred_pair(x, y)
        w = _check_weights(w, y, "w", vector=False)
        d = x.shape[1]
        rhs = torch.cat([w[:, None] * y, w[:, None]], dim=1)  # (M, D + 1)
        yn = (y * y).sum(-1)

        def block(xb: Tensor, buf: Tensor | None) -> Tensor:
            g = self.profile_grad(sq_dists(xb, y, out=buf, y_sqnorm=yn), d) @ rhs  # (chunk, D + 1)
            return 2.0 * (xb * g[:, d:] - g[:, :d])

        return map_row_chunks(
            block, x, y.shape[0], chunk_size, reuse_buffer=not needs_grad(x, y, w)
        )


class RBF(RadialKernel):
    """Gaussian kernel with the paper's normalisation (errata):
    k_RBF^σ(x, y) = (σ√(2π))^{-D} exp(−‖x − y‖² / (2σ²)).

    With ``normalized=False`` the prefactor is dropped: k = exp(−‖x − y‖² / (2σ²)).
    """

    def __init__(self, sigma: float = 1.0, *, normalized: bool = True):
        self.sigma = check_positive(sigma, "sigma")
        self.normalized = bool(normalized)

    def _scale(self, dim: int) -> float:
        if not self.normalized:
            return 1.0
        return (self.sigma * math.sqrt(2 * math.pi)) ** (-dim)

    def profile(self, r2, dim):
        out = _scaled_exp(r2, -0.5 / self.sigma**2)
        scale = self._scale(dim)
        return out if scale == 1.0 else _mul(out, scale)

    def profile_grad(self, r2, dim):
        return _mul(_scaled_exp(r2, -0.5 / self.sigma**2), -0.5 / self.sigma**2 * self._scale(dim))

    def __repr__(self) -> str:
        return f"RBF(sigma={self.sigma}, normalized={self.normalized})"


class IMQ(RadialKernel):
    """Inverse multiquadric k(x, y) = (c² + ‖x − y‖²)^β, c > 0, β < 0 (default β = −1/2)."""

    def __init__(self, c: float = 1.0, beta: float = -0.5):
        self.c = check_positive(c, "c")
        if not isinstance(beta, (int, float)) or not (beta < 0):
            raise ValueError(f"beta: expected a number < 0, got {beta!r}")
        self.beta = float(beta)

    def profile(self, r2, dim):
        if r2.requires_grad:
            return (r2 + self.c**2).pow(self.beta)
        return r2.add_(self.c**2).pow_(self.beta)

    def profile_grad(self, r2, dim):
        if r2.requires_grad:
            return (r2 + self.c**2).pow(self.beta - 1) * self.beta
        return r2.add_(self.c**2).pow_(self.beta - 1).mul_(self.beta)

    def __repr__(self) -> str:
        return f"IMQ(c={self.c}, beta={self.beta})"


class Laplace(RadialKernel):
    """Laplace kernel k(x, y) = exp(−‖x − y‖ / σ).

    Its gradient at x = y is set to 0 (the symmetric subgradient).
    """

    def __init__(self, sigma: float = 1.0):
        self.sigma = check_positive(sigma, "sigma")

    def profile(self, r2, dim):
        return torch.exp(-r2.sqrt() / self.sigma)

    def profile_grad(self, r2, dim):
        r = r2.sqrt()
        g = -torch.exp(-r / self.sigma) / (2 * self.sigma * r.clamp_min(torch.finfo(r.dtype).tiny))
        return torch.where(r > 0, g, torch.zeros_like(g))

    def __repr__(self) -> str:
        return f"Laplace(sigma={self.sigma})"


class Identity(Kernel):
    """The delta kernel on a particle set: k(x_i, y_j) = 1 if x_i = y_j else 0.

    As a matrix kernel it is δ·I, the NTK of free particles (Finding 4): ``matvec(x, x, v)``
    returns v. Its gradient is zero almost everywhere.
    """

    def __call__(self, x, y):
        x, y = _check_pair(x, y)
        return (x[:, None, :] == y[None, :, :]).all(-1).to(x.dtype)

    def matvec(self, x, y, v, *, chunk_size=None):
        if x is y:
            x = check_particles(x, "x")
            return _check_weights(v, x, "v", vector=True)
        return super().matvec(x, y, v, chunk_size=chunk_size)

    def grad_sum(self, x, y, w=None, *, chunk_size=None):
        x, y = _check_pair(x, y)
        _check_weights(w, y, "w", vector=False)
        return torch.zeros_like(x)

    def __repr__(self) -> str:
        return "Identity()"

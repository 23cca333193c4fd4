"""Squared-MMD flow (Table 2) in closed form on samples, and the MMD² estimator."""

from __future__ import annotations

import torch
from torch import Tensor

from .._checks import check_particles, check_same_device_dtype
from ..kernels.base import Kernel
from .base import Flow

__all__ = ["SquaredMMD", "linear_mmd2_unbiased", "mmd2"]


def mmd2(
    x: Tensor, y: Tensor, kernel: Kernel, *, unbiased: bool = False, chunk_size: int | None = None
) -> Tensor:
    r"""Squared MMD between the empirical laws of x (N, D) and y (M, D).

    MMD² = E k(x, x') + E k(y, y') − 2 E k(x, y); the biased (V-statistic) estimator by default,
    the unbiased one (diagonal terms dropped) with ``unbiased=True``. Chunked; returns a 0-d tensor.
    """
    x = check_particles(x, "x")
    y = check_particles(y, "y", x.shape[1])
    check_same_device_dtype([("x", x), ("y", y)])
    n, m = x.shape[0], y.shape[0]
    ones_x = torch.ones(n, 1, dtype=x.dtype, device=x.device)
    ones_y = torch.ones(m, 1, dtype=y.dtype, device=y.device)
    kxx = kernel.matvec(x, x, ones_x, chunk_size=chunk_size).sum()
    kyy = kernel.matvec(y, y, ones_y, chunk_size=chunk_size).sum()
    kxy = kernel.matvec(x, y, ones_y, chunk_size=chunk_size).sum()
    if unbiased:
        if n < 2 or m < 2:
            raise ValueError("unbiased MMD² needs at least 2 samples in each set")
        dx = kernel(x[:1], x[:1])[0, 0]  # k(x, x) is constant for translation-invariant kernels
        dy = kernel(y[:1], y[:1])[0, 0]
        return (kxx - n * dx) / (n * (n - 1)) + (kyy - m * dy) / (m * (m - 1)) - 2 * kxy / (n * m)
    return kxx / n**2 + kyy / m**2 - 2 * kxy / (n * m)


def linear_mmd2_unbiased(fa: Tensor, fb: Tensor) -> Tensor:
    """Unbiased MMD² of the linear kernel ⟨φa, φb⟩ on features, batched over leading dims.

    fa: (..., n, F), fb: (..., m, F) → (...,):
    [‖Σa‖² − Σ‖a‖²]/(n(n−1)) + [‖Σb‖² − Σ‖b‖²]/(m(m−1)) − 2⟨Σa, Σb⟩/(nm)
    (the U-statistic of :func:`mmd2` for :class:`~ipm.kernels.FeatureKernel`, in O((n + m)F)).
    """
    n, m = fa.shape[-2], fb.shape[-2]
    sa, sb = fa.sum(-2), fb.sum(-2)
    aa = ((sa * sa).sum(-1) - (fa * fa).sum((-1, -2))) / (n * (n - 1))
    bb = ((sb * sb).sum(-1) - (fb * fb).sum((-1, -2))) / (m * (m - 1))
    return aa + bb - 2 * (sa * sb).sum(-1) / (n * m)


class SquaredMMD(Flow):
    """F(ρ) = ½ MMD²(ρ, p) → h_ρ = E_{y~p} k(y, ·) − E_{x~ρ} k(x, ·) (Table 2; the witness).

    ∇h(x) = (1/M) Σ_j ∇_x k(x, y_j) − (1/N) Σ_i ∇_x k(x, x_i), in closed form on the samples,
    chunked so that no N×M kernel matrix is held.

    With a noise-adaptive kernel (:meth:`~ipm.kernels.Kernel.at`, e.g. the learned feature
    kernel k_t of DMMD, Galashov et al. 2024) the field at time t uses k_t.

    Args:
        kernel: any :class:`~ipm.kernels.Kernel`.
        data: (M, D) samples of p.
    """

    def __init__(self, kernel: Kernel, data: Tensor, *, chunk_size: int | None = None):
        if not isinstance(kernel, Kernel):
            raise TypeError(f"kernel: expected an ipm.kernels.Kernel, got {type(kernel).__name__}")
        self.kernel = kernel
        self.data = check_particles(data, "data")
        self.dim = self.data.shape[1]
        self.chunk_size = chunk_size

    def with_data(self, data: Tensor) -> SquaredMMD:
        """The same flow towards a fresh sample of p."""
        return SquaredMMD(self.kernel, data, chunk_size=self.chunk_size)

    def witness(self, x: Tensor, particles: Tensor | None = None, t=None) -> Tensor:
        """h_ρ(x) = E_p k(y, x) − E_ρ k(x', x), shape (N,) (with k_t at time t)."""
        kernel = self.kernel.at(t)
        x = check_particles(x, "x", self.dim)
        particles = x if particles is None else check_particles(particles, "particles", self.dim)
        check_same_device_dtype([("data", self.data), ("x", x), ("particles", particles)])
        wp = torch.full(
            (self.data.shape[0], 1), 1.0 / self.data.shape[0], dtype=x.dtype, device=x.device
        )
        wr = torch.full(
            (particles.shape[0], 1), 1.0 / particles.shape[0], dtype=x.dtype, device=x.device
        )
        kp = kernel.matvec(x, self.data, wp, chunk_size=self.chunk_size)
        kr = kernel.matvec(x, particles, wr, chunk_size=self.chunk_size)
        return (kp - kr)[:, 0]

    def _field(self, x, t, particles):
        check_same_device_dtype([("data", self.data), ("x", x)])
        kernel = self.kernel.at(t)
        return kernel.grad_witness(x, self.data, particles, chunk_size=self.chunk_size)

    def __repr__(self) -> str:
        return f"SquaredMMD({self.kernel!r}, data={tuple(self.data.shape)})"

"""Stein gradient flows (Eq. 17) with any matrix kernel; SVGD; the frozen-NTK kernel (Eq. 18)."""

from __future__ import annotations

from torch import Tensor, nn

from .._checks import check_particles, check_same_device_dtype
from ..flows.base import Flow
from ..flows.scores import as_score
from ..kernels.base import Kernel
from ..ntk.operator import ntk_operator

__all__ = ["FrozenNTK", "SteinFlow", "stein_field", "svgd_field"]


class FrozenNTK:
    """The generator NTK k_{g_θ0}(z, z') frozen at θ_0, as a matrix kernel on a particle set.

    Particle i is g(z_i): ``matvec(v)`` returns Σ_j k_{θ0}(z_i, z_j) v_j (N, D), computed
    matrix-free by :func:`~ipm.ntk.ntk_operator` at θ_0 (Eq. 18's constant kernel).
    """

    def __init__(self, model: nn.Module, latents: Tensor, params: dict[str, Tensor] | None = None):
        self.model = model
        self.latents = latents
        self.params = {
            k: v.detach().clone() for k, v in (params or dict(model.named_parameters())).items()
        }

    def matvec(self, v: Tensor) -> Tensor:
        if v.shape[0] != self.latents.shape[0]:
            raise ValueError(
                f"v: expected one row per latent ({self.latents.shape[0]}), got shape {tuple(v.shape)}"
            )
        return ntk_operator(self.model, self.latents, v, params=self.params)


def stein_field(
    kernel: Kernel | FrozenNTK, x: Tensor, field: Tensor, particles: Tensor | None = None
) -> Tensor:
    """Stein flow velocity (Eq. 17): −E_{x'~ρ}[k(x, x') ∇_W F(ρ)(x')] = (1/M) Σ_j k(x, x_j) ∇h(x_j).

    Args:
        kernel: a scalar kernel (acting as k·I) or a :class:`FrozenNTK` (x must then be the
            particle set itself, row i ↔ latent z_i).
        x: (N, D) where the velocity is evaluated.
        field: (M, D) values ∇h_ρ(x_j) = −∇_W F(ρ)(x_j) at the particles.
        particles: (M, D) the particles x_j (default x).
    """
    x = check_particles(x, "x")
    particles = x if particles is None else check_particles(particles, "particles", x.shape[1])
    field = check_particles(field, "field", x.shape[1])
    if field.shape[0] != particles.shape[0]:
        raise ValueError(
            f"field: expected one row per particle ({particles.shape[0]}), got {field.shape[0]}"
        )
    check_same_device_dtype([("x", x), ("particles", particles), ("field", field)])
    m = particles.shape[0]
    if isinstance(kernel, FrozenNTK):
        if x is not particles:
            raise ValueError("x: a FrozenNTK acts on its own particle set; pass particles=None")
        return kernel.matvec(field) / m
    if not isinstance(kernel, Kernel):
        raise TypeError(
            f"kernel: expected an ipm.kernels.Kernel or FrozenNTK, got {type(kernel).__name__}"
        )
    return kernel.matvec(x, particles, field) / m


def svgd_field(kernel: Kernel, x: Tensor, target_score, particles: Tensor | None = None) -> Tensor:
    """SVGD (Liu & Wang, 2016): the Stein flow of KL(ρ‖p) with a scalar kernel, with
    E_ρ[k ∇log ρ] integrated by parts:

        φ(x) = (1/M) Σ_j [k(x_j, x) ∇log p(x_j) + ∇_{x_j} k(x_j, x)].
    """
    x = check_particles(x, "x")
    particles = x if particles is None else check_particles(particles, "particles", x.shape[1])
    s = as_score(target_score)(particles)
    m = particles.shape[0]
    # For symmetric translation-invariant kernels ∇_{x_j} k(x_j, x) = −∇_x k(x, x_j).
    return kernel.matvec(x, particles, s) / m - kernel.grad_sum(x, particles)


class SteinFlow(Flow):
    """The Stein gradient flow (Eq. 17) of another flow's functional under a kernel:
    field(x) = (1/M) Σ_j k(x, x_j) ∇h_ρ(x_j). With :class:`FrozenNTK` this is Eq. 18."""

    def __init__(self, flow: Flow, kernel: Kernel | FrozenNTK):
        if not isinstance(flow, Flow):
            raise TypeError(f"flow: expected an ipm.flows.Flow, got {type(flow).__name__}")
        if flow.stochastic:
            raise ValueError(
                f"flow: {type(flow).__name__} is stochastic; Stein flows take deterministic fields"
            )
        self.flow, self.kernel = flow, kernel
        self.dim = flow.dim

    def _field(self, x, t, particles):
        v = self.flow.field(particles, t, particles=particles)
        if isinstance(self.kernel, FrozenNTK):
            return stein_field(self.kernel, particles, v) if x is particles else _not_same(x)
        return stein_field(self.kernel, x, v, particles)


def _not_same(x: Tensor) -> Tensor:
    raise ValueError("x: a Stein flow with a FrozenNTK is evaluated on its own particle set only")

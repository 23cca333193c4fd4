"""Gaussians with full covariance and Gaussian mixtures, with exact smoothed densities.

Smoothing by the Gaussian kernel, p ⋆ k_σ (the law of x + σε, ε ~ N(0, I)), maps a Gaussian
N(m, Σ) to N(m, Σ + σ²I); a mixture therefore stays a mixture with covariances Σ_k + σ²I.
These closed forms are the ground truth of the checks in ``validation/`` and ``tests/``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .._checks import check_particles, check_positive, check_positive_int

__all__ = ["Gaussian", "GaussianMixture"]


def _sigma_value(sigma: float | Tensor, name: str = "sigma") -> float:
    return check_positive(sigma, name, allow_zero=True)


class GaussianMixture:
    """Mixture of K Gaussians with full covariances, with exact log-density and score of p ⋆ k_σ.

    Args:
        weights: (K,) non-negative mixture weights (normalised here).
        means: (K, D) component means.
        covs: (K, D, D) symmetric positive-definite covariances.

    All methods accept ``sigma`` (default 0): the result is that of the smoothed law
    p ⋆ k_σ = Σ_k w_k N(m_k, Σ_k + σ² I).
    """

    def __init__(self, weights: Tensor, means: Tensor, covs: Tensor):
        if not isinstance(means, Tensor) or means.ndim != 2:
            raise ValueError(
                f"means: expected a tensor of shape (K, D), got "
                f"{tuple(means.shape) if isinstance(means, Tensor) else type(means).__name__}"
            )
        k, d = means.shape
        if not isinstance(weights, Tensor) or weights.shape != (k,):
            raise ValueError(
                f"weights: expected shape ({k},), got "
                f"{tuple(weights.shape) if isinstance(weights, Tensor) else type(weights).__name__}"
            )
        if not isinstance(covs, Tensor) or covs.shape != (k, d, d):
            raise ValueError(
                f"covs: expected shape ({k}, {d}, {d}), got "
                f"{tuple(covs.shape) if isinstance(covs, Tensor) else type(covs).__name__}"
            )
        if not means.is_floating_point():
            raise TypeError(f"means: expected a floating dtype, got {means.dtype}")
        weights = weights.to(means)
        covs = covs.to(means)
        if bool((weights < 0).any()) or float(weights.sum()) <= 0:
            raise ValueError(
                f"weights: expected non-negative weights with a positive sum, got {weights}"
            )
        for name, t in (("weights", weights), ("means", means), ("covs", covs)):
            if not bool(torch.isfinite(t).all()):
                raise ValueError(f"{name}: expected finite values")
        if not torch.allclose(covs, covs.transpose(-1, -2)):
            raise ValueError("covs: expected symmetric matrices")
        try:
            self._chol = torch.linalg.cholesky(covs)  # kept for sampling
        except RuntimeError as exc:
            raise ValueError("covs: expected positive-definite matrices") from exc
        self.weights = weights / weights.sum()
        self.means = means
        self.covs = covs

    # ------------------------------------------------------------------ properties
    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self.means.dtype

    @property
    def device(self) -> torch.device:
        return self.means.device

    def to(self, *args, **kwargs) -> GaussianMixture:
        """Move/cast like :meth:`torch.Tensor.to` (e.g. ``mix.to(torch.float64)``)."""
        return type(self)._from_parts(
            self.weights.to(*args, **kwargs),
            self.means.to(*args, **kwargs),
            self.covs.to(*args, **kwargs),
        )

    @classmethod
    def _from_parts(cls, weights, means, covs):
        obj = cls.__new__(cls)
        obj.weights, obj.means, obj.covs = weights, means, covs
        obj._chol = None  # factored on first sample
        return obj

    def _covs_cholesky(self) -> Tensor:
        """Cholesky factors of the covariances, computed once per mixture (sampling calls this
        every training step): at validation, or on first use for mixtures made by
        :meth:`to` / :meth:`smoothed`."""
        if self._chol is None:
            self._chol = torch.linalg.cholesky(self.covs)
        return self._chol

    def smoothed(self, sigma: float | Tensor) -> GaussianMixture:
        """The law p ⋆ k_σ: the same mixture with covariances Σ_k + σ² I."""
        s = _sigma_value(sigma)
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        return type(self)._from_parts(self.weights, self.means, self.covs + s * s * eye)

    # ------------------------------------------------------------------ densities
    def _stratified_indices(self, n: int) -> Tensor:
        exact = self.weights.double().cpu() * n
        counts = exact.floor().long()
        rest = n - int(counts.sum())
        if rest > 0:
            counts[torch.argsort(exact - counts, descending=True)[:rest]] += 1
        return torch.repeat_interleave(torch.arange(self.n_components), counts).to(self.device)

    def _terms(self, x: Tensor, sigma: float | Tensor) -> tuple[Tensor, Tensor]:
        if isinstance(sigma, Tensor) and sigma.ndim == 1 and sigma.numel() > 1:
            return self._component_terms_per_particle(x, sigma)
        return self._component_terms(x, _sigma_value(sigma))

    def _component_terms_per_particle(self, x: Tensor, sigma: Tensor) -> tuple[Tensor, Tensor]:
        """:meth:`_component_terms` with one σ_i per particle: covariances Σ_k + σ_i² I, one
        Cholesky factor per (particle, component) pair (N·K·D² memory: for low-D mixtures)."""
        x = self._checked(x)
        if sigma.shape != (x.shape[0],):
            raise ValueError(
                f"sigma: expected one level per particle, shape ({x.shape[0]},), "
                f"got {tuple(sigma.shape)}"
            )
        if not bool(torch.isfinite(sigma).all()) or bool((sigma < 0).any()):
            raise ValueError("sigma: expected finite levels >= 0")
        s2 = sigma.to(dtype=self.dtype, device=self.device)[:, None, None, None] ** 2
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        chol = torch.linalg.cholesky(self.covs[None] + s2 * eye)  # (N, K, D, D)
        diff = (x[:, None, :] - self.means[None])[..., None]  # (N, K, D, 1)
        y = torch.linalg.solve_triangular(chol, diff, upper=False)
        maha = (y * y).sum((-2, -1))  # (N, K)
        prec_diff = torch.linalg.solve_triangular(chol.transpose(-1, -2), y, upper=True)[..., 0]
        return self._log_weighted(maha, chol), prec_diff

    def _checked(self, x: Tensor) -> Tensor:
        x = check_particles(x, "x", self.dim)
        if x.dtype != self.dtype or x.device != self.device:
            raise TypeError(
                f"x: expected dtype {self.dtype} on {self.device} (the distribution's), "
                f"got {x.dtype} on {x.device}"
            )
        return x

    def _log_weighted(self, maha: Tensor, chol: Tensor) -> Tensor:
        """log w_k + log N(x; m_k, C_k) from the Mahalanobis terms and the factors of C_k."""
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        log_comp = -0.5 * (maha + logdet + self.dim * math.log(2 * math.pi))
        return torch.log(self.weights)[None] + log_comp

    def _component_terms(self, x: Tensor, sigma: float) -> tuple[Tensor, Tensor]:
        """Per-component log w_k + log N(x; m_k, C_k) (N, K) and C_k^{-1}(x − m_k) (N, K, D)."""
        x = self._checked(x)
        eye = torch.eye(self.dim, dtype=self.dtype, device=self.device)
        cov = self.covs + sigma * sigma * eye
        chol = torch.linalg.cholesky(cov)  # (K, D, D)
        # One triangular solve per component with all N right-hand sides: (K, D, N).
        diff = x.T[None] - self.means[:, :, None]
        y = torch.linalg.solve_triangular(chol, diff, upper=False)
        maha = (y * y).sum(1).T  # (N, K)
        # C^{-1} diff = L^{-T} y, back to (N, K, D)
        prec_diff = torch.linalg.solve_triangular(chol.transpose(-1, -2), y, upper=True).permute(
            2, 0, 1
        )
        return self._log_weighted(maha, chol), prec_diff

    def log_prob(self, x: Tensor, sigma: float | Tensor = 0.0) -> Tensor:
        """log (p ⋆ k_σ)(x) for particles x of shape (N, D); returns (N,).

        ``sigma`` is one level for all particles, or a tensor (N,) of one level per particle
        (x_i scored under p ⋆ k_{σ_i}, as a score-matching batch needs)."""
        logits, _ = self._terms(x, sigma)
        return torch.logsumexp(logits, dim=1)

    def score(self, x: Tensor, sigma: float | Tensor = 0.0) -> Tensor:
        """∇_x log (p ⋆ k_σ)(x) = −Σ_k r_k(x) (Σ_k + σ²I)^{-1}(x − m_k); returns (N, D).

        r_k(x) are the posterior responsibilities of the smoothed mixture. ``sigma``: one
        level, or a tensor (N,) of one level per particle (see :meth:`log_prob`).
        """
        logits, prec_diff = self._terms(x, sigma)
        resp = torch.softmax(logits, dim=1)  # (N, K)
        return -(resp[..., None] * prec_diff).sum(1)

    def sample(
        self,
        n: int,
        *,
        sigma: float | Tensor = 0.0,
        generator: torch.Generator | None = None,
        stratified: bool = False,
    ) -> Tensor:
        """Draw n samples of p ⋆ k_σ; returns (n, D).

        ``stratified=True`` draws round(n·w_k) points from component k (largest remainders),
        removing the multinomial noise of the component counts — for two-sample statistics
        between well-separated mixtures, where that noise dominates.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n: expected an integer >= 1, got {n!r}")
        s = _sigma_value(sigma)
        if stratified:
            idx = self._stratified_indices(n)
        else:
            idx = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        chol = self._covs_cholesky()
        eps = torch.randn(n, self.dim, dtype=self.dtype, device=self.device, generator=generator)
        x = self.means[idx] + (chol[idx] @ eps[..., None])[..., 0]
        if s > 0:
            x = x + s * torch.randn(
                n, self.dim, dtype=self.dtype, device=self.device, generator=generator
            )
        return x


class Gaussian(GaussianMixture):
    """N(mean, cov) with full covariance: a one-component :class:`GaussianMixture`.

    Args:
        mean: (D,) mean.
        cov: (D, D) covariance; a scalar or (D,) tensor is read as an isotropic / diagonal one.
    """

    def __init__(self, mean: Tensor, cov: Tensor | float):
        if not isinstance(mean, Tensor) or mean.ndim != 1:
            raise ValueError(
                "mean: expected a tensor of shape (D,), got "
                f"{tuple(mean.shape) if isinstance(mean, Tensor) else type(mean).__name__}"
            )
        d = mean.shape[0]
        if not isinstance(cov, Tensor):
            cov = torch.tensor(float(cov), dtype=mean.dtype, device=mean.device)
        cov = cov.to(mean)
        if cov.ndim == 0:
            cov = cov * torch.eye(d, dtype=mean.dtype, device=mean.device)
        elif cov.ndim == 1:
            cov = torch.diag(cov)
        if cov.shape != (d, d):
            raise ValueError(f"cov: expected shape ({d}, {d}), got {tuple(cov.shape)}")
        super().__init__(torch.ones(1, dtype=mean.dtype, device=mean.device), mean[None], cov[None])

    @property
    def mean(self) -> Tensor:
        return self.means[0]

    @property
    def cov(self) -> Tensor:
        return self.covs[0]

    @classmethod
    def standard(cls, dim: int, dtype: torch.dtype = torch.float32, device=None) -> Gaussian:
        """N(0, I) in dimension ``dim``."""
        check_positive_int(dim, "dim")
        return cls(torch.zeros(dim, dtype=dtype, device=device), 1.0)

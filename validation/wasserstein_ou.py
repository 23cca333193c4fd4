"""Finding 2, closed form: Wasserstein gradient flows of the forward KL as PMs.

From a Gaussian start N(m0, S0) towards a Gaussian target p = N(μ, Σ), both the deterministic
forward-KL flow dx = [∇log p − ∇log ρ_t](x) dt (Table 2, ∇log ρ_t from a Gaussian fit of the
particles) and Langevin dynamics dx = ∇log p dt + √2 dW (Eq. 4) have the Ornstein–Uhlenbeck
marginals N(m_t, S_t), with A = Σ⁻¹ (symmetric):

    m_t = μ + e^{−At}(m0 − μ),      S_t = Σ + e^{−At}(S0 − Σ)e^{−At}.

Measured: the error ‖m̂_T − m_T‖ + ‖Ŝ_T − S_T‖_F of the particles' moments. Its slope in the
number of particles N (fine steps; Monte-Carlo error) must be −0.5 ± 0.2, and in the step size h
(error of the discretisation; for the deterministic flow the closed form starts from the
particles' own initial moments, which removes the Monte-Carlo error exactly) 1 ± 0.2.
"""

from __future__ import annotations

import numpy as np
import torch

import ipm
from ipm.distributions import Gaussian
from ipm.flows import ExactScore, ForwardKL, GaussianFitScore, Langevin
from ipm.solvers import Euler, EulerMaruyama, uniform_grid

from .result import CheckResult, loglog_slope

NAME = "wasserstein_ou"
DT = torch.float64
T = 1.0


def problem():
    mu = torch.tensor([2.0, -1.0], dtype=DT)
    sigma = torch.tensor([[1.0, 0.4], [0.4, 0.5]], dtype=DT)
    m0 = torch.tensor([-1.0, 1.0], dtype=DT)
    s0 = torch.tensor([[0.3, 0.0], [0.0, 2.0]], dtype=DT)
    return mu, sigma, m0, s0


def closed_form(mu, sigma, m0, s0, t):
    e = torch.linalg.matrix_exp(-torch.linalg.inv(sigma) * t)
    return mu + e @ (m0 - mu), sigma + e @ (s0 - sigma) @ e.T


def moment_error(x, m, s) -> float:
    return ((x.mean(0) - m).norm() + (torch.cov(x.T) - s).norm()).item()


def run(quick: bool = True, seed: int = 0, *, flow_factory=None) -> CheckResult:
    mu, sigma, m0, s0 = problem()
    p = Gaussian(mu, sigma)
    start = Gaussian(m0, s0)
    det = flow_factory(p) if flow_factory else ForwardKL(p, GaussianFitScore())
    lang = Langevin(ExactScore(p))
    g = torch.Generator().manual_seed(seed)
    m_t, s_t = closed_form(mu, sigma, m0, s0, T)
    # Slope in N: fine steps, true initial law; averaged over repeats.
    ns = [250, 1000, 4000, 16000] if quick else [500, 2000, 8000, 32000, 128000]
    reps = 8 if quick else 16
    fine = 100 if quick else 400
    err_n_det, err_n_lang = [], []
    for n in ns:
        e_d, e_l = [], []
        for _ in range(reps):
            x0 = start.sample(n, generator=g)
            e_d.append(
                moment_error(
                    ipm.ParticleModel(det, Euler(uniform_grid(0, T, fine))).evolve(x0).x, m_t, s_t
                )
            )
            xl = (
                ipm.ParticleModel(lang, EulerMaruyama(uniform_grid(0, T, fine)))
                .evolve(x0, generator=g)
                .x
            )
            e_l.append(moment_error(xl, m_t, s_t))
        err_n_det.append(float(np.sqrt(np.mean(np.square(e_d)))))  # RMS over repeats
        err_n_lang.append(float(np.sqrt(np.mean(np.square(e_l)))))
    # Slope in h.
    steps = [5, 10, 20, 40] if quick else [5, 10, 20, 40, 80]
    hs = [T / k for k in steps]
    x0 = start.sample(4000, generator=g)
    m_emp, s_emp = closed_form(mu, sigma, x0.mean(0), torch.cov(x0.T), T)
    err_h_det = [
        moment_error(
            ipm.ParticleModel(det, Euler(uniform_grid(0, T, k))).evolve(x0).x, m_emp, s_emp
        )
        for k in steps
    ]
    n_lang = 100_000 if quick else 400_000
    xl0 = start.sample(n_lang, generator=g)
    err_h_lang = [
        moment_error(
            ipm.ParticleModel(lang, EulerMaruyama(uniform_grid(0, T, k)))
            .evolve(xl0, generator=g)
            .x,
            m_t,
            s_t,
        )
        for k in steps
    ]
    slopes = {
        "deterministic flow: slope in N": loglog_slope(ns, err_n_det),
        "Langevin: slope in N": loglog_slope(ns, err_n_lang),
        "deterministic flow: slope in h": loglog_slope(hs, err_h_det),
        "Langevin: slope in h": loglog_slope(hs, err_h_lang),
    }
    dev = max(
        abs(slopes["deterministic flow: slope in N"] + 0.5),
        abs(slopes["Langevin: slope in N"] + 0.5),
        abs(slopes["deterministic flow: slope in h"] - 1.0),
        abs(slopes["Langevin: slope in h"] - 1.0),
    )
    return CheckResult(
        name=NAME,
        finding="Wasserstein gradient flows are PMs (F2), closed form",
        equation="Table 2, Eq. 4",
        quantity="max deviation of the 4 slopes from −½ (N) and 1 (h)",
        expected="slopes −0.5 ± 0.2 in N, 1 ± 0.2 in h",
        measured=dev,
        tolerance=0.2,
        passed=bool(dev <= 0.2),
        details={
            **slopes,
            f"deterministic error at N={ns[-1]}": err_n_det[-1],
            f"Langevin error at N={ns[-1]}": err_n_lang[-1],
        },
        arrays={
            "n": np.array(ns, float),
            "err_n_det": np.array(err_n_det),
            "err_n_lang": np.array(err_n_lang),
            "h": np.array(hs),
            "err_h_det": np.array(err_h_det),
            "err_h_lang": np.array(err_h_lang),
        },
    )


def plot(res: CheckResult):
    import matplotlib.pyplot as plt

    a = res.arrays
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    axes[0].loglog(a["n"], a["err_n_det"], "o-", label="forward-KL flow (deterministic)")
    axes[0].loglog(a["n"], a["err_n_lang"], "s-", label="Langevin")
    axes[0].loglog(
        a["n"], a["err_n_det"][0] * (a["n"] / a["n"][0]) ** -0.5, "k--", lw=1, label="N^-1/2"
    )
    axes[0].set_xlabel("particles N")
    axes[0].set_ylabel("moment error at T")
    axes[1].loglog(a["h"], a["err_h_det"], "o-", label="forward-KL flow (deterministic)")
    axes[1].loglog(a["h"], a["err_h_lang"], "s-", label="Langevin")
    axes[1].loglog(a["h"], a["err_h_det"][-1] * a["h"] / a["h"][-1], "k--", lw=1, label="h")
    axes[1].set_xlabel("step size h")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.suptitle("OU closed form: forward-KL flow and Langevin")
    fig.tight_layout()
    return fig

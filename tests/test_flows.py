import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ipm.distributions import Gaussian, five_gaussians
from ipm.flows import (
    DiscriminatorFlow,
    EDMFamily,
    EDMFlow,
    EDMProbabilityFlow,
    Entropy,
    ExactScore,
    FDivergence,
    ForwardKL,
    KernelDensityScore,
    Langevin,
    NCSNFlow,
    ScoreDifference,
    SquaredMMD,
    analytic_log_ratio,
    mmd2,
)
from ipm.kernels import IMQ, RBF, Laplace

DT = torch.float64


def gaussians(seed, d):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=DT)
    p = Gaussian(torch.randn(d, generator=g, dtype=DT), a @ a.T / d + 0.5 * torch.eye(d, dtype=DT))
    rho = Gaussian(
        torch.randn(d, generator=g, dtype=DT), torch.rand(d, generator=g, dtype=DT) + 0.3
    )
    return p, rho


def autograd_field(h, x):
    xg = x.clone().requires_grad_()
    (g,) = torch.autograd.grad(h(xg).sum(), xg)
    return g


@given(
    kern=st.sampled_from(["rbf", "imq", "laplace"]),
    bw=st.floats(0.3, 3.0),
    n=st.integers(2, 30),
    m=st.integers(2, 30),
    d=st.integers(1, 4),
    seed=st.integers(0, 1000),
)
def test_mmd_flow_is_gradient_of_witness(kern, bw, n, m, d, seed):
    g = torch.Generator().manual_seed(seed)
    k = {"rbf": RBF(bw), "imq": IMQ(bw), "laplace": Laplace(bw)}[kern]
    data = torch.randn(m, d, generator=g, dtype=DT) + 1.0
    rho = torch.randn(n, d, generator=g, dtype=DT)
    x = torch.randn(5, d, generator=g, dtype=DT)
    flow = SquaredMMD(k, data, chunk_size=3)
    ref = autograd_field(lambda xx: flow.witness(xx, rho), x)
    torch.testing.assert_close(flow.field(x, particles=rho), ref, rtol=1e-9, atol=1e-12)


@given(n=st.integers(2, 40), seed=st.integers(0, 1000), bw=st.floats(0.2, 5.0))
def test_mmd2_nonnegative_zero_on_equal_sets_and_permutation_invariant(n, seed, bw):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g, dtype=DT)
    y = torch.randn(n + 3, 2, generator=g, dtype=DT) + 0.5
    k = RBF(bw)
    assert mmd2(x, y, k) >= -1e-12
    assert abs(mmd2(x, x, k).item()) < 1e-12
    perm = torch.randperm(n, generator=g)
    torch.testing.assert_close(mmd2(x[perm], y, k), mmd2(x, y, k), rtol=1e-10, atol=1e-14)
    # unbiased estimator: the U-statistic with the diagonal terms removed
    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    m = y.shape[0]
    ref = (
        (kxx.sum() - kxx.trace()) / (n * (n - 1))
        + (kyy.sum() - kyy.trace()) / (m * (m - 1))
        - 2 * kxy.mean()
    )
    torch.testing.assert_close(mmd2(x, y, k, unbiased=True), ref, rtol=1e-10, atol=1e-14)


@given(d=st.integers(1, 4), seed=st.integers(0, 1000))
def test_forward_kl_is_gradient_of_log_ratio(d, seed):
    p, rho = gaussians(seed, d)
    x = torch.randn(6, d, dtype=DT)
    flow = ForwardKL(p, ExactScore(rho))
    ref = autograd_field(lambda xx: p.log_prob(xx) - rho.log_prob(xx), x)
    torch.testing.assert_close(flow.field(x), ref, rtol=1e-10, atol=1e-12)
    # the f-divergence form with f(r) = r log r gives the same field (h = −log r − 1)
    fkl = FDivergence("kl", analytic_log_ratio(rho, p))
    torch.testing.assert_close(fkl.field(x), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "kind, hfun",
    [
        ("reverse_kl", lambda lr: torch.exp(-lr)),
        ("js", lambda lr: -0.5 * torch.log(2 * torch.exp(lr) / (torch.exp(lr) + 1))),
        ("chi2", lambda lr: -2 * (torch.exp(lr) - 1)),
    ],
)
def test_f_divergence_fields_match_closed_form_h(kind, hfun):
    p, rho = gaussians(3, 2)
    x = torch.randn(8, 2, dtype=DT)
    flow = FDivergence(kind, analytic_log_ratio(rho, p))
    ref = autograd_field(lambda xx: hfun(rho.log_prob(xx) - p.log_prob(xx)), x)
    torch.testing.assert_close(flow.field(x), ref, rtol=1e-9, atol=1e-12)


def test_entropy_and_kde_score():
    rho = Gaussian(torch.zeros(2, dtype=DT), 2.0)
    x = torch.randn(5, 2, dtype=DT)
    torch.testing.assert_close(Entropy(ExactScore(rho)).field(x), -rho.score(x))
    # a KDE of many particles approaches the true score of rho smoothed by the bandwidth
    # (evaluated in the bulk, |x| <~ 1 std, where the Monte-Carlo error is small)
    pts = rho.sample(100_000, generator=torch.Generator().manual_seed(1))
    xc = 0.5 * x
    est = KernelDensityScore(0.5)(xc, particles=pts)
    torch.testing.assert_close(est, rho.score(xc, 0.5), atol=0.04, rtol=0)
    assert (est - rho.score(xc, 0.0)).abs().max() > 0  # the smoothing is part of the estimate


def test_score_flows_in_sigma_time():
    p = five_gaussians(dtype=DT)
    rho = Gaussian(torch.zeros(2, dtype=DT), 4.0)
    x = torch.randn(7, 2, dtype=DT)
    s = 0.8
    torch.testing.assert_close(EDMProbabilityFlow(p).field(x, s), -s * p.score(x, s))
    torch.testing.assert_close(
        EDMFlow(p, ExactScore(rho)).field(x, s), -s * (2 * p.score(x, s) - rho.score(x))
    )
    for a in (0.0, 0.5, 1.0):
        fam = EDMFamily(p, a, ExactScore(rho))
        torch.testing.assert_close(
            fam.field(x, s), -s * (2 * p.score(x, s) - (1 - a) * rho.score(x))
        )
        assert fam.diffusion(s) == pytest.approx((2 * a * s) ** 0.5)
        # the deterministic velocity b − (g²/2)∇log ρ is the same for every α (Fokker–Planck)
        det = fam.field(x, s) + 0.5 * fam.diffusion(s) ** 2 * rho.score(x)
        torch.testing.assert_close(det, EDMFlow(p, ExactScore(rho)).field(x, s))
    assert not EDMFlow(p).stochastic and EDMFamily(p, 1.0).stochastic
    torch.testing.assert_close(
        NCSNFlow(p, 0.5, ExactScore(rho)).field(x, 3.0), p.score(x, 0.5) - rho.score(x)
    )
    lang = Langevin(p, lambda t: 1.0 / (1 + t))
    torch.testing.assert_close(lang.field(x, 1.0), p.score(x, 0.5))
    assert lang.diffusion(0.0) == pytest.approx(2**0.5)


@given(
    seed=st.integers(0, 1000),
    sigma=st.floats(0.1, 3.0),
    mu_p=st.floats(0.0, 2.0),
    mu_r=st.floats(0.0, 2.0),
)
def test_score_difference(seed, sigma, mu_p, mu_r):
    p = five_gaussians(dtype=DT)
    g = torch.Generator().manual_seed(seed)
    pts = torch.randn(20, 2, generator=g, dtype=DT)
    x = torch.randn(4, 2, generator=g, dtype=DT)
    from ipm.distributions import Empirical

    flow = ScoreDifference(p, mu_p=mu_p, mu_rho=mu_r)
    ref = mu_p * p.score(x, sigma) - mu_r * Empirical(pts).score(x, sigma)
    torch.testing.assert_close(flow.field(x, sigma, particles=pts), ref, rtol=1e-10, atol=1e-12)


def test_discriminator_flow_is_minus_grad_c_of_f():
    w = torch.tensor([1.5, -0.5], dtype=DT)
    f = lambda x: x @ w  # noqa: E731
    x = torch.randn(5, 2, dtype=DT)
    # NS: c(f) = softplus(−f) → −∇c = sigmoid(−f) ∇f
    ns = DiscriminatorFlow(f, "ns").field(x)
    torch.testing.assert_close(ns, torch.sigmoid(-(x @ w))[:, None] * w)
    torch.testing.assert_close(DiscriminatorFlow(f, "ipm").field(x), -w.expand(5, 2))
    torch.testing.assert_close(DiscriminatorFlow(f, "hinge").field(x), w.expand(5, 2))
    ft = DiscriminatorFlow(lambda x, t: t * (x @ w), "ipm", time_conditioned=True)
    torch.testing.assert_close(ft.field(x, 0.5), -0.5 * w.expand(5, 2))


def test_flow_sum_is_weighted_sum():
    p = five_gaussians(dtype=DT)
    data = p.sample(50)
    x = torch.randn(10, 2, dtype=DT)
    a, b = SquaredMMD(RBF(1.0), data), Entropy(KernelDensityScore(0.5))
    torch.testing.assert_close((a + 0.3 * b).field(x), a.field(x) + 0.3 * b.field(x))
    with pytest.raises(ValueError, match="stochastic"):
        a + Langevin(p)


def test_flow_bad_inputs():
    p = five_gaussians()
    data = p.sample(20)
    flow = SquaredMMD(RBF(1.0), data)
    with pytest.raises(ValueError, match="x: expected particles of dimension D=2"):
        flow.field(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="x: expected finite values"):
        flow.field(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="particles: expected particles of dimension D=2"):
        flow.field(torch.zeros(4, 2), particles=torch.zeros(3, 5))
    with pytest.raises(TypeError, match="particles: expected dtype torch.float32"):
        flow.field(torch.zeros(4, 2), particles=torch.zeros(3, 2, dtype=DT))
    with pytest.raises(ValueError, match="field"):
        DiscriminatorFlow(lambda x: x.sum(1) * float("inf"), "ipm").field(torch.ones(2, 2))
    with pytest.raises(ValueError, match="sigma: expected a finite number > 0"):
        ScoreDifference(p, sigma=0.0)
    with pytest.raises(ValueError, match="alpha: expected a number in"):
        EDMFamily(p, 1.5)
    with pytest.raises(ValueError, match="t: EDMProbabilityFlow reads σ from the time t"):
        EDMProbabilityFlow(p).field(torch.zeros(2, 2))
    with pytest.raises(ValueError, match="t .= sigma."):
        EDMProbabilityFlow(p).field(torch.zeros(2, 2), -1.0)
    with pytest.raises(ValueError, match="bandwidth"):
        KernelDensityScore(-0.1)
    with pytest.raises(ValueError, match="kind: expected one of"):
        FDivergence("hellinger-ish", lambda x, p: x[:, 0])


def test_score_difference_takes_one_sigma_per_particle():
    """With t of shape (N,), each row is the score difference at its own σ (Eq. 27's draws)."""
    p = five_gaussians().to(DT)
    g = torch.Generator().manual_seed(0)
    x = 2 * torch.randn(5, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.1, 0.5, 1.0, 2.0, 4.0], dtype=DT)
    q = Gaussian(torch.zeros(2, dtype=DT), 1.5)
    flow = ScoreDifference(ExactScore(p), ExactScore(q), mu_p=1.5, mu_rho=0.5)
    rows = torch.cat([flow.field(x[i : i + 1], float(sigma[i])) for i in range(5)])
    torch.testing.assert_close(flow.field(x, sigma), rows)
    with pytest.raises(ValueError, match="sigma"):
        flow.field(x, -sigma)


def test_noised_field_is_the_flow_at_noised_points_times_a_power_of_sigma():
    from ipm.flows import NoisedField

    p = five_gaussians().to(DT)
    g = torch.Generator().manual_seed(1)
    x, eps = torch.randn(4, 2, generator=g, dtype=DT), torch.randn(4, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.2, 0.5, 1.0, 3.0], dtype=DT)
    flow = ScoreDifference(ExactScore(p), ExactScore(Gaussian(torch.zeros(2, dtype=DT), 1.0)))
    xt = x + sigma[:, None] * eps
    for k in (1, 2):
        want = sigma[:, None] ** k * flow.field(xt, sigma)
        torch.testing.assert_close(NoisedField(flow, sigma, eps, power=k).field(x), want)


def test_denoiser_score_and_loss_are_eq_23_and_24():
    """s = (D − x)/σ² with one σ per row (clamped D on request); the loss is the mean of
    ‖D(x + σε, σ) − x‖², weighted by λ(σ) = (σ² + σ_d²)/(σ σ_d)² with σ_d."""
    from ipm.flows import DenoiserScore, denoising_loss

    def den(x, s):
        s = torch.as_tensor(s, dtype=x.dtype)
        return 3 * x / (1 + (s[:, None] if s.ndim else s))

    g = torch.Generator().manual_seed(2)
    x, eps = torch.randn(5, 2, generator=g, dtype=DT), torch.randn(5, 2, generator=g, dtype=DT)
    sigma = torch.tensor([0.1, 0.3, 1.0, 2.0, 5.0], dtype=DT)
    want = (3 * x / (1 + sigma[:, None]) - x) / sigma[:, None] ** 2
    torch.testing.assert_close(DenoiserScore(den)(x, sigma), want)
    clamped = (torch.clamp(3 * x / (1 + sigma[:, None]), -0.5, 0.5) - x) / sigma[:, None] ** 2
    torch.testing.assert_close(DenoiserScore(den, clamp=(-0.5, 0.5))(x, sigma), clamped)
    sq = ((den(x + sigma[:, None] * eps, sigma) - x) ** 2).sum(1)
    torch.testing.assert_close(denoising_loss(den, x, sigma, eps), sq.mean())
    lam = (sigma**2 + 0.25) / (sigma * 0.5) ** 2
    torch.testing.assert_close(
        denoising_loss(den, x, sigma, eps, sigma_data=0.5), (lam * sq).mean()
    )


def test_squared_mmd_with_a_feature_kernel_moves_along_the_mean_feature_difference():
    """DMMD's flow: ∇h(x) = ∇⟨φ(x, t), μ_t(p) − μ_t(ρ)⟩, the kernel bound to the flow's time."""
    from ipm.kernels import FeatureKernel

    g = torch.Generator().manual_seed(3)
    w = torch.randn(2, 4, generator=g, dtype=DT)
    phi = lambda x, t: torch.sin(x @ w) * t  # noqa: E731
    data = torch.randn(50, 2, generator=g, dtype=DT) + 2
    x = torch.randn(8, 2, generator=g, dtype=DT)
    xg = x.clone().requires_grad_(True)
    direction = (phi(data, 0.5).mean(0) - phi(x, 0.5).mean(0)).detach()
    (want,) = torch.autograd.grad((phi(xg, 0.5) * direction).sum(), xg)
    torch.testing.assert_close(SquaredMMD(FeatureKernel(phi), data).field(x, 0.5), want)

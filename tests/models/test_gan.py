"""The GAN as an Int-PM: its generator step is the gradient of the generator loss (Eq. 25)."""

import torch

from tests.helpers import DT, build, sgd, step_context


def test_gan_intpm_step_equals_backprop_of_the_generator_loss():
    """Eq. 25: the surrogate −g(z)ᵀ sg(∇h) with h = −c∘f has the gradient of E[c∘f(g(z))]."""
    cfg, m = build("gan")
    for net in m.networks.values():
        net.double()
    gen, disc = m.networks["generator"], m.networks["discriminator"]
    z = torch.randn(16, 8, dtype=DT)
    loss = m.loss.fns.c(disc(gen(z))[:, 0]).mean()
    ref = torch.autograd.grad(loss, list(gen.parameters()))
    from ipm import InteractingParticleModel

    opt = torch.optim.SGD(gen.parameters(), lr=0.0)
    InteractingParticleModel(m.flow(), gen, opt).step(z)
    # the surrogate averages over the batch: E over z of c∘f, as in the GAN loss
    got = [p.grad for p in gen.parameters()]
    assert max(float((a - b).abs().max()) for a, b in zip(got, ref)) < 1e-12


def test_gan_logged_generator_loss_is_the_pointwise_loss_of_the_batch():
    """g_loss comes from the field's own forward pass: E[c∘f(g(z))] of the generated batch."""
    _, m = build("gan")
    for net in m.networks.values():
        net.double()
    out = m.train_step(step_context(), sgd(m))
    with torch.no_grad():
        want = m.loss.fns.c(m.networks["discriminator"](out["particles"])[:, 0]).mean()
    assert torch.allclose(out["g_loss"], want, atol=1e-12)


def test_discriminator_sees_fake_and_real_as_in_separate_passes():
    """One stacked pass gives f(fake), f(real) and their gradients as two passes would; with
    BatchNorm (train mode) each batch keeps its own statistics."""
    from ipm.models.gan import discriminate

    torch.manual_seed(0)
    fake, real = torch.randn(16, 2, dtype=DT), torch.randn(16, 2, dtype=DT) + 3
    for bn in (False, True):
        d = torch.nn.Sequential(
            torch.nn.Linear(2, 32),
            *([torch.nn.BatchNorm1d(32)] if bn else []),
            torch.nn.LeakyReLU(0.2),
            torch.nn.Linear(32, 1),
        ).to(DT)
        ff, fr = discriminate(d, fake, real)
        g1 = torch.autograd.grad(ff.mean() - fr.mean(), list(d.parameters()))
        sf, sr = d(fake)[:, 0], d(real)[:, 0]
        g2 = torch.autograd.grad(sf.mean() - sr.mean(), list(d.parameters()))
        assert torch.allclose(ff, sf, atol=1e-12) and torch.allclose(fr, sr, atol=1e-12)
        assert all(torch.allclose(a, b, atol=1e-12) for a, b in zip(g1, g2))

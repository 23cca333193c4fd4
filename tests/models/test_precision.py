"""Every model trains in bf16 (autocast on its networks' bodies, everything else in float32)
tracking its float32 steps: three Adam steps from the same weights and draws give losses within
2e-2 relative and weights within 1e-2 relative of the float32 run, and not equal to them (the
reduced path did run)."""

import pytest
import torch

from ipm.flows import DenoiserScore, EDMDenoiser
from ipm.models import StepContext
from tests.helpers import build, dmmd_model, sd_flow_model

MODELS = {
    "edm": {},
    "gan": {},
    "score_gan": {"edm_checkpoint": "unused"},
    "discr_flow": {},
    "sd_flow": sd_flow_model(warmup=0),
    "dmmd": dmmd_model(),
}


def three_steps(name: str, precision: str):
    kw = {k: v for k, v in MODELS[name].items() if k != "name"}
    inputs = {}
    if name == "score_gan":
        torch.manual_seed(5)
        inputs["data_score"] = DenoiserScore(EDMDenoiser(2, 0.5, width=16, depth=2, embedding=8))
    _, model = build(name, inputs, **kw)
    model.accelerate(precision)
    opts = model.make_optimizers()
    data = lambda n, g: torch.randn(n, 2, generator=g)  # noqa: E731
    ctx = StepContext(torch.Generator().manual_seed(1), data, torch.device("cpu"))
    losses = []
    for _ in range(3):
        out = model.train_step(ctx, opts)
        losses.append(torch.stack([v.float() for v in out.values() if v.numel() == 1]))
    weights = torch.cat(
        [p.detach().flatten() for net in model.networks.values() for p in net.parameters()]
    )
    return torch.stack(losses), weights


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bf16_steps_track_the_fp32_steps(name):
    (l32, w32), (l16, w16) = three_steps(name, "fp32"), three_steps(name, "bf16")
    assert not torch.equal(w32, w16)
    assert ((l16 - l32).abs() <= 2e-2 * l32.abs() + 1e-3).all(), (l32, l16)
    assert float((w16 - w32).norm() / w32.norm()) < 1e-2


def test_a_score_gans_frozen_data_denoiser_runs_in_the_runs_precision():
    den = EDMDenoiser(2, 0.5, width=16, depth=2, embedding=8)
    _, model = build("score_gan", {"data_score": DenoiserScore(den)}, edm_checkpoint="unused")
    assert model.bodies()["data_score"] is den.f
    model.accelerate("bf16")
    assert den.f._ipm_precision == "bf16" and getattr(den, "_ipm_precision", None) is None


def test_a_compiled_discriminator_trains_with_its_gradient_penalty_as_the_eager_one():
    """aot_autograd has no double backward: the penalty's forward runs eagerly
    (:func:`ipm.flows.gradient_penalty`), the rest compiled; two steps equal the eager ones."""

    def two_steps(compile: bool):
        _, model = build("discr_flow", gp={"weight": 1.0})
        model.accelerate("fp32", compile=compile)
        opts = model.make_optimizers()
        data = lambda n, g: torch.randn(n, 2, generator=g)  # noqa: E731
        ctx = StepContext(torch.Generator().manual_seed(1), data, torch.device("cpu"))
        for _ in range(2):
            model.train_step(ctx, opts)
        return torch.cat(
            [p.detach().flatten() for p in model.networks["discriminator"].parameters()]
        )

    torch.testing.assert_close(two_steps(True), two_steps(False), rtol=1e-4, atol=1e-5)

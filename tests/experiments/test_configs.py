"""Every config in ``experiments/configs`` validates, and every full MNIST / CelebA config builds
its networks and makes two training steps on CPU at batch 2, on generated stand-in data."""

import pytest
import torch

from ipm.data import data_shape, dataset
from ipm.engine import (
    load_config,
)
from ipm.models import EDM, StepContext, build_model
from ipm.models.score_gan import ScoreGAN
from tests.helpers import ROOT

MODELS = ["edm", "gan", "score_gan", "discr_flow"]


RELATED = ["sd_flow", "dmmd"]  # MNIST configs only (no paper config for CelebA)


def _two_steps(cfg, data, shape, edm_cfg=None):
    torch.manual_seed(0)
    if cfg.model.name == "score_gan":
        model = ScoreGAN(cfg.model, shape, 2, data_score=EDM(edm_cfg.model, shape).score())
    else:
        model = build_model(cfg, shape)
    opts = model.make_optimizers()
    before = {n: [p.detach().clone() for p in ps] for n, (ps, _) in model.optimizer_specs().items()}
    ctx = StepContext(
        torch.Generator().manual_seed(1),
        lambda n, g: data.sample(n, generator=g),
        torch.device("cpu"),
    )
    for _ in range(2):
        out = model.train_step(ctx, opts)
        for k, v in out.items():
            assert torch.isfinite(v).all(), k
    for n, (ps, _) in model.optimizer_specs().items():
        assert any(not torch.equal(a, p) for a, p in zip(before[n], ps)), f"{n} did not train"
    return model


SMALL = {
    "sd_flow": ["model.warmup=0"],
    "dmmd": ["model.levels_per_step=1", "model.reference=4", "model.flow_levels=1"],
}


def _config_steps_and_sample(folder, model_name, base, extra, shape_want, nfe):
    """Load ``folder/model_name.yaml`` with ``base`` + the small settings + ``extra``, train two
    steps (the Score GAN's data EDM from ``folder/edm.yaml``) and draw 2 samples."""
    sets = [*base, *SMALL.get(model_name, []), *extra]
    cfg = load_config(ROOT / f"experiments/configs/{folder}/{model_name}.yaml", sets)
    data = dataset(cfg.data)
    shape = data_shape(data)
    assert shape == shape_want
    edm = load_config(ROOT / f"experiments/configs/{folder}/edm.yaml", base)
    model = _two_steps(cfg, data, shape, edm)
    with torch.no_grad():  # the cheapest sampling: a generator pass, or a few network evaluations
        s = model.sample(2, generator=torch.Generator().manual_seed(0), nfe=nfe)
    assert s.x.shape == (2, data.dim) and torch.isfinite(s.x).all()


CPU_CONFIGS = sorted(
    (d, p.stem)
    for d in ("digits-cpu", "mnist-cpu")
    for p in (ROOT / "experiments/configs" / d).glob("*.yaml")
)


def test_all_paper_configs_validate():
    for p in sorted((ROOT / "experiments/configs/gaussians").glob("*.yaml")):
        cfg = load_config(p)
        assert cfg.model.name == p.stem


@pytest.mark.parametrize(
    "dataset_name,model_name",
    [(d, m) for d in ("mnist", "celeba") for m in MODELS] + [("mnist", m) for m in RELATED],
)
def test_full_config_two_steps_at_batch_2(dataset_name, model_name, roots):
    base = [f"data.root={roots[dataset_name]}", "train.batch_size=2"]
    extra = ["model.steps_per_level=2"] if model_name == "dmmd" else []
    shape = (1, 32, 32) if dataset_name == "mnist" else (3, 64, 64)
    _config_steps_and_sample(dataset_name, model_name, base, extra, shape, nfe=2)


def test_cpu_configs_cover_six_models_on_two_datasets():
    assert {m for _, m in CPU_CONFIGS} == set(MODELS + RELATED)
    assert len(CPU_CONFIGS) == 12


@pytest.mark.parametrize("folder,model_name", CPU_CONFIGS)
def test_cpu_config_two_steps_at_batch_2(folder, model_name, roots):
    base = ["train.batch_size=2"]
    if folder == "mnist-cpu":
        base.append(f"data.root={roots['mnist']}")
    extra = ["model.n_particles=8"] if model_name == "sd_flow" else []
    shape = (1, 16, 16) if folder == "digits-cpu" else (1, 32, 32)
    _config_steps_and_sample(folder, model_name, base, extra, shape, nfe=4)

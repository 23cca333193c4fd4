"""Evaluation of runs (:mod:`ipm.evaluate`)."""

from ipm.engine import load_config
from ipm.engine.trainer import train
from tests.helpers import ROOT


def test_evaluate_a_particle_pool_uses_each_particle_once(tmp_path, roots):
    """An SD-flow pool of 8 particles: evaluation at 20 samples uses the 8, once each."""
    from ipm.evaluate import evaluate_run

    cfg = load_config(
        ROOT / "experiments/configs/mnist-cpu/sd_flow.yaml",
        [
            f"data.root={roots['mnist']}",
            "model.n_particles=8",
            "model.move_batch=4",
            "model.warmup=1",
            "model.net.width=8",
            "train.steps=2",
            "train.batch_size=2",
            "train.progress=false",
            "eval.grid=4",
            "eval.n_samples=20",
            "eval.feature_batch=3",
        ],
    )
    train(cfg, tmp_path / "sd")
    m = evaluate_run(tmp_path / "sd")
    assert m["n_samples"] == 8 and m["pool_size"] == 8 and m["fid_counts"][0] == 8

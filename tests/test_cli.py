"""The ``ipm`` command: train, sample, evaluate and compare, end to end."""

from __future__ import annotations

import json

import pytest
import torch

from ipm.engine import (
    load_config,
    train,
)
from tests.helpers import ROOT, tiny


@pytest.mark.parametrize("name", ["edm", "gan", "discr_flow"])
def test_cli_train_sample_evaluate(tmp_path, name):
    import yaml

    from ipm.cli import main

    (tmp_path / "c.yaml").write_text(yaml.safe_dump(tiny(name, steps=12)))
    run = tmp_path / "run"
    assert main(["train", str(tmp_path / "c.yaml"), "--out", str(run)]) == 0
    for f in ("config.yaml", "meta.json", "log.jsonl", "train_summary.json", "figures"):
        assert (run / f).exists(), f
    meta = json.loads((run / "meta.json").read_text())
    assert meta["versions"]["torch"] == torch.__version__ and "git_revision" in meta
    assert main(["sample", str(run), "--n", "50", "--out", str(tmp_path / "s.npz")]) == 0
    import numpy as np

    s = np.load(tmp_path / "s.npz")
    assert s["samples"].shape == (50, 2) and np.isfinite(s["samples"]).all()
    assert main(["evaluate", str(run)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    keys = {
        "w2",
        "w2_std",
        "mmd2",
        "modes_covered",
        "off_mode_fraction",
        "nfe",
        "sample_seconds",
        "train_seconds_per_step",
    }
    assert keys <= set(m)
    assert m["nfe"] == {"edm": 11, "gan": 1, "discr_flow": 8}[name]
    if name != "gan":
        assert (run / "figures/generation.gif").stat().st_size > 0


def test_ipm_compare_writes_the_comparison(tmp_path, capsys):
    """``ipm compare A B:PATH`` reads two sets, prints the table and writes the report."""
    from ipm.cli import main

    a = {"runs": {str(s): {"mmd2": v, "modes_covered": 5} for s, v in enumerate([1, 2, 3])}}
    b = {"ref": {str(s): {"final": {"mmd2": v, "modes_covered": 5}} for s, v in enumerate([4, 5])}}
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    args = ["compare", str(tmp_path / "a.json"), f"{tmp_path / 'b.json'}:ref/*/final"]
    args += ["--labels", "ipm", "ref", "--reference", "mmd2=2.5", "--out", str(tmp_path / "o")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "| mmd2 | 2 (1 – 3) | 4.5 (4 – 5) |" in text
    assert "**2 of 3**" in text and "**0 of 2**" in text
    saved = json.loads((tmp_path / "o/compare_seeds.json").read_text())
    assert saved["seeds"] == {"ipm": [0, 1, 2], "ref": [0, 1]}
    assert (
        main(["compare", str(tmp_path / "a.json"), str(tmp_path / "a.json"), "--labels", "x", "x"])
        == 2
    )


def test_image_run_end_to_end_writes_grids(tmp_path, roots):
    from ipm.cli import main

    cfg = load_config(
        ROOT / "experiments/configs/mnist/discr_flow.yaml",
        [
            f"data.root={roots['mnist']}",
            "model.net.width=4",
            "model.flow_steps=4",
            "model.time_embedding=8",
            "train.steps=3",
            "train.batch_size=4",
            "train.progress=false",
            "eval.grid=4",
            "eval.n_samples=6",
        ],
    )
    run = tmp_path / "run"
    train(cfg, run)
    assert (run / "figures" / "step_000003.png").is_file()
    assert (run / "figures" / "generation.gif").is_file()
    assert main(["evaluate", str(run)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["data"] == "mnist" and m["nfe"] == 4 and (run / "samples.png").is_file()
    # grey images: FID/KID/P&R in the shipped classifier's feature space, counts stated
    assert m["feature_space"].startswith("mnist-classifier") and m["fid_counts"][0] == 6
    assert m["fid"] > 0 and 0 <= m["precision"] <= 1 and 0 <= m["recall"] <= 1
    from PIL import Image

    with Image.open(run / "samples.png") as im:  # 2×2 grid of 32×32 with borders, ×2
        assert im.size == (2 * (2 * 33 + 1), 2 * (2 * 33 + 1))
    # a checkpoint file evaluates too; its grid lies beside it, named after it
    from ipm.evaluate import evaluate_run

    ckpt = run / "checkpoints" / "last.pt"
    assert evaluate_run(ckpt)["grid"] == "last.samples.png"
    assert (run / "checkpoints" / "last.samples.png").is_file()


def test_an_image_config_trains_in_bf16_and_compiled_from_the_command_line(tmp_path, roots):
    """``ipm train`` of an image config with ``train.precision=bf16`` and
    ``train.compile=true``: the run trains, records both options, and samples through them."""
    from ipm.cli import main
    from ipm.engine import load_run

    sets = [
        f"data.root={roots['mnist']}",
        "model.net.kind=mlp",  # compiling an MLP takes seconds on a CPU, a U-Net minutes
        "model.net.width=16",
        "model.net.depth=2",
        "model.embedding_dim=16",
        "model.sampler_steps=2",
        "train.steps=2",
        "train.batch_size=8",
        "train.progress=false",
        "train.precision=bf16",
        "train.compile=true",
        "eval.grid=4",
        "eval.animation=false",
    ]
    run = tmp_path / "run"
    argv = ["train", str(ROOT / "experiments/configs/mnist-cpu/edm.yaml"), "--out", str(run)]
    assert main([*argv, *(a for s in sets for a in ("--set", s))]) == 0
    cfg, model, _ = load_run(run)
    assert (cfg.train.precision, cfg.train.compile) == ("bf16", True)
    assert model.denoiser.f._ipm_precision == "bf16"
    x = model.sample(3, generator=torch.Generator().manual_seed(0)).x
    assert x.shape == (3, 1024) and x.dtype == torch.float32 and bool(x.isfinite().all())


@pytest.mark.parametrize(
    "argv,flag,value",
    [
        (["sample", "run", "--n", "-5"], "--n", "-5"),
        (["sample", "run", "--n", "3", "--threads", "0"], "--threads", "0"),
        (["sample", "run", "--n", "3", "--nfe", "0"], "--nfe", "0"),
        (["evaluate", "run", "--stop", "x"], "--stop", "'x'"),
    ],
)
def test_cli_refuses_non_positive_counts_naming_the_flag(capsys, argv, flag, value):
    from ipm.cli import main

    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert f"argument {flag}: expected an integer >= 1, got {value}" in capsys.readouterr().err

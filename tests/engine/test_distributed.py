"""torchrun with the gloo backend on CPU equals single-process training with the same global
batch, on vectors and on images."""

import subprocess

import pytest
import torch
import yaml

from ipm.engine import config_from_dict, load_checkpoint, train
from tests.helpers import ENV, ipm_cmd, run_params, tiny


def _torchrun(cfg_path, out, nproc=2):
    cmd = ipm_cmd("train", cfg_path, "--out", out, nproc=nproc)
    return subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)


def comparable(key: str, t: torch.Tensor) -> torch.Tensor:
    """The parameter without the entries whose exact gradient is zero, the key bias of
    attention (softmax ignores a shift shared by a query's logits): Adam turns their round-off
    gradients into steps of size lr, different in every run."""
    if key.endswith("attn.qkv.bias"):
        q, _, v = t.chunk(3)
        return torch.cat([q, v])
    return t


def image_edm(root) -> dict:
    """EDM with a small U-Net on (stand-in) MNIST images, batch 8."""
    cfg = tiny("edm", steps=25)
    cfg["data"] = {"name": "mnist", "root": str(root)}
    net = {"kind": "unet", "width": 4, "channel_mult": [1, 2], "num_blocks": 1, "attention": [16]}
    cfg["model"].update(net=net, sampler_steps=2)
    cfg["train"]["batch_size"] = 8
    cfg["eval"] = {"grid": 4, "animation": False}
    return cfg


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
@pytest.mark.parametrize("name", ["gan", "discr_flow", "edm_images"])
def test_torchrun_two_processes_matches_single_process(tmp_path, name, roots):
    cfg_d = image_edm(roots["mnist"]) if name == "edm_images" else tiny(name, steps=25)
    cfg_d["train"]["threads"] = 1
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg_d))
    r = _torchrun(tmp_path / "c.yaml", tmp_path / "ddp")
    assert r.returncode == 0, r.stderr[-3000:]
    meta = (tmp_path / "ddp" / "train_summary.json").read_text()
    assert '"world_size": 2' in meta
    assert load_checkpoint(tmp_path / "ddp/checkpoints/last.pt")["step"] == 25
    train(config_from_dict(cfg_d), tmp_path / "single")
    ddp, single = run_params(tmp_path / "ddp"), run_params(tmp_path / "single")
    worst = 0.0
    for net in single:
        for k in single[net]:
            a, b = comparable(k, ddp[net][k]), comparable(k, single[net][k])
            worst = max(worst, float((a - b).abs().max() / (b.abs().max() + 1e-12)))
    # equal up to the order of floating-point reductions (float32, 25 Adam steps)
    assert worst < 1e-4, worst
    # and the comparison can fail: a run on half the batch differs far more than that
    cfg_d["train"]["batch_size"] //= 2
    train(config_from_dict(cfg_d), tmp_path / "half")
    half = run_params(tmp_path / "half")
    off = max(
        float((half[n][k] - single[n][k]).abs().max() / (single[n][k].abs().max() + 1e-12))
        for n in single
        for k in single[n]
    )
    print(f"{name}: torchrun vs single relative max diff {worst:.2e}; half batch {off:.2e}")
    assert off > 100 * max(worst, 1e-7), (off, worst)


def test_train_destroys_the_process_group_it_created(monkeypatch):
    """Under torchrun, train() creates the process group and destroys it on the way out, also
    when training fails: gloo threads left alive at exit abort the process (SIGABRT)."""
    import ipm.engine.trainer as tr

    calls = []
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: False)
    monkeypatch.setattr(
        torch.distributed, "init_process_group", lambda b: calls.append(("init", b))
    )
    monkeypatch.setattr(torch.distributed, "destroy_process_group", lambda: calls.append("destroy"))

    def boom(*a):
        calls.append("train")
        raise RuntimeError("non-finite loss")

    monkeypatch.setattr(tr, "_train", boom)
    with pytest.raises(RuntimeError, match="non-finite"):
        tr.train(config_from_dict(tiny("gan", steps=2)), "unused")
    assert calls[0][0] == "init" and calls[1:] == ["train", "destroy"]
    # a group the caller made is left to the caller
    calls.clear()
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    with pytest.raises(RuntimeError):
        tr.train(config_from_dict(tiny("gan", steps=2)), "unused")
    assert calls == ["train"]

"""Training engine, checkpoints, configs and CLI (issue 4)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from ipm.config import ConfigError
from ipm.config import to_dict as config_to_dict
from ipm.engine import (
    CheckpointError,
    NonFiniteError,
    config_from_dict,
    load_checkpoint,
    load_config,
    save_checkpoint,
    train,
)
from ipm.models import build_model

ROOT = Path(__file__).resolve().parents[1]
TINY = {"width": 32, "depth": 2}


ENV = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}


def ipm_cmd(*args, nproc: int | None = None) -> list[str]:
    """``python -m ipm ARGS``, under ``torch.distributed.run`` with ``nproc`` processes."""
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    return [sys.executable, *(launcher if nproc else []), "-m", "ipm", *map(str, args)]


def tiny(name: str, steps: int = 30, **model) -> dict:
    m = {"name": name, **model}
    if name == "edm":
        m.setdefault("net", TINY)
        m.setdefault("embedding_dim", 16)
        m.setdefault("sampler_steps", 6)
    elif name == "gan":
        m.setdefault("generator", TINY)
        m.setdefault("discriminator", TINY)
        m.setdefault("latent_dim", 8)
    elif name == "discr_flow":
        m.setdefault("net", TINY)
        m.setdefault("time_embedding", 16)
        m.setdefault("flow_steps", 8)
    elif name == "score_gan":
        m.setdefault("generator", TINY)
        m.setdefault("score_net", TINY)
        m.setdefault("latent_dim", 8)
        m.setdefault("embedding_dim", 16)
        m.setdefault("score_steps", 2)
    return {
        "seed": 0,
        "model": m,
        "train": {
            "steps": steps,
            "batch_size": 32,
            "log_every": 5,
            "checkpoint_every": 10,
            "progress": False,
        },
        "eval": {"n_samples": 400, "w2_n": 100, "w2_draws": 2, "figure_points": 100},
    }


# ------------------------------------------------------------------------------ configs


@pytest.mark.parametrize(
    ("patch", "key", "words"),
    [
        ({"model": {"name": "edm", "colour": 1}}, "model.colour", "unknown key"),
        ({"train": {"steps": "many"}}, "train.steps", "expected an integer"),
        ({"train": {"steps": -5}}, "train.steps", "positive"),
        ({"model": {"name": "edm", "optim": {"lr": [1]}}}, "model.optim.lr", "expected a number"),
        ({"model": {"name": "unet"}}, "model.name", "expected one of"),
    ],
)
def test_bad_configs_name_the_key(patch, key, words):
    cfg = tiny("edm")
    for k, v in patch.items():
        cfg[k] = {**cfg[k], **v} if k == "train" else v
    with pytest.raises(ConfigError) as e:
        config_from_dict(cfg)
    assert e.value.key == key and words in str(e.value) and key in str(e.value)


def test_overrides_and_yaml_file(tmp_path):
    import yaml

    p = tmp_path / "c.yaml"
    p.write_text(yaml.safe_dump(tiny("gan")))
    cfg = load_config(p, ["model.g_optim.lr=1e-3", "train.steps=7"])
    assert cfg.model.g_optim.lr == 1e-3 and cfg.train.steps == 7
    with pytest.raises(ConfigError, match="model.g_optim.bogus: unknown key"):
        load_config(p, ["model.g_optim.bogus=1"])
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_score_gan_without_edm_checkpoint_is_one_clear_error(tmp_path):
    cfg = config_from_dict(tiny("score_gan", edm_checkpoint=str(tmp_path / "nope")))
    with pytest.raises(FileNotFoundError, match="model.edm_checkpoint.*no checkpoint"):
        train(cfg, tmp_path / "run")


def test_all_paper_configs_validate():
    for p in sorted((ROOT / "experiments/configs/gaussians").glob("*.yaml")):
        cfg = load_config(p)
        assert cfg.model.name == p.stem


# -------------------------------------------------------------------------- checkpoints


def test_checkpoint_roundtrip_truncation_and_tampering(tmp_path):
    p = tmp_path / "c.pt"
    save_checkpoint(p, {"w": torch.arange(1000.0), "step": 3})
    assert load_checkpoint(p)["step"] == 3
    raw = torch.load(p, weights_only=True)  # plain torch file, weights_only-loadable
    assert raw["format"] == "ipm-checkpoint-v1"
    data = p.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="trunc.pt"):
        load_checkpoint(tmp_path / "trunc.pt")
    # flip one byte of the stored tensor data (the payload is stored uncompressed)
    pos = data.rfind(torch.arange(1000.0)[500:502].numpy().tobytes())
    assert pos > 0
    bad = bytearray(data)
    bad[pos] ^= 0xFF
    (tmp_path / "tamper.pt").write_bytes(bytes(bad))
    with pytest.raises(CheckpointError, match="tamper.pt"):
        load_checkpoint(tmp_path / "tamper.pt")


def test_a_failed_write_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    p = tmp_path / "last.pt"
    save_checkpoint(p, {"step": 1})

    def dying_save(obj, f, *a, **k):
        if hasattr(f, "write") and not hasattr(f, "getvalue"):
            f.write(b"partial garbage")
            raise OSError("killed mid-write")
        return real_save(obj, f, *a, **k)

    real_save = torch.save
    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(OSError):
        save_checkpoint(p, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(p)["step"] == 1
    assert [f.name for f in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


# --------------------------------------------------------------------------- training


def _params(run_dir):
    return load_checkpoint(Path(run_dir) / "checkpoints/last.pt")["networks"]


def _same(a, b):
    return all(torch.equal(a[n][k], b[n][k]) for n in a for k in a[n])


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    import yaml

    cfg_d = tiny("discr_flow", steps=400, schedule="multi_time", times_per_trajectory=3)
    cfg_d["train"]["checkpoint_every"] = 7
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg_d))
    cmd = ipm_cmd("train", tmp_path / "c.yaml", "--out", tmp_path / "a")
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ck = tmp_path / "a/checkpoints/last.pt"
    t0 = time.time()
    while time.time() - t0 < 120:
        if ck.exists() and load_checkpoint(ck)["step"] >= 50:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = load_checkpoint(ck)["step"]
    assert 0 < killed_at < 400, "the run must be killed mid-training"
    r = subprocess.run(cmd + ["--resume"], env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert load_checkpoint(ck)["step"] == 400
    cfg = config_from_dict(cfg_d)
    train(cfg, tmp_path / "b")
    assert _same(_params(tmp_path / "a"), _params(tmp_path / "b"))
    # and the check is sensitive: a different seed gives different parameters
    cfg_d["seed"] = 1
    cfg_d["train"]["steps"] = 20
    train(config_from_dict(cfg_d), tmp_path / "c")
    assert not _same(_params(tmp_path / "a"), _params(tmp_path / "c"))


@pytest.mark.parametrize("schedule", ["persistent", "paper"])
def test_in_process_resume_is_exact_and_snapshots_are_kept(tmp_path, schedule):
    """Stop after 13 steps, resume to 30: the persistent particles, their steps and every
    parameter equal an uninterrupted run's; ``keep_every`` leaves step-numbered snapshots."""
    cfg_d = tiny("discr_flow", steps=30, schedule=schedule)
    cfg_d["train"]["keep_every"] = 10
    cfg = config_from_dict(cfg_d)
    train(cfg, tmp_path / "a", stop_after=13)
    assert load_checkpoint(tmp_path / "a/checkpoints/last.pt")["step"] == 13
    train(cfg, tmp_path / "a", resume=True)
    train(cfg, tmp_path / "b")
    assert _same(_params(tmp_path / "a"), _params(tmp_path / "b"))
    ea = load_checkpoint(tmp_path / "a/checkpoints/last.pt")["extra"]
    eb = load_checkpoint(tmp_path / "b/checkpoints/last.pt")["extra"]
    assert ea.keys() == eb.keys() and all(torch.equal(ea[k], eb[k]) for k in ea)
    if schedule == "persistent":
        assert {"traj", "steps"} <= ea.keys()
    kept = sorted(p.name for p in (tmp_path / "b/checkpoints").glob("step_*.pt"))
    assert kept == ["step_0000000.pt", "step_0000010.pt", "step_0000020.pt", "step_0000030.pt"]
    assert load_checkpoint(tmp_path / "b/checkpoints/step_0000020.pt")["step"] == 20
    # step 0 is the initialisation: equal to a fresh build with the run's seed
    init = load_checkpoint(tmp_path / "b/checkpoints/step_0000000.pt")
    torch.manual_seed(cfg.seed)
    fresh = build_model(cfg, init["shape"] if len(init["shape"]) > 1 else init["dim"])
    for name, sd in init["networks"].items():
        assert all(torch.equal(v, fresh.networks[name].state_dict()[k]) for k, v in sd.items())


def test_nan_stops_training_naming_step_and_tensor(tmp_path, monkeypatch):
    from ipm.models.edm import EDM

    orig = EDM.train_step
    calls = {"n": 0}

    def step(self, ctx, opt):
        out = orig(self, ctx, opt)
        calls["n"] += 1
        if calls["n"] == 17:
            out["loss"] = out["loss"] * float("nan")
        return out

    monkeypatch.setattr(EDM, "train_step", step)
    with pytest.raises(
        NonFiniteError, match=r"step 17: 'loss' contains NaN.*last good checkpoint kept"
    ):
        train(config_from_dict(tiny("edm", steps=40)), tmp_path / "r")
    assert load_checkpoint(tmp_path / "r/checkpoints/last.pt")["step"] == 10


def test_existing_run_is_never_overwritten(tmp_path):
    cfg = config_from_dict(tiny("edm", steps=3))
    train(cfg, tmp_path / "r")
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg, tmp_path / "r")
    with pytest.raises(ConfigError, match="model.noise.sigma_data"):
        bad = tiny("edm", steps=5, noise={"sigma_data": 0.7})
        train(config_from_dict(bad), tmp_path / "r", resume=True)


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


def test_ema_warmup_forgets_the_initialisation():
    """With warm-up the average after t steps weighs the initial weights by Π(decay_s), which
    is tiny after 250 steps; without it 0.999^250 = 78% of the initialisation remains."""
    from ipm.engine.trainer import _EMA
    from ipm.models import build_model

    torch.manual_seed(0)
    m = build_model(config_from_dict(tiny("edm")), 2)
    net = m.networks["denoiser"]
    plain, warm = _EMA(m, 0.999), _EMA(m, 0.999, warmup=True)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)  # the network moves away from its initialisation and stays there
    for step in range(1, 251):
        plain.update(m, step)
        warm.update(m, step)
    k = next(name for name, _ in net.named_parameters())
    left_plain = float((net.state_dict()[k] - plain.shadow["denoiser"][k]).mean())
    left_warm = float((net.state_dict()[k] - warm.shadow["denoiser"][k]).mean())
    assert abs(left_plain - 0.999**250) < 1e-3  # 0.779 of the initial offset remains
    prod = 1.0
    for s in range(1, 251):
        prod *= min(0.999, (1 + s) / (10 + s))
    assert abs(left_warm - prod) < 1e-5 and left_warm < 0.05
    assert warm.decay_at(10_000) == 0.999 and plain.decay_at(1) == 0.999


def test_a_run_saved_before_a_config_key_existed_still_matches(tmp_path):
    """Keys added to the configs since a run was saved take their defaults (as load_run reads
    it), so resuming or reusing the run is not refused over them; a real change still is."""
    from ipm.engine.trainer import _resume_mismatch, saved_config

    cfg = config_from_dict(tiny("gan", steps=2))
    now = config_to_dict(cfg)
    old = json.loads(json.dumps(now))
    del old["train"]["ema_warmup"]  # as in a run saved before the key existed
    assert _resume_mismatch(saved_config({"config": old}), now) == []
    old["model"]["loss"] = "ipm" if now["model"]["loss"] != "ipm" else "ns"
    assert [d.split(" ")[0] for d in _resume_mismatch(saved_config({"config": old}), now)] == [
        "model.loss"
    ]


def test_resume_may_change_the_thread_count_and_cadences_but_not_the_batch():
    from ipm.engine.trainer import _resume_mismatch

    now = config_to_dict(config_from_dict(tiny("gan", steps=2)))
    saved = json.loads(json.dumps(now))
    saved["train"]["threads"] = now["train"]["threads"] + 1
    saved["train"]["log_every"] = now["train"]["log_every"] + 7
    assert _resume_mismatch(saved, now) == []
    saved["train"]["batch_size"] = now["train"]["batch_size"] + 1
    assert [d.split(" ")[0] for d in _resume_mismatch(saved, now)] == ["train.batch_size"]


def test_a_score_gan_saved_before_score_loss_existed_reads_as_the_edm_weighting():
    """score_loss was added with a new default ('plain'); runs saved before trained with EDM's
    weighting, so they read as 'edm' and a plain config does not silently reuse them."""
    from ipm.engine import saved_run_config
    from ipm.engine.trainer import _resume_mismatch, saved_config

    cfg = config_from_dict(tiny("score_gan", steps=2, edm_checkpoint="edm_run"))
    now = config_to_dict(cfg)
    assert now["model"]["score_loss"] == "plain"
    # the first layout: no version, the noise schedule's keys flat in the model section
    old = json.loads(json.dumps(now))
    del old["version"], old["model"]["score_loss"]
    old["model"].update(old["model"].pop("noise"))
    assert saved_run_config(old).model.score_loss == "edm"
    assert saved_run_config(old).model.noise == cfg.model.noise
    assert [d.split(" ")[0] for d in _resume_mismatch(saved_config({"config": old}), now)] == [
        "model.score_loss"
    ]
    with pytest.raises(ConfigError, match="model.sigma_min: unknown key: it is now model.noise"):
        config_from_dict(old)  # a user's config is read in today's layout
    user = json.loads(json.dumps(now))
    del user["model"]["score_loss"]
    assert config_from_dict(user).model.score_loss == "plain"  # a user's config: today's default


def test_overriding_a_tag_starts_the_section_afresh(tmp_path):
    """--set model.net.kind=unet replaces the MLP section (its width, depth … do not carry over
    into the U-Net); overrides after it apply to the new member; an unchanged tag keeps the rest."""
    import yaml

    p = tmp_path / "c.yaml"
    d = tiny("edm")
    d["data"] = {"name": "gaussians", "radius": 2.0}
    p.write_text(yaml.safe_dump(d))
    cfg = load_config(p, ["model.net.kind=unet", "model.net.width=8", "data.name=digits"])
    assert cfg.model.net.kind == "unet" and cfg.model.net.width == 8
    assert cfg.model.net.num_blocks == 2 and cfg.data.name == "digits"
    same = load_config(p, ["model.net.kind=mlp"])
    assert (same.model.net.width, same.model.net.depth) == (32, 2)
    with pytest.raises(ConfigError, match="model.net.kind: expected one of"):
        load_config(p, ["model.net.kind=transformer"])


def test_a_section_given_in_part_keeps_the_fields_own_defaults():
    """EDM's optimiser defaults to betas (0.9, 0.999) and its σ_max to 40: a section naming
    only some keys keeps the model's defaults for the others, not the section class's."""
    cfg = config_from_dict(tiny("edm", optim={"lr": 1e-3}, noise={"sigma_min": 0.01}))
    assert cfg.model.optim.betas == (0.9, 0.999) and cfg.model.optim.lr == 1e-3
    assert (cfg.model.noise.sigma_min, cfg.model.noise.sigma_max) == (0.01, 40.0)
    sg = config_from_dict(tiny("score_gan", edm_checkpoint="x", noise={"rho": 5.0}))
    assert (sg.model.noise.sigma_min, sg.model.noise.sigma_max, sg.model.noise.rho) == (
        0.1,
        10.0,
        5.0,
    )

"""The training engine (:mod:`ipm.engine.trainer`): exact resume (after SIGKILL too), NaN stops,
runs never overwritten, EMA warm-up, the Score GAN's data score loaded from its EDM run."""

import json
import signal
import subprocess
import time

import pytest
import torch

from ipm.config import ConfigError
from ipm.config import to_dict as config_to_dict
from ipm.engine import (
    CheckpointError,
    NonFiniteError,
    config_from_dict,
    load_checkpoint,
    train,
)
from ipm.models import build_model
from tests.helpers import (
    ENV,
    dmmd_model,
    ipm_cmd,
    resumed_and_whole,
    run_config,
    run_params,
    same_params,
    sd_flow_model,
    tiny,
)


def test_score_gan_without_edm_checkpoint_is_one_clear_error(tmp_path):
    cfg = config_from_dict(tiny("score_gan", edm_checkpoint=str(tmp_path / "nope")))
    with pytest.raises(FileNotFoundError, match="model.edm_checkpoint.*no checkpoint"):
        train(cfg, tmp_path / "run")


def test_score_gan_with_a_pickled_module_as_edm_checkpoint_names_the_key(tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # not weights-only loadable
    cfg = config_from_dict(tiny("score_gan", edm_checkpoint=str(tmp_path / "module.pt")))
    with pytest.raises(CheckpointError, match="model.edm_checkpoint: .*not an ipm checkpoint") as e:
        train(cfg, tmp_path / "run")
    assert "weights_only" not in str(e.value)  # torch's advice to unpickle is not passed on


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
    assert same_params(run_params(tmp_path / "a"), run_params(tmp_path / "b"))
    # and the check is sensitive: a different seed gives different parameters
    cfg_d["seed"] = 1
    cfg_d["train"]["steps"] = 20
    train(config_from_dict(cfg_d), tmp_path / "c")
    assert not same_params(run_params(tmp_path / "a"), run_params(tmp_path / "c"))


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
    assert same_params(run_params(tmp_path / "a"), run_params(tmp_path / "b"))
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
    status = json.loads((tmp_path / "r/status.json").read_text())  # the stop is recorded
    assert status["state"] == "failed" and status["step"] == 16
    assert "NonFiniteError: step 17: 'loss' contains NaN" in status["reason"]


def test_existing_run_is_never_overwritten(tmp_path):
    cfg = config_from_dict(tiny("edm", steps=3))
    train(cfg, tmp_path / "r")
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg, tmp_path / "r")
    with pytest.raises(ConfigError, match="model.noise.sigma_data"):
        bad = tiny("edm", steps=5, noise={"sigma_data": 0.7})
        train(config_from_dict(bad), tmp_path / "r", resume=True)


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


def test_resume_may_change_the_thread_count_and_cadences_but_not_the_batch():
    from ipm.engine.trainer import _resume_mismatch

    now = config_to_dict(config_from_dict(tiny("gan", steps=2)))
    saved = json.loads(json.dumps(now))
    saved["train"]["threads"] = now["train"]["threads"] + 1
    saved["train"]["log_every"] = now["train"]["log_every"] + 7
    assert _resume_mismatch(saved, now) == []
    saved["train"]["batch_size"] = now["train"]["batch_size"] + 1
    assert [d.split(" ")[0] for d in _resume_mismatch(saved, now)] == ["train.batch_size"]


@pytest.mark.parametrize("model", [sd_flow_model(), dmmd_model()], ids=["sd_flow", "dmmd"])
def test_resume_is_exact(tmp_path, model):
    pa, pb = resumed_and_whole(config_from_dict(run_config(model, 25)), tmp_path, 12)
    assert same_params(pa["networks"], pb["networks"])
    assert pa["extra"].keys() == pb["extra"].keys() and pa["extra"]
    assert all(torch.equal(pa["extra"][k], pb["extra"][k]) for k in pa["extra"])


def test_fp16_runs_on_the_cpu_with_loss_scaling_and_resumes_exactly(tmp_path):
    """fp16 autocast runs on a CPU too (slowly); each optimiser's gradient scaler is
    checkpointed, so a resumed fp16 run ends bit-identical to an uninterrupted one."""
    data = tiny("gan", steps=8)
    data["train"]["precision"] = "fp16"
    pa, pb = resumed_and_whole(config_from_dict(data), tmp_path, 3)
    assert sorted(pa["scalers"]) == ["discriminator", "generator"]
    assert pa["scalers"]["generator"]["scale"] > 0
    assert same_params(pa["networks"], pb["networks"])


def test_resume_may_switch_compilation_but_not_precision():
    from ipm.engine.trainer import _resume_mismatch

    now = config_to_dict(config_from_dict(tiny("gan", steps=2)))
    saved = json.loads(json.dumps(now))
    saved["train"]["compile"] = True
    assert _resume_mismatch(saved, now) == []
    saved["train"]["precision"] = "bf16"
    assert [d.split(" ")[0] for d in _resume_mismatch(saved, now)] == ["train.precision"]


def test_an_image_folder_is_decoded_once_and_never_read_during_training(
    tmp_path, roots, monkeypatch
):
    """``data.in_memory`` (the default): the folder's images are decoded before the first
    step and batches come from the uint8 copy; ``in_memory: false`` reads the disk per draw."""
    from ipm.data.folder import ImageFolder
    from ipm.engine import load_config

    sets = [
        f"data.root={roots['celeba']}",
        "data.size=16",
        "data.hflip=true",
        "model.generator.width=4",
        "model.discriminator.width=4",
        "model.latent_dim=8",
        "train.steps=2",
        "train.batch_size=4",
        "train.progress=false",
        "eval.grid=4",
        "eval.animation=false",
        "eval.n_samples=4",
    ]
    cfg = load_config("experiments/configs/celeba/gan.yaml", sets)
    calls = []
    real = ImageFolder.images
    monkeypatch.setattr(
        ImageFolder, "images", lambda self, idx: calls.append(len(idx)) or real(self, idx)
    )
    real_memory = ImageFolder.in_memory
    monkeypatch.setattr(
        ImageFolder,
        "in_memory",
        lambda self, progress: calls.append("decode") or real_memory(self, progress),
    )
    train(cfg, tmp_path / "held")
    assert calls[0] == "decode" and "decode" not in calls[1:]
    figure = sum(calls[1:])  # images the run's figure draws for its data panel, from the folder
    calls.clear()
    train(
        load_config("experiments/configs/celeba/gan.yaml", [*sets, "data.in_memory=false"]),
        tmp_path / "streamed",
    )
    assert "decode" not in calls and sum(calls) - figure >= 2 * 4  # two steps' batches of 4


def test_auto_precision_is_recorded_and_a_resume_keeps_the_runs_own(tmp_path, monkeypatch, capsys):
    """train.precision auto trains in bf16 where the CPU computes in it natively and records
    bf16; resumed on a CPU that does not, the run continues in bf16 and ends equal to an
    uninterrupted bf16 run; ensure_run reuses it under auto."""
    from ipm.engine import ensure_run
    from ipm.nets import precision as prec

    data = tiny("gan", steps=6)
    data["train"]["precision"] = "auto"
    monkeypatch.setattr(prec, "native_bf16", lambda device: True)
    train(config_from_dict(data), tmp_path / "a", stop_after=3)
    assert (
        "train.precision auto: bf16 (cpu computes in bfloat16 natively)" in capsys.readouterr().err
    )
    assert "precision: bf16" in (tmp_path / "a/config.yaml").read_text()
    monkeypatch.setattr(prec, "native_bf16", lambda device: False)
    train(config_from_dict(data), tmp_path / "a", resume=True)
    assert "train.precision auto: bf16 (the run's)" in capsys.readouterr().err
    data["train"]["precision"] = "bf16"
    train(config_from_dict(data), tmp_path / "b")
    assert same_params(run_params(tmp_path / "a"), run_params(tmp_path / "b"))
    data["train"]["precision"] = "auto"
    cfg_file = tmp_path / "auto.yaml"
    import yaml

    cfg_file.write_text(yaml.safe_dump(data))
    assert ensure_run(cfg_file, [], tmp_path / "a") == tmp_path / "a"  # reused, not refused
    train(config_from_dict(data), tmp_path / "c")  # a new run on this CPU: fp32
    assert "precision: fp32" in (tmp_path / "c/config.yaml").read_text()
    assert not same_params(run_params(tmp_path / "c"), run_params(tmp_path / "b"))


def test_ensure_run_finishes_a_run_stopped_after_its_last_checkpoint(tmp_path):
    """A run killed after saving its last step but before its figures and summary were written
    is finished by ensure_run (summary with the run's own seconds per step, weights unchanged),
    not taken for done."""
    import yaml

    from ipm.engine import ensure_run

    data = tiny("gan", steps=4)
    cfg_file = tmp_path / "gan.yaml"
    cfg_file.write_text(yaml.safe_dump(data))
    run = ensure_run(cfg_file, [], tmp_path / "run")
    summary = json.loads((run / "train_summary.json").read_text())
    params = run_params(run)
    (run / "train_summary.json").unlink()
    (run / "status.json").write_text(json.dumps({"state": "running", "step": 4}))
    assert ensure_run(cfg_file, [], run) == run
    assert json.loads((run / "train_summary.json").read_text()) == summary
    assert json.loads((run / "status.json").read_text())["state"] == "finished"
    assert same_params(run_params(run), params)

"""Fault injection on run directories (:mod:`ipm.engine.rundir`): two runs into one directory, a
stale lock after SIGKILL, resume to fewer steps, SIGINT and SIGTERM mid-run, a damaged last
checkpoint. Each asserts that nothing was lost or rewritten."""

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from ipm.config import ConfigError
from ipm.engine import (
    RunLockedError,
    config_from_dict,
    load_checkpoint,
    train,
)
from ipm.engine.rundir import trim_log
from tests.helpers import ENV, ipm_cmd, run_params, same_params, tiny


def _config(tmp_path: Path, steps: int = 150) -> tuple[dict, Path]:
    cfg = tiny("discr_flow", steps=steps)
    cfg["train"]["checkpoint_every"] = 5
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(cfg))
    return cfg, tmp_path / "c.yaml"


def _status(run: Path) -> dict:
    try:
        return json.loads((run / "status.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _start(config: Path, run: Path, at_step: int = 20) -> subprocess.Popen:
    """``ipm train`` in a subprocess, returned once its status says it passed ``at_step``."""
    proc = subprocess.Popen(
        ipm_cmd("train", config, "--out", run),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    t0 = time.time()
    while _status(run).get("step", 0) < at_step:
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() - t0 < 120, "the run did not start"
        time.sleep(0.02)
    return proc


def _files(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in run.rglob("*") if p.is_file()}


def _logged_steps(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]


def _logged_losses(run: Path) -> list[dict]:
    """The log's entries without their timings."""
    lines = (run / "log.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(x).items() if k != "seconds_per_step"} for x in lines]


def test_a_second_run_into_a_held_directory_is_refused_and_the_first_is_intact(tmp_path):
    cfg, path = _config(tmp_path)
    run = tmp_path / "run"
    proc = _start(path, run)
    with pytest.raises(RunLockedError, match=f"another process is training.*pid {proc.pid}"):
        train(config_from_dict(cfg), run)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    steps = _logged_steps(run)
    assert steps == sorted(set(steps)) and steps[-1] == 150  # one entry per logged step
    assert (
        _status(run)["state"] == "finished"
        and load_checkpoint(run / "checkpoints/last.pt")["step"] == 150
    )


def test_a_stale_lock_after_sigkill_is_reclaimed_saying_so(tmp_path, capsys):
    cfg, path = _config(tmp_path)
    run = tmp_path / "run"
    proc = _start(path, run)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert json.loads((run / ".lock").read_text())["pid"] == proc.pid  # left behind
    train(config_from_dict(cfg), run, resume=True)
    assert f"took over the lock of process {proc.pid}" in capsys.readouterr().err
    assert _status(run)["state"] == "finished"
    assert (run / ".lock").read_text() == ""  # released


def test_resume_to_fewer_steps_is_refused_and_rewrites_nothing(tmp_path):
    cfg, _ = _config(tmp_path, steps=20)
    run = tmp_path / "run"
    train(config_from_dict(cfg), run)
    before = _files(run)
    cfg["train"]["steps"] = 10
    with pytest.raises(ConfigError, match="train.steps.*done 20 steps.*nothing in .* was changed"):
        train(config_from_dict(cfg), run, resume=True)
    assert _files(run) == before


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_sigint_and_sigterm_stop_between_steps_with_a_checkpoint_and_one_line(tmp_path, sig, code):
    cfg, path = _config(tmp_path)
    run = tmp_path / "run"
    proc = _start(path, run)
    proc.send_signal(sig)
    assert proc.wait(timeout=60) == code
    err = proc.stderr.read()
    assert "Traceback" not in err
    said = [line for line in err.splitlines() if line.startswith("ipm train:")]
    assert len(said) == 1 and signal.Signals(sig).name in said[0], err
    status = _status(run)
    assert status["state"] == "interrupted" and 0 < status["step"] < 150
    # the checkpoint is at the step the run stopped at, written whole
    assert load_checkpoint(run / "checkpoints/last.pt")["step"] == status["step"]
    assert f"stopped at step {status['step']}" in said[0]
    r = subprocess.run(
        ipm_cmd("train", path, "--out", run, "--resume"), env=ENV, capture_output=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert _status(run)["state"] == "finished"
    if sig == signal.SIGTERM:  # and nothing was lost: equal to an uninterrupted run
        train(config_from_dict(cfg), tmp_path / "whole")
        assert same_params(run_params(run), run_params(tmp_path / "whole"))


def test_a_damaged_last_checkpoint_falls_back_to_the_newest_that_verifies(tmp_path, capsys):
    cfg, _ = _config(tmp_path, steps=20)
    cfg["train"]["keep_every"] = 10
    cfg["train"]["log_every"] = 2
    run = tmp_path / "run"
    train(config_from_dict(cfg), run, stop_after=18)  # checkpoints at 5, 10, 15, 18
    ck = run / "checkpoints"
    assert load_checkpoint(ck / "last.prev.pt")["step"] == 15
    raw = (ck / "last.pt").read_bytes()
    (ck / "last.pt").write_bytes(raw[: len(raw) // 2])
    train(config_from_dict(cfg), run, resume=True)
    err = capsys.readouterr().err
    assert "last.pt" in err and "resuming from" in err and "last.prev.pt (step 15)" in err
    train(config_from_dict(cfg), tmp_path / "whole")
    assert same_params(run_params(run), run_params(tmp_path / "whole"))  # nothing lost
    # steps 16 and 18, logged before the damage, are logged once, as the resumed run did them
    assert _logged_steps(run) == _logged_steps(tmp_path / "whole") == list(range(2, 21, 2))
    assert _logged_losses(run) == _logged_losses(tmp_path / "whole")
    # with the previous one damaged too, the newest kept snapshot is taken
    train(config_from_dict(cfg), tmp_path / "b", stop_after=18)
    ck = tmp_path / "b/checkpoints"
    for name in ("last.pt", "last.prev.pt"):
        (ck / name).write_bytes(b"damaged")
    train(config_from_dict(cfg), tmp_path / "b", resume=True)
    assert "step_0000010.pt (step 10)" in capsys.readouterr().err
    assert same_params(run_params(tmp_path / "b"), run_params(tmp_path / "whole"))


def test_a_score_gan_run_samples_and_resumes_from_elsewhere_and_notices_a_changed_edm(
    tmp_path, monkeypatch
):
    from ipm.cli import main

    monkeypatch.chdir(tmp_path)
    train(config_from_dict(tiny("edm", steps=5)), "edm")  # a relative path, as users write it
    sg = tiny("score_gan", steps=10, edm_checkpoint="edm")
    train(config_from_dict(sg), "sg", stop_after=5)
    saved = yaml.safe_load((tmp_path / "sg/config.yaml").read_text())["model"]["edm_checkpoint"]
    assert saved == str(tmp_path / "edm/checkpoints/last.pt")  # absolute in the run
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    train(config_from_dict(sg), tmp_path / "sg", resume=True)  # "edm" would not resolve here
    assert _status(tmp_path / "sg")["state"] == "finished"
    (tmp_path / "edm").rename(tmp_path / "edm_moved")  # sampling needs the generator alone
    assert main(["sample", str(tmp_path / "sg"), "--n", "8", "--out", "s.npz"]) == 0
    assert (tmp_path / "elsewhere/s.npz").is_file()
    # an EDM of other weights at the recorded path: the resume refuses it, naming the key
    monkeypatch.chdir(tmp_path)
    other = tiny("edm", steps=5)
    other["seed"] = 1
    train(config_from_dict(other), "edm")
    sg["train"]["steps"] = 15
    before = _files(tmp_path / "sg")
    with pytest.raises(ConfigError, match="model.edm_checkpoint.*differs from the one the run"):
        train(config_from_dict(sg), tmp_path / "sg", resume=True)
    assert _files(tmp_path / "sg") == before


def test_an_mnist_run_records_its_folder_and_evaluates_without_the_variable(tmp_path, monkeypatch):
    from ipm.engine import load_config
    from ipm.evaluate import evaluate_run
    from tests.image_fixtures import fake_mnist

    monkeypatch.setenv("IPM_MNIST_DIR", str(fake_mnist(tmp_path / "m", n=8)))
    cfg = load_config(
        "experiments/configs/mnist-cpu/gan.yaml",
        ["model.generator.width=4", "model.discriminator.width=4"]
        + ["train.steps=2", "train.batch_size=4", "train.progress=false", "eval.grid=4"],
    )
    train(cfg, tmp_path / "gan")
    monkeypatch.delenv("IPM_MNIST_DIR")
    saved = yaml.safe_load((tmp_path / "gan/config.yaml").read_text())["data"]["root"]
    assert saved == str((tmp_path / "m").resolve())
    res = evaluate_run(tmp_path / "gan", n_samples=8)
    assert res["fid_counts"][0] == 8


def test_a_run_refused_before_it_starts_leaves_no_directory(tmp_path):
    cfg, _ = _config(tmp_path, steps=5)
    with pytest.raises(FileNotFoundError, match="--resume: no checkpoint"):
        train(config_from_dict(cfg), tmp_path / "new", resume=True)
    assert not (tmp_path / "new").exists()


def test_default_run_directories_of_configs_of_one_name_differ():
    from ipm.engine.rundir import default_run_dir

    a = default_run_dir("experiments/configs/gaussians/gan.yaml")
    b = default_run_dir("experiments/configs/mnist-cpu/gan.yaml")
    assert a == Path("runs/gaussians/gan") and b == Path("runs/mnist-cpu/gan")
    assert default_run_dir("c/gan.yaml", "runs/sweeps") == Path("runs/sweeps/c/gan")


def test_trim_log_keeps_the_steps_up_to_the_resume_point_and_drops_a_cut_line(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text(
        "".join(f'{{"step": {s}, "loss": {s / 10}}}\n' for s in (5, 10, 15, 20)) + '{"st'
    )
    assert trim_log(log, 10) == 3
    assert _logged_steps(tmp_path) == [5, 10]
    assert trim_log(log, 10) == 0 and trim_log(tmp_path / "none.jsonl", 3) == 0


def test_a_signal_while_the_final_figures_are_drawn_stops_at_once_and_a_resume_draws_them(
    tmp_path, monkeypatch
):
    """SIGTERM after the last checkpoint, while the figures are drawn: the run says
    "interrupted" (not "running"), writes no train_summary.json (so it is not taken for done),
    restores the signal handlers, and ``--resume`` finishes it with the same weights."""
    import os

    from ipm.engine import Interrupted, figures

    cfg = tiny("gan", steps=4)
    run = tmp_path / "run"
    draw = figures.run_figures

    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)  # the handler raises before this returns
        raise AssertionError("SIGTERM did not stop the figures")

    monkeypatch.setattr(figures, "run_figures", killed)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(
        Interrupted, match="SIGTERM: stopped drawing the final figures after step 4"
    ):
        train(config_from_dict(cfg), run)
    assert signal.getsignal(signal.SIGTERM) is before
    status = _status(run)
    assert status["state"] == "interrupted" and status["step"] == 4, status
    assert "--resume draws the figures" in status["reason"]
    assert not (run / "train_summary.json").exists()
    params = run_params(run)
    monkeypatch.setattr(figures, "run_figures", draw)
    train(config_from_dict(cfg), run, resume=True)
    assert _status(run)["state"] == "finished"
    assert json.loads((run / "train_summary.json").read_text())["steps"] == 4
    assert same_params(run_params(run), params)

"""The device check's smoke run: every full MNIST config trains a few bf16 steps through the
code path of the GPU check (eager, then compiled), EDM is scored, and one JSON says so."""

import json
import subprocess
import sys

from tests.helpers import ENV, ROOT


def test_device_check_smoke_runs_every_config_on_the_cpu(tmp_path):
    out = tmp_path / "check.json"
    cmd = [sys.executable, "experiments/device_check.py", "--smoke", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    r = json.loads(out.read_text())
    runs = [(t["config"], t["compile"]) for t in r["throughput"]]
    models = ["edm", "gan", "score_gan", "discr_flow", "sd_flow", "dmmd"]
    assert runs == [(f"mnist/{m}", False) for m in models] + [("mnist/gan", True)]
    assert all(t["finite"] and t["images_per_second"] > 0 for t in r["throughput"])
    assert r["errors"] == [] and r["skipped"] == [] and r["device"] == "cpu" and r["smoke"]
    assert (
        r["loader"]["images_per_second"] > 0
        and r["fid"]["samples"] == 32
        and r["fid"]["classifier_fid"] > 0
    )

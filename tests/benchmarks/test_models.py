"""The model benchmark (``python -m benchmarks.models``): rounds, step counts and its JSON rows."""

from __future__ import annotations

import json


def test_bench_models_times_each_variant_in_rounds(tmp_path, monkeypatch):
    """Every variant is timed its number of steps per round; the JSON rows carry the medians,
    means and the official implementation's figure for the paper's models."""
    import benchmarks.models as bm

    variants = {"gaussians": [("edm", "edm.yaml", [], 3), ("gan", "gan.yaml", [], 2)]}
    monkeypatch.setattr(bm, "VARIANTS", variants)
    out = tmp_path / "b.json"
    assert bm.main(["--rounds", "2", "--warmup", "1", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["benchmark"] == "models" and "torch" in record["hardware"]
    rows = {r["model"]: r for r in record["rows"]}
    assert rows["edm"]["steps_timed"] == 6 and rows["gan"]["steps_timed"] == 4
    for r in rows.values():
        assert 0 < r["median_s_per_step"] and r["reference_s_per_step"] == bm.REFERENCE[r["model"]]


def test_bench_models_times_an_image_folder_at_each_precision(tmp_path, monkeypatch):
    """--configs digits-cpu --precision fp32 bf16: each config built as ``ipm train`` builds it
    (its image data, its networks under the precision's autocast, its thread count) and timed
    at both."""
    import benchmarks.models as bm

    monkeypatch.setattr(bm, "VARIANTS", {"digits-cpu": [("gan", "gan.yaml", [], 2)]})
    out = tmp_path / "b.json"
    argv = ["--configs", "digits-cpu", "--precision", "fp32", "bf16", "--rounds", "1",
            "--warmup", "1", "--set", "model.generator.width=32", "--threads", "0",
            "--json", str(out)]  # fmt: skip
    assert bm.main(argv) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["model"], r["precision"], r["configs"]) for r in rows] == [
        ("gan", "fp32", "digits-cpu"),
        ("gan", "bf16", "digits-cpu"),
    ]
    assert all(r["steps_timed"] == 2 and r["reference_s_per_step"] is None for r in rows)
    assert all(r["threads"] == 2 for r in rows)  # --threads 0: the config's own
    assert all(r["config_steps"] == 6000 for r in rows)  # digits-cpu/gan.yaml's train.steps
    from benchmarks.__main__ import models_section

    page = "\n".join(models_section(json.loads(out.read_text())))
    assert "digits-cpu configs" in page and "| gan | bf16 | 2 |" in page
    minutes = 6000 * rows[1]["median_s_per_step"] / 60
    assert f"| {minutes:.1f} |" in page

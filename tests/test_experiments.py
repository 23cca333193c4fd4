"""Smoke tests of the experiment commands in their --quick mode (issue 6)."""

from __future__ import annotations

import json

import pytest
import torch


def test_ntk_drift_quick(tmp_path):
    from experiments.ntk_drift import main

    res = main(["--quick", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")])
    out = json.loads((tmp_path / "out/ntk_drift.json").read_text())
    assert out["mode"] == "quick" and out["command"].startswith("python ")
    assert "wall_seconds" in out and "hardware" in out
    assert (tmp_path / "out/ntk_drift.png").is_file()
    md = (tmp_path / "out/README.md").read_text()
    assert md.startswith("# ntk_drift") and "| gaussians-gan | 32 |" in md
    for r in res["gaussians-gan"].values():
        assert r["steps"][0] == 0 and r["drift"][0] == 0.0  # K_0 against itself
        assert r["steps"][-1] == 200 and r["drift"][-1] > 0  # Adam moved the weights
        assert len(r["consecutive_drift"]) == len(r["steps"]) - 1
    # a second call finds the trained runs and only recomputes the kernels
    again = main(["--quick", "--out", str(tmp_path / "out2"), "--runs", str(tmp_path / "runs")])
    assert again["gaussians-gan"]["32"]["drift"] == pytest.approx(
        res["gaussians-gan"]["32"]["drift"]
    )


def test_output_subset_is_an_exact_ntk_block():
    from experiments.ntk_drift import OutputSubset
    from ipm.ntk import empirical_ntk

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5)
    ).double()
    z = torch.randn(4, 3, dtype=torch.float64)
    idx = torch.tensor([4, 1])
    full = empirical_ntk(net, z)  # (4, 4, 5, 5)
    block = empirical_ntk(OutputSubset(net, idx), z)
    torch.testing.assert_close(block, full[:, :, idx][:, :, :, idx])


@pytest.fixture(scope="module")
def gaussian_runs(tmp_path_factory):
    """One quick EDM and Discriminator Flow on the Gaussians, shared by the tests below."""
    return tmp_path_factory.mktemp("runs")


def test_fid_vs_nfe_quick(tmp_path, gaussian_runs):
    from experiments.fid_vs_nfe import main

    rows = main(["--quick", "--out", str(tmp_path), "--runs", str(gaussian_runs)])
    methods = {r["method"].split(" (")[0] for r in rows}
    assert methods == {"EDM Euler", "EDM Heun", "DF coarser grid", "DF early stop"}
    euler = {r["nfe"] for r in rows if r["method"] == "EDM Euler"}
    heun = {r["nfe"] for r in rows if r["method"] == "EDM Heun"}
    assert euler == {3, 9} and heun == {3, 9}  # Heun: 2n − 1 evaluations
    assert all(r["mmd2"] == r["mmd2"] and r["w2"] > 0 for r in rows)
    out = json.loads((tmp_path / "fid_vs_nfe.json").read_text())
    assert out["n_samples"] == 500 and (tmp_path / "fid_vs_nfe.png").is_file()


def test_convergence_quick(tmp_path, gaussian_runs):
    from experiments.convergence import main

    res = main(["--quick", "--out", str(tmp_path), "--runs", str(gaussian_runs)])
    for r in res.values():
        assert len(r["rows"]) == r["steps"] + 1 and r["rows"][-1]["fraction_of_nfe"] == 1.0
    # the prior is far from the data; the end of generation is closer
    for name in ("edm", "discr_flow"):
        assert res[name]["rows"][-1]["mmd2"] < res[name]["rows"][0]["mmd2"]
    assert (tmp_path / "convergence.png").is_file()


def test_mode_collapse_quick(tmp_path):
    from experiments.mode_collapse import main

    res = main(["--quick", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")])
    assert set(res) == {"(1, 1) paper", "(2, 1) EDM weights"}
    for r in res.values():
        assert 0 <= r["metrics"]["modes_covered"] <= 5 and r["metrics"]["n_samples"] == 2000
    cfgs = sorted((tmp_path / "runs").glob("score_gan_mu*/config.yaml"))
    assert [c.parent.name for c in cfgs] == ["score_gan_mu1_1", "score_gan_mu2_1"]
    assert "mu_p: 2.0" in cfgs[1].read_text()
    assert (tmp_path / "mode_collapse.png").is_file()


def test_interpolation_on_an_image_run(tmp_path):
    from experiments.interpolation import main, path_stats
    from tests.image_fixtures import tiny_mnist_gan_run

    run = tiny_mnist_gan_run(tmp_path)
    res = main([str(run), "--quick", "--out", str(tmp_path / "out")])
    assert {r["method"] for r in res.values()} == {"spherical_cauchy_linear", "linear"}
    assert all(r["path_length_ratio"] >= 1 - 1e-6 for r in res.values())
    assert (tmp_path / "out/gan_linear.png").is_file()
    straight = torch.linspace(0, 1, 5)[None, :, None] * torch.ones(1, 5, 3)
    assert path_stats(straight) == pytest.approx((1.0, 0.25))


def test_table3_quick(tmp_path, capsys):
    from experiments.table3 import MODELS, main

    res = main(["--quick", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")])
    assert set(res["gaussians"]) == set(MODELS)
    for m, r in res["gaussians"].items():
        assert 0 <= r["modes_covered"] <= 5 and r["w2"] > 0, m
        assert r["n_samples"] == 1000
    md = (tmp_path / "out/README.md").read_text()
    assert "| metric | EDM | Discr. Flow | GAN | Score GAN | SD flow | DMMD |" in md
    assert "not comparable" in md  # the paper's Inception-FIDs are labelled, not mixed in
    # a second table reuses the cached evaluation of an unchanged checkpoint ...
    again = main(
        [
            "--quick",
            "--models",
            "gan",
            "--out",
            str(tmp_path / "o2"),
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    assert again["gaussians"]["gan"] == res["gaussians"]["gan"]
    assert "evaluation reused" in capsys.readouterr().out
    # ... but not of a changed one
    cache = tmp_path / "runs/gaussians/gan/table3_eval.json"
    saved = json.loads(cache.read_text())
    saved["key"]["checkpoint_sha256"] = "0" * 64
    cache.write_text(json.dumps(saved))
    main(
        [
            "--quick",
            "--models",
            "gan",
            "--out",
            str(tmp_path / "o3"),
            "--runs",
            str(tmp_path / "runs"),
        ]
    )
    assert "evaluation reused" not in capsys.readouterr().out
    # a finished run is reused only with the same config
    from ipm.engine import ensure_run

    with pytest.raises(ValueError, match="another config"):
        ensure_run(
            "experiments/configs/gaussians/gan.yaml",
            ["train.steps=60", "model.loss=ipm"],
            tmp_path / "runs/gaussians/gan",
        )


def test_table3_noise_reference_is_far_from_the_digits_and_labelled():
    """The noise column: pure noise against the digits scores a much larger classifier-FID than
    the data against itself would, and the table prints it beside the models with its caveat."""
    from types import SimpleNamespace

    from experiments.table3 import markdown, noise_reference

    a = SimpleNamespace(quick=True, inception_weights=None)
    r = noise_reference("digits", a)
    assert r["n_samples"] == 1000 and r["fid_counts"] == [1000, 1000]
    assert r["fid"] > 100 and r["recall"] < 0.05 and 0 <= r["precision"] <= 1
    md = markdown({"digits": {"noise": r}}, a)
    assert "noise (reference)" in md and "never alone" in md


def test_bench_models_times_each_variant_in_rounds(tmp_path, monkeypatch):
    """Every variant is timed its number of steps per round; the JSON rows carry the medians,
    means and the official implementation's figure for the paper's models."""
    import benchmarks.models as bm

    monkeypatch.setattr(bm, "VARIANTS", [("edm", "edm.yaml", [], 3), ("gan", "gan.yaml", [], 2)])
    out = tmp_path / "b.json"
    assert bm.main(["--rounds", "2", "--warmup", "1", "--json", str(out)]) == 0
    rows = {r["model"]: r for r in json.loads(out.read_text())}
    assert rows["edm"]["steps_timed"] == 6 and rows["gan"]["steps_timed"] == 4
    for r in rows.values():
        assert 0 < r["median_s_per_step"] and r["reference_s_per_step"] == bm.REFERENCE[r["model"]]


def test_learning_curves_stays_below_ignores_a_single_dip():
    from ipm.curves import stays_below

    rows = [
        {"steps": s, "mmd2": m}
        for s, m in [(0, 1.0), (250, 8e-3), (500, 2e-2), (750, 9e-3), (1000, 5e-3)]
    ]
    assert stays_below(rows, 1e-2)["steps"] == 750  # the dip at 250 does not count
    assert stays_below(rows, 1e-3) is None
    assert stays_below(rows[:3], 1e-2) is None  # ends above the level
    assert stays_below(rows, 2.0)["steps"] == 0


def test_score_gan_oracle_quick(tmp_path):
    """The oracle Score GAN (exact data score) trains and is scored like ipm evaluate."""
    from experiments.score_gan_oracle import main

    res = main(["--quick", "--seeds", "0", "--out", str(tmp_path)])
    rows = res["runs"]["0"]
    assert [r["steps"] for r in rows] == [20, 40]
    assert all(0.0 <= r["off_mode_fraction"] <= 1.0 and r["mmd2"] == r["mmd2"] for r in rows)
    assert rows[1]["train_seconds"] > rows[0]["train_seconds"] > 0
    saved = json.loads((tmp_path / "score_gan_oracle.json").read_text())
    assert saved["mode"] == "quick" and saved["reference"]["off_mode_fraction"] == 0.050
    assert saved["runs"]["0"][-1]["mmd2"] == rows[-1]["mmd2"]
    assert "| 0 | 40 |" in (tmp_path / "README.md").read_text()
    assert (tmp_path / "oracle.png").is_file()


def test_seed_sweep_helpers():
    """{seed} substitution, reference parsing and the direction of each figure."""
    from ipm.sweeps import meets, parse_reference, seed_overrides, summarize

    over = seed_overrides(["model.edm_checkpoint=runs/edm/seed{seed}", "train.ema=0.9"], 3, False)
    assert over == ["seed=3", "model.edm_checkpoint=runs/edm/seed3", "train.ema=0.9"]
    assert "train.steps=40" in seed_overrides([], 0, True)
    assert parse_reference(["mmd2=1.0e-2", "modes_covered=5"]) == {"mmd2": 0.01, "modes_covered": 5}
    for bad in ("mmd2", "mmd2=x", "=1", "mmd2=nan"):
        with pytest.raises(ValueError, match="--reference"):
            parse_reference([bad])
    m = {"mmd2": 0.02, "modes_covered": 4, "off_mode_fraction": 0.05}
    ref = {"mmd2": 0.01, "modes_covered": 4, "off_mode_fraction": 0.05}
    assert meets(m, ref) == {"mmd2": False, "modes_covered": True, "off_mode_fraction": True}
    assert meets(m, {"modes_covered": 5}) == {"modes_covered": False}  # higher is better
    with pytest.raises(ValueError, match="--reference fid: not a metric"):
        meets(m, {"fid": 1.0})
    s = summarize({0: {"a": 1.0, "b": "x"}, 1: {"a": 3.0, "b": "y"}, 2: {"a": 2.0}})
    assert s == {"a": {"median": 2.0, "min": 1.0, "max": 3.0}}


def test_seed_sweep_quick(tmp_path, monkeypatch):
    """Two GAN seeds train and are scored like ipm evaluate; the counts of seeds meeting each
    figure follow the per-seed metrics; a second sweep reuses the runs and their evaluations."""
    import ipm.sweeps
    from ipm.sweeps import sweep

    config = "experiments/configs/gaussians/gan.yaml"
    kw = {"runs_dir": tmp_path / "runs", "quick": True}
    ref = {"mmd2": 10.0, "modes_covered": 6}
    res = sweep(config, [0, 1], reference=ref, out=tmp_path / "out", **kw)
    assert set(res["runs"]) == {0, 1}
    assert res["runs"][0] != res["runs"][1]  # different seeds, different samples
    assert res["n_meeting"] == {"mmd2": 2, "modes_covered": 0} and res["n_meeting_all"] == 0
    med = res["summary"]["mmd2"]["median"]
    assert med == pytest.approx((res["runs"][0]["mmd2"] + res["runs"][1]["mmd2"]) / 2)
    saved = json.loads((tmp_path / "out/seed_sweep.json").read_text())
    assert saved["mode"] == "quick" and saved["runs"]["1"]["n_samples"] == 1000
    assert "Seeds meeting all of them: **0 of 2**" in (tmp_path / "out/README.md").read_text()
    assert (tmp_path / "out/seed_sweep.png").is_file()
    assert (tmp_path / "runs/seed1/checkpoints/last.pt").is_file()

    def no_eval(*a, **k):
        raise AssertionError("the cached evaluation should have been reused")

    monkeypatch.setattr(ipm.sweeps, "evaluate_run", no_eval)
    again = sweep(config, [0, 1], out=tmp_path / "out2", **kw)
    assert again["runs"] == res["runs"]
    assert "Each seed trains with 1 thread(s)" in (tmp_path / "out2/README.md").read_text()
    monkeypatch.undo()
    # two processes: seed 0 is reused as it stands, seed 2 trains in a worker
    par = sweep(config, [0, 2], jobs=2, out=tmp_path / "out3", **kw)
    assert par["runs"][0] == res["runs"][0]
    assert par["runs"][2] != res["runs"][0]
    assert (tmp_path / "runs/seed2/checkpoints/last.pt").is_file()
    # a bad override is refused before any seed trains
    with pytest.raises(Exception, match="train.bogus"):
        sweep(config, [7], ["train.bogus=1"], runs_dir=tmp_path / "r7", quick=True)
    assert not (tmp_path / "r7").exists()


def test_compare_seeds_selects_the_seeds_at_a_path(tmp_path):
    """``FILE:PATH`` reads the per-seed dicts under one ``*``, skipping keys that are not seeds;
    a missing key or a path without exactly one ``*`` is named in the error."""
    from ipm.compare import load_set, select, split_spec

    data = {"ref": {"0": {"final": {"m": 1.0}}, "0_stop14": {}, "2": {"final": {"m": 3.0}}}}
    assert select(data, "ref/*/final") == {0: {"m": 1.0}, 2: {"m": 3.0}}
    assert split_spec("a/b.json") == (split_spec("a/b.json:runs/*")[0], "runs/*")
    with pytest.raises(ValueError, match="exactly one"):
        split_spec("x.json:*/a/*")
    with pytest.raises(ValueError, match=r"ref/0: no key 'stop14' \(it has \['final'\]\)"):
        select(data, "ref/*/stop14")
    with pytest.raises(ValueError, match=r"\(top\): no key 'runs'"):
        select(data, "runs/*")
    f = tmp_path / "s.json"
    f.write_text(json.dumps(data))
    assert load_set(f"{f}:ref/*/final")[2] == {"m": 3.0}
    with pytest.raises(ValueError, match="exactly one"):
        load_set(f"{f}:ref/0/final")  # an existing file with a path but no seeds
    with pytest.raises(FileNotFoundError, match="no file"):
        load_set(str(tmp_path / "missing.json"))


def test_compare_seeds_statistics():
    """Medians, ranges, the Mann–Whitney p-value (scipy's), and the seeds meeting each figure
    (modes_covered: higher is better)."""
    from scipy.stats import mannwhitneyu

    from ipm.compare import compare

    a = {s: {"mmd2": v, "modes_covered": 5} for s, v in enumerate([1.0, 2.0, 3.0, 10.0])}
    b = {s: {"mmd2": v, "modes_covered": 4 + s % 2} for s, v in enumerate([4.0, 5.0, 6.0])}
    res = compare(a, b, ["mmd2", "modes_covered"], {"mmd2": 4.5, "modes_covered": 5}, ("x", "y"))
    assert res["metrics"]["mmd2"]["x"] == {"median": 2.5, "min": 1.0, "max": 10.0}
    assert res["metrics"]["mmd2"]["y"] == {"median": 5.0, "min": 4.0, "max": 6.0}
    p = mannwhitneyu([1.0, 2.0, 3.0, 10.0], [4.0, 5.0, 6.0], alternative="two-sided").pvalue
    assert res["metrics"]["mmd2"]["mann_whitney_p"] == pytest.approx(p) and p < 1
    assert res["meeting"]["x"] == {
        "n_seeds": 4,
        "per_figure": {"mmd2": 3, "modes_covered": 4},
        "all": [0, 1, 2],
    }
    assert res["meeting"]["y"] == {
        "n_seeds": 3,
        "per_figure": {"mmd2": 1, "modes_covered": 1},
        "all": [],
    }
    same = compare(a, {0: {"modes_covered": 5}}, ["modes_covered"], {})
    assert same["metrics"]["modes_covered"]["mann_whitney_p"] == 1.0  # all values equal
    with pytest.raises(ValueError, match=r"B, seed 0: no numeric 'mmd2'"):
        compare(a, {0: {"modes_covered": 5}}, ["mmd2"], {})


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

"""``python -m experiments.mode_collapse --quick``."""

from __future__ import annotations


def test_mode_collapse_quick(tmp_path):
    from experiments.mode_collapse import main

    res = main(["--quick", "--out", str(tmp_path), "--runs", str(tmp_path / "runs")])
    assert set(res) == {"(1, 1) paper", "(2, 1) EDM weights"}
    page = (tmp_path / "README.md").read_text()
    for label, r in res.items():
        m = r["metrics"]
        assert m["n_samples"] == 2000
        row = f"| {label} | {m['modes_covered']}/{m['n_modes']} | {m['off_mode_fraction']:.3f} |"
        assert row in page, row
    cfgs = sorted((tmp_path / "runs").glob("score_gan_mu*/config.yaml"))
    assert [c.parent.name for c in cfgs] == ["score_gan_mu1_1", "score_gan_mu2_1"]
    assert "mu_p: 2.0" in cfgs[1].read_text()
    assert (tmp_path / "mode_collapse.png").is_file()

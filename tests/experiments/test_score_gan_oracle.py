"""``python -m experiments.score_gan_oracle --quick``."""

from __future__ import annotations

import json


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

"""Learning curves (:mod:`ipm.curves`)."""

from __future__ import annotations


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

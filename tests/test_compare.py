"""Two sets of seeds side by side (:mod:`ipm.compare`)."""

from __future__ import annotations

import json

import pytest


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

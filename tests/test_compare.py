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
        "failed": [],
        "per_figure": {"mmd2": 3, "modes_covered": 4},
        "all": [0, 1, 2],
    }
    assert res["meeting"]["y"] == {
        "n_seeds": 3,
        "failed": [],
        "per_figure": {"mmd2": 1, "modes_covered": 1},
        "all": [],
    }
    same = compare(a, {0: {"modes_covered": 5}}, ["modes_covered"], {})
    assert same["metrics"]["modes_covered"]["mann_whitney_p"] == 1.0  # all values equal
    with pytest.raises(ValueError, match=r"B, seed 0: no numeric 'mmd2'"):
        compare(a, {0: {"modes_covered": 5}}, ["mmd2"], {})


def test_a_failed_seed_counts_as_the_worst_value_of_every_metric():
    """A run that failed ranks below every finished seed (fid +inf, precision −inf), so the
    test between three finished seeds and two finished plus one failed is the one between
    the finished values and a value worse than all of them."""
    from scipy.stats import mannwhitneyu

    from ipm.compare import compare, markdown

    a = {s: {"fid": f, "precision": 0.3} for s, f in enumerate([10.0, 11.0, 12.0])}
    b = {0: {"fid": 5.0, "precision": 0.5}, 1: {"failed": "non-finite loss", "step": 9}}
    b[2] = {"fid": 20.0, "precision": 0.1}
    res = compare(a, b, ["fid", "precision"], {"fid": 15.0}, ("a", "b"))
    assert res["metrics"]["fid"]["b"] == {"median": 20.0, "min": 5.0, "max": float("inf")}
    assert res["metrics"]["precision"]["b"]["min"] == float("-inf")
    p = mannwhitneyu([10.0, 11.0, 12.0], [5.0, 1e9, 20.0], alternative="two-sided").pvalue
    assert res["metrics"]["fid"]["mann_whitney_p"] == pytest.approx(p)
    assert res["meeting"]["b"]["failed"] == [1]
    assert res["meeting"]["b"]["per_figure"] == {"fid": 1}  # the failed seed meets nothing
    page = markdown(res | {"sets": ["a.json", "b.json"]})
    assert "b: the runs of seeds [1] failed" in page and "| 20 (5 – inf) |" in page

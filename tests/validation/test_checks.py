"""The validation suite: the quick run passes, and every check fails when its property is broken."""

import json
from dataclasses import replace

import pytest

from ipm.flows import ForwardKL, GaussianFitScore
from ipm.ntk import ntk_eigs, ntk_operator
from validation import CHECKS
from validation.runner import main


def _wrong_operator(*args, **kwargs):
    return 1.05 * ntk_operator(*args, **kwargs)


def _wrong_eigenvalues(*args, **kwargs):
    out = ntk_eigs(*args, **kwargs)
    return replace(out, values=1.05 * out.values)


def _not_the_top_pairs(model, z, k, **kwargs):
    """True eigenpairs, but the 2nd to (k+1)-th: the top one is missed."""
    out = ntk_eigs(model, z, k + 1, **kwargs)
    return replace(out, values=out.values[1:], vectors=out.vectors[1:], residuals=out.residuals[1:])


BROKEN = {
    "intpm_delta_kernel": {"operator": _wrong_operator},
    "stein_ntk": {"operator": _wrong_operator},
    "ntk_spectrum": {"eigs": _wrong_eigenvalues},
    "ntk_width": {"lr_power": 1.0},
    "fokker_planck": {"sde_drift_scale": 1.3},
    "wasserstein_ou": {
        "flow_factory": lambda p: (
            ForwardKL(p, GaussianFitScore()) + 0.5 * ForwardKL(p, GaussianFitScore())
        )
    },
    "gan_fields": {"ntk_scale": 1.2},
    "score_difference": {"sign": -1.0},
}


def test_quick_suite_passes_and_writes_report(tmp_path):
    assert main(["--quick", "--out", str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert [r["name"] for r in rows] == list(CHECKS)
    assert all(r["passed"] for r in rows)
    assert {"name", "finding", "equation", "measured", "tolerance", "passed"} <= set(rows[0])
    report = (tmp_path / "report.md").read_text()
    for name in CHECKS:
        assert (tmp_path / f"{name}.png").stat().st_size > 5_000
        assert f"![{name}]({name}.png)" in report


def test_every_check_has_a_breaking_test():
    assert set(BROKEN) == set(CHECKS)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_check_fails_when_property_is_broken(name):
    res = CHECKS[name].run(quick=True, seed=0, **BROKEN[name])
    assert not res.passed, (
        f"{name} passed with a broken ingredient: {res.measured} vs {res.tolerance}"
    )


def test_the_spectrum_check_fails_when_the_top_eigenpair_is_missed():
    # true eigenpairs, so (a) holds; the bracket of (b) does not
    res = CHECKS["ntk_spectrum"].run(quick=True, seed=0, eigs=_not_the_top_pairs)
    assert res.details["(a) rel. error at η = 1e-4"] <= 1e-3
    assert not res.passed and res.measured > 10 * res.tolerance


def test_runner_rejects_unknown_check_and_unwritable_output(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--only", "no_such_check"])
    assert exc.value.code == 2
    assert "--only: unknown check 'no_such_check'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit):
        main(["--only", "score_difference", "--out", str(blocker / "sub")])
    assert "--out: cannot write to" in capsys.readouterr().err

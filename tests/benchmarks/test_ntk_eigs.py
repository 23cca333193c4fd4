"""The eigenpair benchmark's methods reach the same eigenpairs, each to its stated residual."""

import numpy as np

from benchmarks.ntk_eigs import child


def test_ipm_and_the_arpack_baseline_agree_on_a_small_case():
    rows = [child({"method": m, "N": 4, "k": 4, "tol": 1e-5}) for m in ("ntk_eigs", "scipy_eigsh")]
    for r in rows:
        assert r["products"] > 0 and r["max_residual"] <= 1e-5 and len(r["values"]) == 4
        assert all(a >= b for a, b in zip(r["values"], r["values"][1:], strict=False))
    a, b = np.array(rows[0]["values"]), np.array(rows[1]["values"])
    assert np.max(np.abs(a - b)) <= 1e-5 * a[0]

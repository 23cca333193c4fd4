"""Benchmarks of ``ipm``, one module each, run from the repository root as
``OMP_WAIT_POLICY=PASSIVEpython -m benchmarks.<name> --json docs/benchmarks/<name>.json``:

============ ==========================================================================
``ntk``      the empirical NTK's methods and the matrix-free operator: time and peak memory
``ntk_eigs`` the top eigenpairs of an image generator's NTK: ipm against ARPACK
``ntk_jax``  the JAX anchor of the operator on the same models (in an environment with JAX)
``flows``    chunked kernel sums: one squared-MMD flow step at scale
``nets``     seconds per training step of ipm's networks against reference implementations
``models``   seconds per training step of a config folder's models, side by side, per precision
``data``     loader throughput: images per second drawn from an image data set
============ ==========================================================================

Each configuration that measures memory runs in a fresh process; timings are medians after a
warm-up. ``python -m benchmarks`` writes ``docs/benchmarks.md`` from the JSON files.
"""

from __future__ import annotations

import json
from pathlib import Path

#: where the committed measurements live
DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"


def save(path: str | Path, name: str, rows: list[dict]) -> None:
    """``rows`` with the command and machine that measured them, as JSON (and says where)."""
    from ipm.report import command_line, hardware

    record = {"benchmark": name, "command": command_line(), "hardware": hardware(), "rows": rows}
    Path(path).write_text(json.dumps(record, indent=1) + "\n")
    print(f"-> {path}")

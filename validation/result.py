"""The typed result every validation check returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CheckResult", "loglog_slope", "relative_error", "slope_figure"]


@dataclass(frozen=True)
class CheckResult:
    """One numerical check of a claim of the paper.

    Attributes:
        name: short identifier (``python -m validation --only NAME``).
        finding: the paper's claim being checked, in words.
        equation: the equation numbers involved.
        quantity: what ``measured`` is.
        expected: what theory allows, in words (e.g. "slope 1 ± 0.1").
        measured: the measured value.
        tolerance: the bound ``measured`` is compared with (see ``passed``).
        passed: the verdict.
        details: further measured numbers worth reporting (slopes, noise floors, ...).
        arrays: named 1-D arrays for the check's figure.
        seconds: wall time of the check.
    """

    name: str
    finding: str
    equation: str
    quantity: str
    expected: str
    measured: float
    tolerance: float
    passed: bool
    details: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def row(self) -> dict:
        """The JSON row: name, finding, equation, measured, tolerance, passed (+ details)."""
        return {
            "name": self.name,
            "finding": self.finding,
            "equation": self.equation,
            "quantity": self.quantity,
            "expected": self.expected,
            "measured": _num(self.measured),
            "tolerance": _num(self.tolerance),
            "passed": bool(self.passed),
            "details": {k: _num(v) for k, v in self.details.items()},
            "seconds": round(self.seconds, 3),
        }


def _num(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def relative_error(a, b) -> float:
    """‖a − b‖ / ‖b‖ for tensors."""
    return ((a - b).norm() / b.norm()).item()


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = (x > 0) & (y > 0) & np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def slope_figure(
    x, y, slope: float, *, label: str, xlabel: str, title: str, ylabel: str = "relative error"
):
    """A log-log plot of y against x with a reference line of the given slope through the first point."""
    import matplotlib.pyplot as plt

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.loglog(x, y, "o-", label=label)
    ax.loglog(x, y[0] * (x / x[0]) ** slope, "k--", lw=1, label=f"slope {slope:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig

"""Numerical checks of the paper's findings; run ``python -m validation``.

Each check module exposes ``run(quick, seed, **injections) -> CheckResult`` and
``plot(result) -> Figure``; injections replace one ingredient (an NTK, a flow, a drift) so
tests can show that a broken ingredient makes the check fail.
"""

from .registry import CHECKS
from .result import CheckResult, loglog_slope

__all__ = ["CHECKS", "CheckResult", "loglog_slope"]

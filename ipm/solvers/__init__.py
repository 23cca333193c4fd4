"""Solvers: how particles move (Euler, Heun, Euler–Maruyama, annealed Euler) on uniform or EDM
grids."""

from .grids import edm_grid, uniform_grid
from .integrate import (
    AnnealedEuler,
    Euler,
    EulerMaruyama,
    Heun,
    SolverResult,
    annealed_euler,
    euler,
    euler_maruyama,
    euler_step,
    heun,
)

__all__ = [
    "AnnealedEuler",
    "Euler",
    "EulerMaruyama",
    "Heun",
    "SolverResult",
    "annealed_euler",
    "edm_grid",
    "euler",
    "euler_maruyama",
    "euler_step",
    "heun",
    "uniform_grid",
]

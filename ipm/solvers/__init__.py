"""Solvers: how particles move (Euler, Heun, Euler–Maruyama) on uniform or EDM grids."""

from .grids import edm_grid, edm_sigma_from_uniform, uniform_grid
from .integrate import Euler, EulerMaruyama, Heun, SolverResult, euler, euler_maruyama, heun

__all__ = [
    "Euler",
    "EulerMaruyama",
    "Heun",
    "SolverResult",
    "edm_grid",
    "edm_sigma_from_uniform",
    "euler",
    "euler_maruyama",
    "heun",
    "uniform_grid",
]

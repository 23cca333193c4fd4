"""The checks, in report order: name -> module with ``run`` and ``plot``."""

from __future__ import annotations

from . import (
    fokker_planck,
    gan_fields,
    intpm_delta_kernel,
    ntk_spectrum,
    ntk_width,
    score_difference,
    stein_ntk,
    wasserstein_ou,
)

CHECKS = {
    m.NAME: m
    for m in (
        intpm_delta_kernel,
        ntk_width,
        stein_ntk,
        ntk_spectrum,
        fokker_planck,
        wasserstein_ou,
        gan_fields,
        score_difference,
    )
}

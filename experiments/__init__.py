"""The paper's tables and figures and the project's own findings, one entry point each, run from
the repository root as ``python -m experiments.<name>``:

==========================  ==============================================================
``table3``                  the paper's Table 3 layout: six models on the Gaussians, digits, MNIST
``fid_vs_nfe``              Figure 7: quality against the number of function evaluations
``convergence``             Figures 1 / 7a: distance to the data along generation
``mode_collapse``           Appendix C.2: Score GAN with (μ_p, μ_ρ) = (1, 1) and (2, 1)
``interpolation``           Appendix C.3: latent interpolations of trained runs
``ntk_drift``               how far a generator's NTK moves during training, against width
``score_gan_oracle``        Score GAN on the exact data score of the Gaussians
``class_balance``           which digits image runs draw, under ipm's MNIST classifier
``train_mnist_classifier``  the classifier-FID feature space shipped with ipm
``device_check``            the full MNIST configs' training speed on a GPU (``--smoke``: CPU)
``edm_reference``           MNIST-cpu EDM against the same EDM on diffusers' U-Net, equal time
``training_length``         quality against training steps over seeds (a config's step count)
==========================  ==============================================================

Each study writes ``<name>.json``, a ``README.md`` and figures into ``docs/results/<name>/`` through
:class:`ipm.report.Report`; models are trained from ``experiments/configs/`` into ``runs/``
(:func:`ipm.engine.ensure_run`: a finished run is reused, a partial one resumed). Tools for
one's own runs — seed sweeps, their comparison, learning curves — are ``ipm`` subcommands.
``device_check`` writes one JSON where it is run (``--out``); its GPU run is committed as data.
"""

from pathlib import Path

#: the repository root, where ``runs/`` and ``docs/results/`` live
ROOT = Path(__file__).resolve().parents[1]
#: the YAML configs of the paper's models (``gaussians``, ``mnist``, ``celeba``) and CPU variants
CONFIGS = Path(__file__).resolve().parent / "configs"


def _write_index(out: Path) -> None:
    """Rewrite ``docs/results/README.md`` when a study has written a page under it."""
    from experiments import index

    if index.RESULTS.resolve() in Path(out).resolve().parents:
        index.write_index(index.RESULTS)


def _register() -> None:
    from ipm.report import AFTER_WRITE

    if _write_index not in AFTER_WRITE:
        AFTER_WRITE.append(_write_index)


_register()

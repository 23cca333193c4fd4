"""``python -m experiments.gaussians``: the Gaussians page gathers every JSON of its folder."""

import json

from experiments.gaussians import OUT, gather, markdown, overrides
from ipm.report import read


def test_the_page_holds_what_the_folder_holds():
    """gaussians.json is the gathering of the folder's runs, sweeps, comparisons and variants,
    so a result added without re-rendering the page is caught."""
    _, results = read(OUT / "gaussians.json")
    assert json.loads(json.dumps(gather(OUT))) == results
    assert set(results["models"]) == {"edm", "gan", "score_gan", "discr_flow", "sd_flow", "dmmd"}
    page = markdown(results)
    for name, sweep in results["sweeps"].items():
        n = len(sweep["seeds"])
        assert f"| [{name}](seed_sweeps/{name}/README.md) | {n} |" in page


def test_a_variant_is_shown_as_its_overrides_of_the_paper_config():
    assert overrides(OUT / "score_gan_edm_weight" / "config.yaml") == ["model.score_loss=edm"]
    assert overrides(OUT / "edm" / "config.yaml") == []

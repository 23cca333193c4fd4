"""Every results page under docs/results is its study's rendering of its JSON, at most 150
lines, and the index lists them all."""

import json

import pytest

from experiments.index import RESULTS, index, main, pages, rendered


def test_every_results_page_is_the_rendering_of_its_json():
    entries = pages()
    assert len(entries) >= 20
    for source, name in entries:
        page = (source.parent / "README.md").read_text()
        assert page == rendered(source, name), source
        assert len(page.splitlines()) <= 150, source
    assert (RESULTS / "README.md").read_text() == index(entries)


def test_check_fails_on_a_page_edited_by_hand(tmp_path):
    """--check names a page that differs from its rendering; rendering restores it."""
    d = tmp_path / "mode_collapse"
    d.mkdir()
    src = RESULTS / "mode_collapse" / "mode_collapse.json"
    (d / "mode_collapse.json").write_text(src.read_text())
    main(["--root", str(tmp_path)])
    assert main(["--root", str(tmp_path), "--check"]) == []
    page = d / "README.md"
    page.write_text(page.read_text() + "\nA note added by hand.\n")
    with pytest.raises(SystemExit, match="mode_collapse/README.md"):
        main(["--root", str(tmp_path), "--check"])
    off_mode = json.loads(src.read_text())["results"]["(1, 1) paper"]["metrics"][
        "off_mode_fraction"
    ]
    assert f"{off_mode:.3f}" in page.read_text()
    main(["--root", str(tmp_path)])
    assert "by hand" not in page.read_text()


def test_a_study_written_under_the_results_root_rewrites_the_index(tmp_path, monkeypatch):
    """Report.write of a page under docs/results also rewrites the index, with its wall time."""
    import experiments.index as index_module
    from ipm.report import Report

    monkeypatch.setattr(index_module, "RESULTS", tmp_path)
    (tmp_path / "README.md").write_text("# Results\nstale\n")
    Report("mode_collapse", tmp_path / "mode_collapse", 0).write({"results": {}}, "body")
    text = (tmp_path / "README.md").read_text()
    assert "stale" not in text
    assert "[mode_collapse](mode_collapse/README.md) | mode_collapse" in text
    outside = tmp_path.parent / (tmp_path.name + "_elsewhere")
    Report("mode_collapse", outside, 0).write({"results": {}}, "body")
    assert (tmp_path / "README.md").read_text() == text

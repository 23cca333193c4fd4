"""The README's examples run as written and meet their stated targets."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def code_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.slow
def test_readme_examples_reach_their_targets(capsys):
    blocks = code_blocks()
    assert len(blocks) == 2
    assert all(len(b.strip().splitlines()) <= 15 for b in blocks)
    ns: dict = {}
    exec(compile(blocks[0], "README example 1", "exec"), ns)
    assert ns["after"] <= 0.05 * ns["before"]
    exec(compile(blocks[1], "README example 2", "exec"), ns)
    assert ns["after"] <= 0.10 * ns["before"]
    out = capsys.readouterr().out
    assert "PM     MMD² before" in out and "Int-PM MMD² before" in out


@pytest.mark.slow
def test_demo_writes_figure(tmp_path):
    from ipm.cli import main

    assert main(["demo", "--out", str(tmp_path), "--steps", "300"]) == 0
    assert (tmp_path / "demo.png").stat().st_size > 10_000

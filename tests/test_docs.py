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


EQUATIONS = README.parent / "docs" / "equations.md"


def _resolve(dotted: str):
    """The object a dotted ``ipm.…`` name refers to (modules imported along the way)."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(dotted)


def test_every_ipm_name_in_the_equation_map_and_the_readme_resolves():
    names = set(re.findall(r"`(ipm(?:\.\w+)+)", EQUATIONS.read_text()))
    assert len(names) > 40
    names |= set(re.findall(r"\b(ipm\.\w+(?:\.\w+)*)", README.read_text()))
    missing = []
    for name in sorted(names):
        try:
            _resolve(name)
        except (AttributeError, ModuleNotFoundError):
            missing.append(name)
    assert missing == []


def test_readme_is_short_and_its_commands_exist():
    """At most 250 lines; every ``ipm`` subcommand and ``python -m`` module it shows exists."""
    import importlib.util

    from ipm.cli import main

    text = README.read_text()
    assert len(text.splitlines()) <= 250
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", text, flags=re.S))
    for cmd in set(re.findall(r"^ipm (\w+)", blocks, flags=re.M)):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0, cmd
    modules = set(re.findall(r"python -m (\w+(?:\.\w+)*)", text))
    assert {"ipm", "validation", "experiments.table3", "benchmarks.ntk"} <= modules
    for mod in modules:
        assert importlib.util.find_spec(mod) is not None, mod


def test_equation_map_stands_alone():
    text = EQUATIONS.read_text()
    assert "../" not in text and "shared/" not in text
    numbers = set(re.findall(r"^\| \((\d+)\)", text, flags=re.M))
    numbers |= {
        n for pair in re.findall(r"^\| \((\d+)\), \((\d+)\)", text, flags=re.M) for n in pair
    }
    assert {str(n) for n in (1, 8, 10, 12, 13, 15, 17, 19, 21, 23, 25, 27, 28)} <= numbers


# numbered work sessions, stops or issues, and source documents by number: history belongs in
# git log and CHANGELOG.md, and papers are cited by author and year
_DIGEST = "PAPER" + "_DIGEST"
DEV_LOG = re.compile(
    r"(^|[^-])\b([Ss]top|[Ss]ession)s? [0-9]+\b|\b[Ii]ssues? #?[0-9]+\b|\bseeds? 00[0-9]\b"
    + f"|{_DIGEST}|"
    + r"\bthe dig"
    + r"est\b|\bthe iss"
    + r"ue'?s?\b"
)
BINARY = (".png", ".gif", ".npz", ".npy", ".pt", ".gz", ".jpg", ".pdf")


def tracked_text_files() -> list[Path]:
    import subprocess

    out = subprocess.run(
        ["git", "-C", str(README.parent), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    return [README.parent / f for f in out if not f.endswith(BINARY)]


def test_no_line_carries_a_development_log_reference():
    """Code, tests, docs, configs and results data speak of the project alone."""
    files = tracked_text_files()
    if not files:
        pytest.skip("not a git checkout: no tracked files to read")
    hits = []
    for f in files:
        if not f.is_file():
            continue
        for i, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            if DEV_LOG.search(line):
                hits.append(f"{f.relative_to(README.parent)}:{i}: {line.strip()[:100]}")
    assert hits == [], "\n".join(hits[:20])


def test_the_development_log_pattern_catches_what_it_should():
    # written in pieces, so that this file does not carry what it looks for
    bad = ["met at st" + "op 16", "Iss" + "ue 4 asks", "seeds 0" + "02 and 0" + "04"]
    bad += [f"see {_DIGEST}.md", "the iss" + "ue's figures", "Sess" + "ion 3"]
    for line in bad:
        assert DEV_LOG.search(line), line
    for fine in ("stop-16 gap", "non-stop", "--stop 14", "the sha256 checksum", "Weber (2023)"):
        assert not DEV_LOG.search(fine), fine

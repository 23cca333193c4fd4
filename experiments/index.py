"""Every results page under ``docs/results/``, re-rendered from its JSON, and their index.

    python -m experiments.index [--check]

Each page ``<dir>/README.md`` is the pure function ``markdown`` of the study that wrote
``<dir>/<name>.json`` (``experiments.<name>``, ``ipm sweep``, ``ipm compare``); this writes every
page again from its JSON and ``docs/results/README.md``, a table of the pages with the command
that made each. ``--check`` writes nothing and fails if a page differs from its rendering.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path

from experiments import ROOT
from ipm.report import page, read

RESULTS = ROOT / "docs" / "results"
#: the module whose ``markdown(results)`` renders each study's page
MODULES = {"seed_sweep": "ipm.sweeps", "compare_seeds": "ipm.compare"}


def renderer(name: str):
    """``markdown(results) -> str`` of the study ``name``."""
    return importlib.import_module(MODULES.get(name, f"experiments.{name}")).markdown


def pages(root: Path = RESULTS) -> list[tuple[Path, str]]:
    """(JSON file, study name) of every results page under ``root``."""
    out = []
    for f in sorted(root.rglob("*.json")):
        try:
            data = json.loads(f.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(data, dict) and f.stem == data.get("experiment") and "command" in data:
            out.append((f, f.stem))
    return out


def rendered(source: Path, name: str) -> str:
    head, results = read(source)
    return page(head, renderer(name)(results))


def index(entries: list[tuple[Path, str]], root: Path = RESULTS) -> str:
    """The index page: one row per results page, with its command and wall time."""
    lines = [
        "# Results",
        "",
        "Every page below is written from its JSON by the command it names (`python -m "
        "experiments.index` writes them all again, and this table).",
        "",
        "| page | study | command | wall time |",
        "|---|---|---|---|",
    ]
    for source, name in entries:
        head, _ = read(source)
        rel = source.parent.relative_to(root)
        lines.append(
            f"| [{rel}]({rel}/README.md) | {name} | `{head['command']}` | "
            f"{head['wall_seconds']} s |"
        )
    return "\n".join(lines) + "\n"


def write_index(root: Path = RESULTS) -> Path:
    """Write ``root/README.md``, the index of the pages now under ``root``."""
    path = root / "README.md"
    path.write_text(index(pages(root), root))
    return path


def main(argv=None) -> list[str]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--check", action="store_true", help="compare, write nothing")
    p.add_argument("--root", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    entries = pages(a.root)
    want = {f.parent / "README.md": rendered(f, name) for f, name in entries}
    want[a.root / "README.md"] = index(entries, a.root)
    stale = [
        str(path) for path, text in want.items() if not path.is_file() or path.read_text() != text
    ]
    if a.check:
        if stale:
            raise SystemExit("pages that differ from their rendering:\n" + "\n".join(stale))
        return []
    for path, text in want.items():
        path.write_text(text)
    print(f"{len(want)} pages written ({len(stale)} changed)")
    return stale


if __name__ == "__main__":
    main()

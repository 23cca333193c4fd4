"""Results pages: what a study writes — ``<name>.json`` and a ``README.md`` of tables and
figures — headed by the command, seeds, hardware, threads and wall time that produced them,
so that every reported number comes with the command that made it.

A page is a pure function of its JSON: each study has a ``markdown(results) -> str``, and
:func:`rerender` writes the page again from the JSON alone (``--render`` of every study), so a
page never holds anything its data do not.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch

__all__ = [
    "HEADER",
    "Report",
    "command_line",
    "common_arguments",
    "hardware",
    "page",
    "read",
    "rerender",
]

#: the keys of a results JSON that head its page; the rest are the study's results
HEADER = ("experiment", "command", "seed", "mode", "hardware", "wall_seconds")


def hardware() -> str:
    """The machine a figure was measured on: CPU (its name and whether it computes in bfloat16
    natively), GPU, torch version, threads, OMP policy."""
    from .nets.precision import native_bf16

    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    caps = torch.cpu.get_capabilities() if hasattr(torch.cpu, "get_capabilities") else {}
    cpu = caps.get("cpu_name") or platform.processor() or "CPU"
    bf16 = "native bf16" if native_bf16("cpu") else "no native bf16"
    return (
        f"{platform.machine()} ({cpu}, {bf16}), {os.cpu_count()} CPU cores, {dev}, "
        f"torch {torch.__version__}, "
        f"torch threads {torch.get_num_threads()}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )


def command_line(argv: list[str] | None = None) -> str:
    """The command as it was typed: ``ipm …`` for the ``ipm`` command, ``python -m pkg.mod …``
    for a module of a package run with ``-m``, else ``python SCRIPT …``."""
    argv = list(sys.argv if argv is None else argv)
    script, args = Path(argv[0]), [shlex.quote(a) for a in argv[1:]]
    if script.name == "ipm" or (script.name == "__main__.py" and script.parent.name == "ipm"):
        return " ".join(["ipm", *args])
    parts, d = [script.stem], script.resolve().parent
    while (d / "__init__.py").is_file():
        parts.insert(0, d.name)
        d = d.parent
    if len(parts) > 1:
        return " ".join(["python", "-m", ".".join(parts), *args])
    return " ".join(["python", str(argv[0]), *args])


def common_arguments(parser, out_default=None) -> None:
    """The flags every study takes: ``--quick``, ``--out``, ``--seed``, ``--threads``."""
    parser.add_argument("--quick", action="store_true", help="a reduced run, to check the pipeline")
    parser.add_argument("--out", type=Path, default=out_default, help="the results directory")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--render", action="store_true", help="only rewrite the page from its JSON in --out"
    )


#: called with the results directory after every :meth:`Report.write` (``experiments`` adds
#: the rewrite of its results index, so a re-run study never leaves the index behind)
AFTER_WRITE: list = []


class Report:
    """Collects the header at start; :meth:`write` adds the wall time and writes
    ``out/<name>.json`` (header + results) and ``out/README.md`` (header + markdown)."""

    def __init__(self, name: str, out: str | Path, seed: int | str, quick: bool = False):
        self.name, self.out, self.seed, self.quick = name, Path(out), seed, quick
        self.out.mkdir(parents=True, exist_ok=True)
        self.start = time.perf_counter()
        self.command = command_line()

    def header(self) -> dict:
        return {
            "experiment": self.name,
            "command": self.command,
            "seed": self.seed,
            "mode": "quick" if self.quick else "full",
            "hardware": hardware(),
            "wall_seconds": round(time.perf_counter() - self.start, 1),
        }

    def write(self, results: dict, markdown: str) -> Path:
        head = self.header()
        (self.out / f"{self.name}.json").write_text(
            json.dumps({**head, **results}, indent=2) + "\n"
        )
        path = self.out / "README.md"
        path.write_text(page(head, markdown))
        for hook in AFTER_WRITE:
            hook(self.out)
        return path


def reused_sentence(done: str, names: list[str], where: str = "") -> str:
    """The page's sentence naming results an earlier invocation computed (``done``: what it
    did to them, e.g. "Evaluations reused from the `eval.json` cache of"), which this
    invocation's wall time leaves out."""
    return (
        f"{done} an earlier invocation{where} (same checkpoint bytes and settings), not included "
        "in the wall time: " + ", ".join(names) + "."
    )


def page(head: dict, markdown: str) -> str:
    """A results page: the title and header lines, then the body."""
    return (
        f"# {head['experiment']}\n\n"
        f"- command: `{head['command']}`\n"
        f"- seed: {head['seed']}; mode: {head['mode']}\n"
        f"- hardware: {head['hardware']}\n"
        f"- wall time: {head['wall_seconds']} s\n\n" + markdown.strip() + "\n"
    )


def read(path: str | Path) -> tuple[dict, dict]:
    """(header, results) of a results JSON written by :meth:`Report.write`."""
    data = json.loads(Path(path).read_text())
    head = {k: data[k] for k in HEADER if k in data}
    return head, {k: v for k, v in data.items() if k not in HEADER}


def rerender(directory: str | Path, name: str, markdown) -> Path:
    """Rewrite ``directory/README.md`` from ``directory/<name>.json`` with ``markdown``."""
    directory = Path(directory)
    source = directory / f"{name}.json"
    if not source.is_file():
        raise FileNotFoundError(f"--render: no {source} to render the page from")
    head, results = read(source)
    path = directory / "README.md"
    path.write_text(page(head, markdown(results)))
    return path

"""What every experiment writes: JSON, a markdown table and figures, headed by the command,
seed, hardware, threads and wall time that produced them."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def hardware() -> str:
    dev = "no GPU"
    if torch.cuda.is_available():
        dev = torch.cuda.get_device_name(0)
    return (
        f"{platform.machine()}, {os.cpu_count()} CPU cores, {dev}, torch {torch.__version__}, "
        f"torch threads {torch.get_num_threads()}, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}"
    )


def add_common_args(p, out_default=None) -> None:
    """The flags every experiment takes: ``--quick``, ``--out``, ``--seed``, ``--threads``."""
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=out_default)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)


class Report:
    """Collects the header fields at start; :meth:`write` adds the wall time and writes
    ``<name>.json`` and ``README.md`` into ``out``."""

    def __init__(self, name: str, out: Path, seed: int, quick: bool):
        self.name, self.out, self.seed, self.quick = name, Path(out), seed, quick
        self.out.mkdir(parents=True, exist_ok=True)
        self.start = time.perf_counter()
        script = Path(sys.argv[0])
        try:
            script = script.resolve().relative_to(ROOT)
        except ValueError:
            pass
        self.command = " ".join(["python", str(script), *sys.argv[1:]])

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
        top = (
            f"# {self.name}\n\n"
            f"- command: `{head['command']}`\n"
            f"- seed: {head['seed']}; mode: {head['mode']}\n"
            f"- hardware: {head['hardware']}\n"
            f"- wall time: {head['wall_seconds']} s\n\n"
        )
        path = self.out / "README.md"
        path.write_text(top + markdown.strip() + "\n")
        return path

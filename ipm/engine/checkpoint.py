"""Checkpoints that are never half-written and that say when they are damaged.

File format: a plain ``torch.save`` of ``{"format", "sha256", "payload"}``, where ``payload`` is
the serialised state (itself a ``torch.save`` of tensors, numbers, strings, lists and dicts)
stored as a uint8 tensor and ``sha256`` its digest. Both layers load with
``torch.load(..., weights_only=True)``; :func:`load_checkpoint` verifies the checksum, so a
truncated or tampered file raises :class:`CheckpointError` naming it.

Writes go to a temporary file in the same directory, are flushed to disk, and then renamed
over the target (atomic on POSIX): a process killed mid-write leaves the last good checkpoint.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
from pathlib import Path

import torch

__all__ = [
    "CheckpointError",
    "file_sha256",
    "find_checkpoint",
    "load_checkpoint",
    "load_newest",
    "previous",
    "save_checkpoint",
]

FORMAT = "ipm-checkpoint-v1"
LAST = "last.pt"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read, is truncated, or fails its integrity check."""


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def previous(path: str | Path) -> Path:
    """Where :func:`save_checkpoint` keeps the checkpoint it replaced (``last.prev.pt``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def save_checkpoint(path: str | Path, payload: dict, *, keep_previous: bool = False) -> Path:
    """Atomically write ``payload`` to ``path`` (temporary file + fsync + rename); with
    ``keep_previous`` the file it replaces is kept as :func:`previous` (``last.prev.pt``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(payload, buf)
    raw = buf.getvalue()
    blob = {
        "format": FORMAT,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "payload": torch.frombuffer(bytearray(raw), dtype=torch.uint8),
    }
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(blob, f)
            f.flush()
            os.fsync(f.fileno())
        if keep_previous and path.is_file():
            os.replace(path, previous(path))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
    return path


def load_checkpoint(path: str | Path) -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # a pickle of objects (a saved module, a plain pickle)
        raise CheckpointError(
            f"{path}: not an ipm checkpoint: it holds Python objects, not only tensors (ipm "
            f"reads the checkpoints `ipm train` writes, and never unpickles objects)"
        ) from None
    except Exception as e:  # zip errors, EOF, text: a damaged file or not a torch file
        first = (str(e).strip().splitlines() or [type(e).__name__])[0].split(". ")[0]
        raise CheckpointError(
            f"{path}: cannot be read as a checkpoint (truncated, corrupted or not a torch "
            f"file?): {first}"
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an ipm checkpoint (expected format {FORMAT!r})")
    raw = blob["payload"].numpy().tobytes()
    if hashlib.sha256(raw).hexdigest() != blob.get("sha256"):
        raise CheckpointError(
            f"{path}: integrity check failed (sha256 mismatch): the file was modified"
        )
    try:
        return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: payload cannot be read: {e}") from None


def find_checkpoint(path: str | Path, what: str = "checkpoint") -> Path:
    """``path`` itself if a file, else ``path/checkpoints/last.pt`` of a run directory."""
    p = Path(path)
    if p.is_file():
        return p
    cand = p / "checkpoints" / LAST
    if cand.is_file():
        return cand
    raise FileNotFoundError(
        f"{what}: no checkpoint at {str(p)!r} (expected a checkpoint file or a run directory "
        f"containing checkpoints/{LAST}; train one with `ipm train CONFIG --out RUN_DIR`)"
    )


def load_newest(path: str | Path) -> tuple[Path, dict, list[str]]:
    """(file, payload, why the newer files were passed over) of the newest checkpoint that
    verifies among ``path`` (a run's ``last.pt``), the one it replaced (:func:`previous`) and the
    kept ``step_*.pt`` snapshots beside it. Raises :class:`CheckpointError` naming every file
    tried when none verifies."""
    path = Path(path)
    skipped: list[str] = []

    def attempt(p: Path) -> dict | None:
        try:
            return load_checkpoint(p)
        except CheckpointError as e:
            skipped.append(str(e))
            return None

    if (payload := attempt(path)) is not None:
        return path, payload, skipped
    best: tuple[Path, dict] | None = None
    if previous(path).is_file() and (payload := attempt(previous(path))) is not None:
        best = (previous(path), payload)
    for snap in sorted(path.parent.glob("step_*.pt"), reverse=True):
        if best is not None and int(snap.stem.split("_")[1]) <= int(best[1]["step"]):
            break
        if (payload := attempt(snap)) is not None:
            best = (snap, payload)
            break
    if best is None:
        raise CheckpointError("no checkpoint verifies: " + "; ".join(skipped))
    return best[0], best[1], skipped

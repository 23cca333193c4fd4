"""A run directory owned by one process, its status, and clean stops.

- :class:`RunLock`: ``RUN_DIR/.lock``, an exclusive ``flock`` taken before anything is written.
  The kernel releases it when its holder exits, however it exits (SIGKILL included), so a lock
  file left by a dead process is reclaimed, saying so; a live holder is named in the refusal.
- :func:`write_status`: ``RUN_DIR/status.json`` (``running``, ``finished``, ``interrupted``,
  ``failed``), with the step, the reason and the process, replaced atomically.
- :class:`StopSignals`: SIGINT and SIGTERM set a flag that the training loop reads between
  steps, so a run stops at a step boundary with a fresh checkpoint; a second SIGINT interrupts
  at once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

__all__ = ["Interrupted", "RunLock", "RunLockedError", "StopSignals", "write_status"]

LOCK = ".lock"
STATUS = "status.json"


class RunLockedError(RuntimeError):
    """Another live process is training into the run directory."""


class Interrupted(Exception):
    """Training stopped by a signal at a step boundary, its checkpoint written."""

    def __init__(self, signum: int, step: int, checkpoint: Path):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        name = signal.Signals(signum).name
        super().__init__(
            f"{name}: stopped at step {step}; checkpoint {checkpoint} (continue with --resume)"
        )

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process the signal ended (130, 143)."""
        return 128 + self.signum


def _holder(text: str) -> dict:
    try:
        return json.loads(text)
    except ValueError:
        return {}


class RunLock:
    """An exclusive lock on ``run_dir`` for the life of a ``with`` block (POSIX ``flock``)."""

    def __init__(self, run_dir: str | Path):
        self.path = Path(run_dir) / LOCK
        self.fd: int | None = None
        self.reclaimed: dict | None = None  # the dead holder whose lock file was taken over

    def __enter__(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
            os.close(fd)
            who = ", ".join(f"{k} {held[k]}" for k in ("pid", "host", "started") if k in held)
            raise RunLockedError(
                f"{self.path.parent}: another process is training into this run directory "
                f"({who or 'holder unknown'}); wait for it, stop it, or choose another --out"
            ) from None
        previous = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
        if previous.get("pid"):
            self.reclaimed = previous
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)  # an empty lock file: released, nothing to reclaim
            os.close(self.fd)  # closing releases the flock
            self.fd = None


def write_status(run_dir: str | Path, state: str, step: int, reason: str | None = None) -> None:
    """Replace ``RUN_DIR/status.json`` atomically with the run's state at ``step``."""
    path = Path(run_dir) / STATUS
    rec = {"state": state, "step": int(step), "pid": os.getpid(), "updated": time.time()}
    if reason:
        rec["reason"] = reason
    tmp = path.with_name(f".{STATUS}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(rec, indent=1))
    os.replace(tmp, path)


class StopSignals:
    """SIGINT/SIGTERM set :attr:`received` (the signal number) inside a ``with`` block; a second
    SIGINT raises KeyboardInterrupt. Outside the main thread (where handlers cannot be set) it
    does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.received: int | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame):
        if self.received == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signum

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous.clear()

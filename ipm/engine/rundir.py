"""A run directory owned by one process, its status, and clean stops.

- :class:`RunLock`: ``RUN_DIR/.lock``, an exclusive ``flock`` taken before anything is written.
  The kernel releases it when its holder exits, however it exits (SIGKILL included), so a lock
  file left by a dead process is reclaimed, saying so; a live holder is named in the refusal.
- :func:`write_text_atomic`: a file replaced whole (status, summary, trimmed log).
- :func:`write_status`: ``RUN_DIR/status.json`` (``running``, ``finished``, ``interrupted``,
  ``failed``), with the step, the reason and the process, replaced atomically;
  :func:`write_stop_status` the one a stopping exception leaves; :func:`read_status` reads it.
- :class:`StopSignals`: SIGINT and SIGTERM set a flag that the training loop reads between
  steps, so a run stops at a step boundary with a fresh checkpoint; a second SIGINT interrupts
  at once.
- :func:`resolve_paths`: the paths a run reads, made absolute in its saved config (a data
  folder taken from ``$IPM_MNIST_DIR``/``$IPM_CELEBA_DIR``, a Score GAN's data EDM), with the
  sha256 of the EDM checkpoint, so that the run evaluates, samples and resumes from any working
  directory and a resume notices a changed EDM.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

__all__ = [
    "Interrupted",
    "RunLock",
    "RunLockedError",
    "StopSignals",
    "check_inputs",
    "default_run_dir",
    "read_status",
    "resolve_paths",
    "trim_log",
    "write_status",
    "write_stop_status",
    "write_text_atomic",
]

LOCK = ".lock"
STATUS = "status.json"


class RunLockedError(RuntimeError):
    """Another live process is training into the run directory."""


class Interrupted(Exception):
    """Training stopped by a signal at a step boundary, its checkpoint written; or, with
    ``figures``, while the final figures of a run whose last checkpoint is written were drawn
    (a resume draws them)."""

    def __init__(self, signum: int, step: int, checkpoint: Path, figures: bool = False):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        name = signal.Signals(signum).name
        if figures:
            said = f"stopped drawing the final figures after step {step}; checkpoint {checkpoint}"
            said += " is complete (--resume draws the figures)"
        else:
            said = f"stopped at step {step}; checkpoint {checkpoint} (continue with --resume)"
        super().__init__(f"{name}: {said}")

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
        self.created = False
        self.reclaimed: dict | None = None  # the dead holder whose lock file was taken over

    def __enter__(self) -> RunLock:
        import fcntl

        self.created = not self.path.parent.exists()
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
        if self.fd is None:
            return
        os.ftruncate(self.fd, 0)  # an empty lock file: released, nothing to reclaim
        os.close(self.fd)  # closing releases the flock
        self.fd = None
        run_dir = self.path.parent
        if self.created and [p.name for p in run_dir.iterdir()] == [LOCK]:
            self.path.unlink()  # a run that stopped before writing anything leaves no directory
            run_dir.rmdir()


def default_run_dir(config: str | Path, under: str | Path = "runs") -> Path:
    """``under/<config's folder>/<config's name>``: configs of one name in different folders
    (``gaussians/gan.yaml``, ``mnist-cpu/gan.yaml``) get different run directories."""
    path = Path(config).resolve()
    return Path(under) / path.parent.name / path.stem


def write_text_atomic(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temporary file beside it, then a rename):
    a reader sees the old file or the new one, never a part."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_status(run_dir: str | Path, state: str, step: int, reason: str | None = None) -> None:
    """Replace ``RUN_DIR/status.json`` atomically with the run's state at ``step``."""
    path = Path(run_dir) / STATUS
    rec = {"state": state, "step": int(step), "pid": os.getpid(), "updated": time.time()}
    if reason:
        rec["reason"] = reason
    write_text_atomic(path, json.dumps(rec, indent=1))


def read_status(run_dir: str | Path) -> dict:
    """``RUN_DIR/status.json`` as written by :func:`write_status` ({} where there is none)."""
    path = Path(run_dir) / STATUS
    return json.loads(path.read_text()) if path.is_file() else {}


def write_stop_status(run_dir: str | Path, exc: BaseException, step: int) -> None:
    """``status.json`` of a run that ``exc`` stopped after ``step``: interrupted (a signal, with
    its own step and message; Ctrl-C) or failed (any other error)."""
    if isinstance(exc, Interrupted):
        write_status(run_dir, "interrupted", exc.step, str(exc))
    elif isinstance(exc, KeyboardInterrupt):
        reason = f"KeyboardInterrupt after step {step}; the last checkpoint is kept"
        write_status(run_dir, "interrupted", step, reason)
    elif isinstance(exc, Exception):
        write_status(run_dir, "failed", step, f"{type(exc).__name__}: {exc}")


def trim_log(path: str | Path, step: int) -> int:
    """Keep the lines of the step log ``path`` (one JSON object per line) up to ``step``, the
    step a resumed run continues from, replacing the file atomically: the steps after it are run
    and logged again, so each step keeps one entry. A line cut short by a kill is dropped too.
    Returns the number of lines dropped."""
    path = Path(path)
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text().splitlines():
        try:
            ok = int(json.loads(line)["step"]) <= step
        except (ValueError, KeyError, TypeError):
            ok = False
        if ok:
            kept.append(line + "\n")
        else:
            dropped += 1
    if dropped:
        write_text_atomic(path, "".join(kept))
    return dropped


class StopSignals:
    """SIGINT/SIGTERM set :attr:`received` (the signal number) inside a ``with`` block; a second
    SIGINT raises KeyboardInterrupt. With ``stop_now``, a signal instead raises
    ``stop_now(signum)`` at once (for work with no step boundary to stop at). Outside the main
    thread (where handlers cannot be set) it does nothing."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, stop_now=None):
        self.received: int | None = None
        self.stop_now = stop_now
        self._previous: dict = {}

    def _handle(self, signum, frame):
        if self.received == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = signum
        if self.stop_now is not None:
            raise self.stop_now(signum)

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for s in self.SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for s, h in self._previous.items():
            signal.signal(s, h)
        self._previous.clear()


def resolve_paths(cfg, saved=None):
    """(``cfg`` with absolute paths, {config key: sha256} of the files it reads as inputs).

    ``data.root`` of MNIST and image folders becomes the absolute folder (from the environment
    variable when empty; left empty when that is unset too, for the data loader to say so);
    ``model.edm_checkpoint`` becomes the absolute checkpoint file, hashed. ``saved``, the config
    of the run being resumed: a path of ``cfg`` that does not exist from this working directory
    (a relative path written elsewhere) is the run's recorded one."""
    from dataclasses import replace

    from ..data import ENV_CELEBA, ENV_MNIST
    from .checkpoint import file_sha256, find_checkpoint

    env = {"mnist": ENV_MNIST, "image_folder": ENV_CELEBA}.get(cfg.data.name)
    if env is not None:
        root = cfg.data.root or os.environ.get(env, "")
        if saved is not None and not (root and Path(root).expanduser().is_dir()):
            root = saved.data.root or root
        if root:
            cfg = replace(cfg, data=replace(cfg.data, root=str(Path(root).expanduser().resolve())))
    inputs = {}
    edm = getattr(cfg.model, "edm_checkpoint", "")
    if edm and saved is not None and not Path(edm).expanduser().exists():
        edm = getattr(saved.model, "edm_checkpoint", "") or edm
    if edm:
        what = "model.edm_checkpoint (the Score GAN's data score)"
        path = find_checkpoint(edm, what=what).resolve()
        cfg = replace(cfg, model=replace(cfg.model, edm_checkpoint=str(path)))
        inputs["model.edm_checkpoint"] = file_sha256(path)
    return cfg, inputs


def check_inputs(saved: dict, now: dict) -> None:
    """Raise naming the key when a resumed run would read another input file than it trained
    with (``saved`` and ``now``: :func:`resolve_paths`' hashes)."""
    from ..config import ConfigError

    for key, sha in saved.items():
        if now.get(key) != sha:
            raise ConfigError(
                key,
                f"--resume: the file differs from the one the run trained with (sha256 "
                f"{str(now.get(key))[:12]}... now, {sha[:12]}... then); point it at that file",
            )

"""One training engine for every model: optimisers, EMA, logging, checkpoints, evaluation cadence.

The model (:class:`~ipm.models.GenerativeModel`) provides its steps; the engine owns the rest.
A run directory holds::

    config.yaml        the resolved config
    meta.json          git revision, package versions, command, threads, device
    log.jsonl          one JSON object per logged step
    status.json        running, finished, interrupted or failed, with the step and reason
    .lock              held by the process training into the directory (see ipm.engine.rundir)
    checkpoints/last.pt  the last good checkpoint (atomic writes, verified reads)
    checkpoints/last.prev.pt  the one before it: --resume falls back to the newest that verifies
    checkpoints/step_XXXXXXX.pt  kept snapshots (``train.keep_every``), e.g. for learning curves
    figures/           particles with their field (and loss background), generation GIF
    train_summary.json seconds per step, steps done

Resume is exact: every random draw goes through one CPU generator whose state is checkpointed
with the networks, optimisers, EMA and any model state, so a resumed run ends bit-identical to an
uninterrupted one (single process, same threads). Distributed training (``torchrun``) wraps the
trained networks in DistributedDataParallel; each rank keeps its slice of the global batch.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import ConfigError, to_dict
from ..data import TensorImages, data_shape, training_dataset
from ..flows import DenoiserScore
from ..models import GenerativeModel, StepContext, build_model, models
from ..optim import attach_scaler, lr_factor, set_lr_factor
from .checkpoint import LAST, CheckpointError, load_checkpoint, load_newest, save_checkpoint
from .config import RunConfig, load_config, saved_run_config
from .rundir import (
    Interrupted,
    RunLock,
    StopSignals,
    check_inputs,
    resolve_paths,
    trim_log,
    write_status,
    write_stop_status,
    write_text_atomic,
)

__all__ = [
    "NonFiniteError",
    "ensure_run",
    "TrainResult",
    "load_data_score",
    "load_run",
    "model_inputs",
    "resolve_device",
    "train",
]


class NonFiniteError(RuntimeError):
    """NaN or inf in a loss or in the particles: training stopped, last good checkpoint kept."""


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path
    steps: int
    seconds_per_step: float
    last: dict[str, float]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device", "'cuda' requested but no CUDA device is available")
    if name == "cuda" and "LOCAL_RANK" in os.environ:
        return torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}")
    return torch.device(name)


def _git_revision() -> dict:
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return {"git_revision": rev or "unknown", "git_dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"git_revision": "unknown", "git_dirty": None}


def _meta(cfg: RunConfig, device: torch.device, world: int) -> dict:
    import numpy

    import ipm

    versions = {"ipm": ipm.__version__, "torch": torch.__version__, "numpy": numpy.__version__}
    versions["python"] = platform.python_version()
    return {
        **_git_revision(),
        "versions": versions,
        "command": sys.argv,
        "threads": torch.get_num_threads(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "device": str(device),
        "world_size": world,
        "model": cfg.model.name,
    }


def saved_config(payload: dict) -> dict:
    """A checkpoint's config as today's code reads it (:func:`~ipm.config.saved_run_config`):
    keys added since the run was saved take their defaults, or the old behaviour where a
    default changed, exactly as :func:`load_run` rebuilds the model."""
    return to_dict(saved_run_config(payload["config"]))


def _resolve_auto_precision(cfg: RunConfig, device: torch.device, payload, announce: bool):
    """``cfg`` with ``train.precision: auto`` made concrete: the resumed run's precision, or
    :func:`~ipm.nets.precision.resolve_precision` on ``device`` (said on stderr), so that the
    run records what it trains in and resumes exactly on any host."""
    from dataclasses import replace

    from ..nets.precision import resolve_precision

    if cfg.train.precision != "auto":
        return cfg
    if payload is not None:
        chosen, why = saved_config(payload)["train"]["precision"], "the run's"
    else:
        chosen = resolve_precision("auto", device)
        native = "computes" if chosen == "bf16" else "does not compute"
        why = f"{device.type} {native} in bfloat16 natively"
    if announce:
        print(f"train.precision auto: {chosen} ({why})", file=sys.stderr)
    return replace(cfg, train=replace(cfg.train, precision=chosen))


def _resume_mismatch(saved: dict, now: dict) -> list[str]:
    """Key paths that differ between two config dicts (train.steps, cadences and the thread
    count may change; a resume is bit-exact only at the thread count it was saved with, since
    CPU reductions split by thread)."""
    free = {"train.steps", "train.log_every", "train.checkpoint_every", "train.eval_every"}
    free |= {"train.keep_every", "train.threads", "train.compile"}
    free |= {"train.progress", "eval"}
    free |= {"data.root", "model.edm_checkpoint"}  # locations; the EDM's content is hashed
    out = []

    def walk(a, b, path):
        if path in free or path.split(".")[0] in free:
            return
        if path == "train.precision" and b == "auto":  # resolved to the run's own
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                walk(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        elif a != b:
            out.append(f"{path} ({a!r} in the run, {b!r} now)")

    walk(saved, now, "")
    return out


class _EMA:
    """Exponential moving average of the sampling networks' floating-point state."""

    def __init__(self, model: GenerativeModel, decay: float, warmup: bool = False):
        self.decay, self.warmup = decay, warmup
        self.shadow = {
            n: {k: v.detach().clone() for k, v in model.networks[n].state_dict().items()}
            for n in model.sampling_networks
        }

    def decay_at(self, step: int) -> float:
        """The decay after ``step`` updates: with warm-up min(decay, (1 + step)/(10 + step)),
        so that the average forgets the initialisation within the first steps (otherwise
        decay^step of its weight remains: 78% after 250 steps at 0.999)."""
        return min(self.decay, (1 + step) / (10 + step)) if self.warmup else self.decay

    @torch.no_grad()
    def update(self, model: GenerativeModel, step: int):
        decay = self.decay_at(step)
        for n, sh in self.shadow.items():
            for k, v in model.networks[n].state_dict().items():
                if v.is_floating_point():
                    sh[k].lerp_(v, 1 - decay)
                else:
                    sh[k].copy_(v)


def _finite_or_raise(out: dict, step: int, ckpt: Path):
    for k, v in out.items():
        if isinstance(v, torch.Tensor) and not bool(torch.isfinite(v).all()):
            kept = f"last good checkpoint kept: {ckpt}" if ckpt.exists() else "no checkpoint yet"
            raise NonFiniteError(
                f"step {step}: {k!r} contains NaN or inf; training stopped ({kept})"
            )


def _dist_env() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def train(
    cfg: RunConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    stop_after: int | None = None,
) -> TrainResult:
    """Train ``cfg`` into ``run_dir``; ``resume`` continues from its last checkpoint.

    ``stop_after`` ends the process after that many steps of this call (for tests of resume).
    Under ``torchrun`` the process group is created here, unless the caller made one, and
    destroyed on the way out: gloo's worker threads left alive at interpreter exit abort the
    process ("terminate called without an active exception").
    """
    _, world = _dist_env()
    if world == 1 or torch.distributed.is_initialized():
        return _owned(cfg, Path(run_dir), resume, stop_after)
    backend = "nccl" if torch.cuda.is_available() and cfg.train.device != "cpu" else "gloo"
    torch.distributed.init_process_group(backend)
    try:
        return _owned(cfg, Path(run_dir), resume, stop_after)
    finally:
        torch.distributed.destroy_process_group()


def _owned(cfg: RunConfig, run_dir: Path, resume: bool, stop_after: int | None) -> TrainResult:
    """:func:`_train` holding the run directory's lock (rank 0: one process writes it)."""
    rank, _ = _dist_env()
    if rank != 0:
        return _train(cfg, run_dir, resume, stop_after)
    with RunLock(run_dir) as lock:
        if lock.reclaimed:
            print(
                f"{run_dir}: took over the lock of process {lock.reclaimed.get('pid')} "
                f"({lock.reclaimed.get('host', 'unknown host')}), which is no longer running",
                file=sys.stderr,
            )
        return _train(cfg, run_dir, resume, stop_after)


def _train(cfg: RunConfig, run_dir: Path, resume: bool, stop_after: int | None) -> TrainResult:
    ckpt_path = run_dir / "checkpoints" / LAST
    rank, world = _dist_env()
    if cfg.train.batch_size % world:
        raise ConfigError(
            "train.batch_size",
            f"expected a multiple of the {world} processes, got {cfg.train.batch_size}",
        )
    torch.set_num_threads(cfg.train.threads)
    device = resolve_device(cfg.train.device)
    if resume and not any(ckpt_path.parent.glob("*.pt")):
        raise FileNotFoundError(
            f"--resume: no checkpoint at {ckpt_path}; start the run without --resume"
        )
    if not resume and ckpt_path.exists():
        raise FileExistsError(
            f"--out: {run_dir} already holds a run ({ckpt_path}); pass --resume to continue it "
            f"or choose another directory (nothing is overwritten)"
        )
    payload = None
    if resume:  # checked before anything is built or written
        found, payload, skipped = load_newest(ckpt_path)
        if found != ckpt_path and rank == 0:
            print(
                f"--resume: {'; '.join(skipped)}; resuming from {found} (step {payload['step']})",
                file=sys.stderr,
            )
    cfg, inputs = resolve_paths(cfg, saved_run_config(payload["config"]) if payload else None)
    cfg = _resolve_auto_precision(cfg, device, payload, announce=rank == 0)
    if payload is not None:
        diff = _resume_mismatch(saved_config(payload), to_dict(cfg))
        if diff:
            raise ConfigError("", "--resume: the config differs from the run's: " + "; ".join(diff))
        check_inputs(payload.get("inputs", {}), inputs)
        if int(payload["step"]) > cfg.train.steps:
            raise ConfigError(
                "train.steps",
                f"the run has done {payload['step']} steps; --resume needs train.steps >= "
                f"{payload['step']}, got {cfg.train.steps} (nothing in {run_dir} was changed)",
            )
    dist = training_dataset(cfg.data, progress=cfg.train.progress and rank == 0)
    if isinstance(dist, TensorImages):  # batches gathered on the device, no host copies
        dist.to(device)
    shape = data_shape(dist)
    dim = dist.dim
    torch.manual_seed(cfg.seed)
    model = build_model(cfg, shape, **model_inputs(cfg, shape)).to(device)
    if device.type == "cuda" and cfg.train.precision == "fp32":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    model.accelerate(cfg.train.precision, cfg.train.compile)
    specs = model.optimizer_specs()
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        for name in specs:
            m = model.networks[name]
            model.wrapped[name] = DDP(
                m, device_ids=[device.index] if device.type == "cuda" else None
            )
    opts = model.make_optimizers()
    scalers = {}
    if cfg.train.precision == "fp16":  # loss scaling: fp16 gradients underflow without it
        scalers = {n: torch.amp.GradScaler(device.type) for n in opts}
        for n, scaler in scalers.items():
            attach_scaler(opts[n], scaler)
    ema = _EMA(model, cfg.train.ema, cfg.train.ema_warmup) if cfg.train.ema > 0 else None
    rng = torch.Generator().manual_seed(cfg.seed + 1)
    start, train_seconds, timed_steps = 0, 0.0, 0
    if payload is not None:
        for n, sd in payload["networks"].items():
            model.networks[n].load_state_dict(sd)
        for n, sd in payload["optimizers"].items():
            opts[n].load_state_dict(sd)
        for n, sd in payload.get("scalers", {}).items():
            scalers[n].load_state_dict(sd)
        if ema is not None and payload.get("ema"):
            ema.shadow = payload["ema"]
        model.load_extra_state(payload.get("extra", {}))
        rng.set_state(payload["rng"])
        start = int(payload["step"])
        train_seconds, timed_steps = float(payload["train_seconds"]), int(payload["timed_steps"])
    if rank == 0:
        _write_run_files(run_dir, cfg, device, world, resume)
        write_status(run_dir, "running", start)
    ctx = StepContext(
        rng, lambda n, g: dist.sample(n, generator=g), device, torch.float32, rank, world
    )

    def checkpoint(step: int):
        if rank != 0:
            return
        payload = {
            "config": to_dict(cfg),
            "dim": dim,
            "shape": list(shape),
            "step": step,
            "networks": {n: m.state_dict() for n, m in model.networks.items()},
            "optimizers": {n: o.state_dict() for n, o in opts.items()},
            "scalers": {n: sc.state_dict() for n, sc in scalers.items()},
            "ema": ema.shadow if ema is not None else {},
            "extra": model.extra_state(),
            "rng": rng.get_state(),
            "inputs": inputs,
            "train_seconds": train_seconds,
            "timed_steps": timed_steps,
        }
        save_checkpoint(ckpt_path, payload, keep_previous=True)
        write_status(run_dir, "running", step)
        keep = cfg.train.keep_every
        if keep and step % keep == 0:  # a copy of the verified file, not a second serialisation
            dst = ckpt_path.parent / f"step_{step:07d}.pt"
            tmp = dst.with_suffix(".tmp")
            shutil.copyfile(ckpt_path, tmp)
            os.replace(tmp, dst)

    steps = cfg.train.steps
    end = steps if stop_after is None else min(steps, start + stop_after)
    t = cfg.train

    def lr_schedule(step: int) -> float:
        return lr_factor(step, steps, t.lr_warmup, t.lr_decay, t.lr_final)

    if cfg.train.keep_every and start == 0:
        checkpoint(0)  # the initialisation, for quantities measured against it (NTK drift)
    last: dict[str, float] = {}
    if rank == 0 and payload is not None:  # steps after the checkpoint are logged again
        trim_log(run_dir / "log.jsonl", start)
    log = open(run_dir / "log.jsonl", "a") if rank == 0 else None
    done = start
    try:
        from tqdm.auto import tqdm

        with StopSignals() if world == 1 else contextlib.nullcontext() as stops:
            bar = tqdm(
                total=steps,
                initial=start,
                desc=f"train {cfg.model.name}",
                disable=not cfg.train.progress or rank != 0,
                mininterval=1.0,
            )
            scheduled = cfg.train.lr_warmup > 0 or cfg.train.lr_decay != "none"
            for step in range(start, end):
                t0 = time.perf_counter()
                if scheduled:
                    set_lr_factor(opts, lr_schedule(step))
                out = model.train_step(ctx, opts)
                train_seconds += time.perf_counter() - t0
                timed_steps += 1
                _finite_or_raise(out, step + 1, ckpt_path)
                done = step + 1
                if ema is not None:
                    ema.update(model, done)
                bar.update(1)
                if done % cfg.train.log_every == 0 or done == steps:
                    last = {k: float(v) for k, v in out.items() if v.numel() == 1}
                    bar.set_postfix({k: f"{v:.4g}" for k, v in last.items()}, refresh=False)
                    if log is not None:
                        rec = {
                            "step": done,
                            **last,
                            "seconds_per_step": train_seconds / timed_steps,
                        }
                        log.write(json.dumps(rec) + "\n")
                        log.flush()
                keep = cfg.train.keep_every and done % cfg.train.keep_every == 0
                saved = done % cfg.train.checkpoint_every == 0 or done in (steps, end) or keep
                if saved:
                    checkpoint(done)
                if rank == 0 and cfg.train.eval_every and done % cfg.train.eval_every == 0:
                    from .figures import run_figures

                    run_figures(model, cfg, run_dir, done, ema=ema)
                if stops is not None and stops.received:  # a clean stop between steps
                    if not saved:
                        checkpoint(done)
                    raise Interrupted(stops.received, done, ckpt_path)
            bar.close()
    except BaseException as e:
        if rank == 0:
            write_stop_status(run_dir, e, done)
        raise
    finally:
        if log is not None:
            log.close()
    sps = train_seconds / max(timed_steps, 1)
    if rank == 0 and end == steps:
        summary = {
            "steps": steps,
            "train_seconds_per_step": sps,
            "threads": cfg.train.threads,
            "world_size": world,
        }
        _finish(model, cfg, run_dir, ema, summary, ckpt_path, world)
        write_status(run_dir, "finished", steps)
    elif rank == 0:  # stop_after
        write_status(run_dir, "interrupted", end, f"stopped after {end - start} steps (stop_after)")
    return TrainResult(run_dir, end, sps, last)


def _finish(model, cfg: RunConfig, run_dir: Path, ema, summary: dict, ckpt_path: Path, world: int):
    """The final figures, then ``train_summary.json`` (atomically): the file that marks a run
    done. SIGINT/SIGTERM stop the figures at once, the status saying so; the last checkpoint is
    whole, and a resume draws them."""
    from .figures import run_figures

    steps = summary["steps"]

    def stopped(signum: int) -> Interrupted:
        return Interrupted(signum, steps, ckpt_path, figures=True)

    try:
        with StopSignals(stop_now=stopped) if world == 1 else contextlib.nullcontext():
            run_figures(model, cfg, run_dir, steps, ema=ema, animation=cfg.eval.animation)
            write_text_atomic(run_dir / "train_summary.json", json.dumps(summary, indent=2))
    except BaseException as e:
        write_stop_status(run_dir, e, steps)
        raise


def _write_run_files(run_dir: Path, cfg: RunConfig, device, world: int, resume: bool):
    import yaml

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "figures").mkdir(exist_ok=True)
    (run_dir / "config.yaml").write_text(yaml.safe_dump(to_dict(cfg), sort_keys=False))
    meta = _meta(cfg, device, world)
    name = "meta.json" if not resume else f"meta.resume-{int(time.time())}.json"
    (run_dir / name).write_text(json.dumps(meta, indent=2))


def _restore(payload: dict, path: Path, use_ema: bool, *, reseed: bool):
    """(config, model) of a checkpoint payload: networks (EMA weights where kept and asked
    for) and model state loaded, in eval mode, on the CPU. The networks are built after
    seeding the global RNG with the run's seed (``reseed``) or from it as it stands."""
    try:
        cfg = saved_run_config(payload["config"])
    except (KeyError, ConfigError) as e:
        raise CheckpointError(f"{path}: its config is invalid: {e}") from None
    if reseed:
        torch.manual_seed(cfg.seed)
    model = build_model(cfg, payload.get("shape") or int(payload["dim"]))
    for n, sd in payload["networks"].items():
        model.networks[n].load_state_dict(sd)
    if use_ema and payload.get("ema"):
        for n, sd in payload["ema"].items():
            model.networks[n].load_state_dict(sd)
    model.load_extra_state(payload.get("extra", {}))
    for m in model.networks.values():
        m.eval()
    return cfg, model


def load_run(
    run_dir: str | Path,
    device: str | torch.device = "cpu",
    *,
    use_ema: bool = True,
    accelerate: bool = True,
):
    """(config, model, checkpoint payload) of a trained run, networks loaded, in eval mode,
    running in the run's ``train.precision`` and compiled if it was (``accelerate=False``:
    plain float32 eager networks, e.g. to differentiate them with torch.func).

    A model that takes inputs from outside its run (the Score GAN's data score) is loaded
    without them: sampling a trained generator needs only its own networks."""
    from .checkpoint import find_checkpoint

    path = find_checkpoint(run_dir, what="RUN_DIR")
    payload = load_checkpoint(path)
    cfg, model = _restore(payload, path, use_ema, reseed=True)
    model = model.to(torch.device(device))
    if accelerate:
        model.accelerate(cfg.train.precision, cfg.train.compile)
    return cfg, model, payload


def load_data_score(path: str | Path, shape: tuple[int, ...]) -> DenoiserScore:
    """The data score ∇log(p ⋆ k_σ) of a trained EDM run (a run directory or checkpoint file;
    its EMA weights where kept), frozen: a Score GAN's ``data_score``. Its networks are built
    from the global RNG as the Score GAN's seed left it, so that the Score GAN's own networks
    then initialise as they always have."""
    from .checkpoint import find_checkpoint

    what = "model.edm_checkpoint (the Score GAN's data score)"
    ckpt = find_checkpoint(path, what=what)
    try:
        payload = load_checkpoint(ckpt)
    except CheckpointError as e:
        raise CheckpointError(f"model.edm_checkpoint: {e}") from None
    cfg, edm = _restore(payload, ckpt, use_ema=True, reseed=False)
    if cfg.model.name != "edm":
        raise ValueError(
            f"model.edm_checkpoint: {ckpt} is a {cfg.model.name!r} run, expected an 'edm' run"
        )
    if tuple(edm.shape) != tuple(shape):
        raise ValueError(
            f"model.edm_checkpoint: the EDM models data of shape {tuple(edm.shape)}, "
            f"the data has shape {tuple(shape)}"
        )
    edm.denoiser.requires_grad_(False)
    return edm.score()


def model_inputs(cfg: RunConfig, shape: tuple[int, ...]) -> dict:
    """The constructor arguments ``cfg``'s model takes from outside its run
    (:attr:`~ipm.models.GenerativeModel.inputs`), loaded from the paths its config names."""
    loaders = {"data_score": lambda: load_data_score(cfg.model.edm_checkpoint, shape)}
    return {name: loaders[name]() for name in models()[cfg.model.name].inputs}


def ensure_run(config: str | Path, overrides: list[str], run: str | Path) -> Path:
    """Train ``config`` with ``overrides`` into ``run``, unless ``run`` already holds the
    finished run; a partial run is resumed (also one stopped after its last step but before
    its figures and ``train_summary.json`` were written), and a run of another config is
    refused (naming the keys that differ)."""
    run = Path(run)
    cfg = load_config(config, overrides)
    last = run / "checkpoints" / LAST
    if not last.is_file():
        train(cfg, run)
        return run
    payload = load_checkpoint(last)
    diff = _resume_mismatch(saved_config(payload), to_dict(cfg))
    if diff:
        raise ValueError(
            f"{run} holds a run of another config ({'; '.join(diff)}); choose another run "
            "directory or delete it"
        )
    if int(payload["step"]) < cfg.train.steps or not (run / "train_summary.json").is_file():
        train(cfg, run, resume=True)
    return run

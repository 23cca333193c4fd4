"""Evaluation figures. 2-D runs: particles with their vector field (and, for discriminator
models, the pointwise generator loss c∘f as background, like the paper's Figures 8–12), and for
particle models an animation of generation (Figure 1). Image runs: a grid of samples, and for
particle models an animation of the grid along generation."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch

from ..data import dataset

__all__ = ["field_figure", "generation_gif", "image_grid", "image_grid_gif", "run_figures"]


@contextlib.contextmanager
def _ema_weights(model, ema):
    if ema is None:
        yield
        return
    saved = {
        n: {k: v.clone() for k, v in model.networks[n].state_dict().items()} for n in ema.shadow
    }
    for n, sd in ema.shadow.items():
        model.networks[n].load_state_dict(sd)
    try:
        yield
    finally:
        for n, sd in saved.items():
            model.networks[n].load_state_dict(sd)


def field_figure(model, data, samples, path: Path, title: str = ""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lim = float(data.abs().max()) * 1.3 + 0.5
    fig, ax = plt.subplots(figsize=(6, 6))
    g = torch.linspace(-lim, lim, 120)
    xx, yy = torch.meshgrid(g, g, indexing="xy")
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], 1)
    dev = next(next(iter(model.networks.values())).parameters()).device
    grid = grid.to(dev)
    bg = model.generator_loss(grid)
    if bg is not None:
        im = ax.imshow(
            bg.reshape(120, 120).cpu().numpy(),
            extent=(-lim, lim, -lim, lim),
            origin="lower",
            cmap="viridis",
            alpha=0.8,
        )
        fig.colorbar(im, ax=ax, fraction=0.046, label="generator loss c∘f")
    ax.scatter(*data.cpu().T, s=2, c="lightgray", label="data")
    ax.scatter(*samples.cpu().T, s=2, c="tab:red", alpha=0.5, label="samples")
    q = torch.linspace(-lim, lim, 21)
    qx, qy = torch.meshgrid(q, q, indexing="xy")
    qp = torch.stack([qx.reshape(-1), qy.reshape(-1)], 1)
    v = model.field(qp.to(dev))
    if v is not None:
        v = v.detach().cpu()
        ax.quiver(qp[:, 0], qp[:, 1], v[:, 0], v[:, 1], color="k", alpha=0.6, angles="xy")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8, markerscale=4)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def generation_gif(trajectory: torch.Tensor, data, path: Path, frames: int = 30):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    traj = trajectory.detach().cpu()
    idx = torch.linspace(0, traj.shape[0] - 1, min(frames, traj.shape[0])).round().long()
    lim = float(data.abs().max()) * 1.3 + 0.5
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.scatter(*data.cpu().T, s=2, c="lightgray")
    sc = ax.scatter(*traj[0].T, s=2, c="tab:red")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")

    def upd(k):
        sc.set_offsets(traj[int(idx[k])].numpy())
        ax.set_title(f"step {int(idx[k])}/{traj.shape[0] - 1}")
        return (sc,)

    anim = FuncAnimation(fig, upd, frames=len(idx), blit=False)
    anim.save(path, writer=PillowWriter(fps=8))
    plt.close(fig)


def _grid_array(x: torch.Tensor, shape: tuple[int, ...], nrow: int):
    """Flat images (n, C·H·W) in [−1, 1] → one uint8 (H', W', C) mosaic with 1-pixel borders."""
    import numpy as np

    c, h, w = shape
    n = x.shape[0]
    ncol = -(-n // nrow)
    img = ((x.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    img = img.reshape(n, c, h, w).permute(0, 2, 3, 1).numpy()
    out = np.full((ncol * (h + 1) + 1, nrow * (w + 1) + 1, c), 255, dtype=np.uint8)
    for k in range(n):
        i, j = divmod(k, nrow)
        out[1 + i * (h + 1) : 1 + i * (h + 1) + h, 1 + j * (w + 1) : 1 + j * (w + 1) + w] = img[k]
    return out[..., 0] if c == 1 else out


def image_grid(x: torch.Tensor, shape: tuple[int, ...], path: Path, nrow: int = 8, scale: int = 2):
    """Save flat images (n, C·H·W) in [−1, 1] as a PNG grid, ``nrow`` per row, upscaled ×scale."""
    from PIL import Image

    im = Image.fromarray(_grid_array(x, shape, nrow))
    im.resize((im.width * scale, im.height * scale), Image.NEAREST).save(path)


def image_grid_gif(trajectory: torch.Tensor, shape, path: Path, nrow: int = 8, frames: int = 30):
    """An animated GIF of an image grid along generation (trajectory (T, n, C·H·W))."""
    from PIL import Image

    t = trajectory.shape[0]
    idx = torch.linspace(0, t - 1, min(frames, t)).round().long().tolist()
    ims = [Image.fromarray(_grid_array(trajectory[k], shape, nrow)) for k in idx]
    ims = [im.resize((im.width * 2, im.height * 2), Image.NEAREST) for im in ims]
    ims[0].save(path, save_all=True, append_images=ims[1:], duration=120, loop=0)


def _image_figures(model, cfg, out: Path, step: int, animation: bool, shape):
    g = torch.Generator().manual_seed(12345)
    record = animation and model.is_particle_model
    n = cfg.eval.grid
    s = model.sample(n, generator=g, record=record)
    nrow = max(1, int(n**0.5))
    image_grid(s.x, shape, out / f"step_{step:06d}.png", nrow)
    if record and s.trajectory is not None:
        image_grid_gif(s.trajectory, shape, out / "generation.gif", nrow)


def _points_figures(model, cfg, out: Path, step: int, animation: bool):
    n = cfg.eval.figure_points
    g = torch.Generator().manual_seed(12345)
    data = dataset(cfg.data).sample(n, generator=g)
    record = animation and model.is_particle_model
    s = model.sample(n, generator=g, record=record)
    field_figure(
        model,
        data,
        s.x.detach().to("cpu"),
        out / f"step_{step:06d}.png",
        f"{cfg.model.name}, step {step}",
    )
    if record and s.trajectory is not None:
        generation_gif(s.trajectory, data, out / "generation.gif")


def run_figures(model, cfg, run_dir: Path, step: int, *, ema=None, animation: bool = False):
    """Write figures/step_XXXXXX.png (and figures/generation.gif for particle models):
    particles and field for 2-D data, a sample grid for images; then the model's own
    (:meth:`~ipm.models.base.GenerativeModel.extra_figures`)."""
    out = Path(run_dir) / "figures"
    out.mkdir(parents=True, exist_ok=True)
    shape = getattr(model, "shape", None)
    with _ema_weights(model, ema):
        if shape is not None and len(shape) == 3:
            _image_figures(model, cfg, out, step, animation, shape)
        else:
            _points_figures(model, cfg, out, step, animation)
        model.extra_figures(out, step)

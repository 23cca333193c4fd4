"""Train the MNIST classifier that ipm ships as the feature space for classifier-FID.

    OMP_WAIT_POLICY=PASSIVE IPM_MNIST_DIR=/path/to/mnist \
        python -m experiments.train_mnist_classifier [--epochs 6] [--seed 0]

Trains :class:`ipm.metrics.classifier.MNISTClassifier` on the 60,000 training images (padded to
32×32, in [−1, 1], random shifts of up to 2 px), prints the test accuracy on the 10,000 test
images and the classifier-FID of the test set against 10,000 training images (the floor any
model's classifier-FID on MNIST is compared with), and writes the state dict and a JSON record
(accuracy, FID floor, seed, epochs, wall time, threads, command) to
``ipm/metrics/weights/`` (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from ipm.data.mnist import load_mnist
from ipm.metrics.classifier import MNISTClassifier
from ipm.metrics.frechet import FeatureStats, frechet_distance

WEIGHTS = Path(__file__).resolve().parents[1] / "ipm" / "metrics" / "weights"


def shift(x: torch.Tensor, max_px: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by an integer shift in [−max_px, max_px]² (background −1)."""
    n, _, h, w = x.shape
    s = torch.randint(-max_px, max_px + 1, (n, 2), generator=gen).to(x.dtype)
    theta = torch.zeros(n, 2, 3, dtype=x.dtype)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, 0, 2] = 2 * s[:, 0] / w
    theta[:, 1, 2] = 2 * s[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, mode="nearest", align_corners=False) - 1


@torch.no_grad()
def evaluate(net: MNISTClassifier, x: torch.Tensor, y: torch.Tensor, batch: int = 1000):
    """(accuracy, FeatureStats) of net on images x with labels y."""
    net.eval()
    correct, stats = 0, FeatureStats(net.features)
    for s in range(0, x.shape[0], batch):
        f = net.embed(x[s : s + batch])
        stats.update(f)
        correct += int((net.head(f).argmax(1) == y[s : s + batch]).sum())
    return correct / x.shape[0], stats


def save_atomic(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    torch.save(obj, tmp)
    os.chmod(tmp, 0o644)  # mkstemp makes it private; the weights ship in the package
    os.replace(tmp, path)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--root", default=None, help="MNIST folder (default: $IPM_MNIST_DIR)")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--limit", type=int, default=0, help="train on the first N images (smoke)")
    p.add_argument("--out", type=Path, default=WEIGHTS / "mnist_classifier.pt")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    start = time.perf_counter()

    train, ytr = load_mnist(a.root, "train")
    test, yte = load_mnist(a.root, "test")
    xtr = train.images(torch.arange(len(train)))
    xte = test.images(torch.arange(len(test)))
    if a.limit:
        xtr, ytr = xtr[: a.limit], ytr[: a.limit]

    net = MNISTClassifier()
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    steps = a.epochs * ((xtr.shape[0] + a.batch_size - 1) // a.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps)
    bar = tqdm(total=steps, desc="train MNIST classifier")
    for epoch in range(a.epochs):
        net.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        for s in range(0, xtr.shape[0], a.batch_size):
            i = perm[s : s + a.batch_size]
            loss = F.cross_entropy(net(shift(xtr[i], 2, gen)), ytr[i])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update()
            if bar.n % 25 == 0:
                bar.set_postfix(epoch=epoch, loss=f"{float(loss.detach()):.4f}")
    bar.close()

    acc, test_stats = evaluate(net, xte, yte)
    j = torch.randperm(xtr.shape[0], generator=gen)[:10_000]
    _, train_stats = evaluate(net, xtr[j], ytr[j])
    floor = frechet_distance(test_stats.fit(), train_stats.fit())
    record = {
        "test_accuracy": acc,
        "fid_floor_test_vs_train": floor,
        "fid_floor_counts": [test_stats.n, train_stats.n],
        "feature_space": "ipm MNIST classifier, 128-d penultimate layer",
        "epochs": a.epochs,
        "batch_size": a.batch_size,
        "lr": a.lr,
        "seed": a.seed,
        "train_images": int(xtr.shape[0]),
        "parameters": sum(p.numel() for p in net.parameters()),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "threads": a.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "host": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}",
        "command": "python -m experiments.train_mnist_classifier " + " ".join(sys.argv[1:]),
    }
    save_atomic(net.state_dict(), a.out)
    a.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"test accuracy {acc:.4f} ({acc * 100:.2f}%) on {xte.shape[0]} images")
    print(
        f"classifier-FID floor, MNIST test vs 10,000 training images: {floor:.4f} "
        f"(feature space: ipm MNIST classifier, 128-d)"
    )
    print(f"wrote {a.out} and {a.out.with_suffix('.json')}")
    return record


if __name__ == "__main__":
    main()

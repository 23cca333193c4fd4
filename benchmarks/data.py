"""Loader throughput: images per second that an image data set draws as training batches (a
benchmark, not a test).

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.data [--reps 20] [--threads 1 2] [--json FILE]

The data set is MNIST-sized (60,000 random uint8 images, 1×32×32) held as
:class:`ipm.data.TensorImages` on the CPU (or on ``--device``); a batch is drawn as training
draws it: indices from a CPU generator, images gathered, converted to [−1, 1] float32 and
flattened on the data's device; with ``hflip``, each image also mirrored with probability ½
there (the augmentation of ``data.hflip``). Median of ``--reps`` after a warm-up, per batch size
and thread count, without and with the flip.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from benchmarks import save


def measure(data, batch: int, reps: int, device: torch.device) -> float:
    """Median seconds to draw one batch of ``batch`` images."""
    g = torch.Generator().manual_seed(0)
    data.sample(batch, generator=g)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        data.sample(batch, generator=g)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    from ipm.data import TensorImages

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, nargs="+", default=[128, 256])
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    device = torch.device(a.device)
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, torch {torch.__version__}")
    g = torch.Generator().manual_seed(0)
    pixels = torch.randint(0, 256, (60_000, 1, 32, 32), dtype=torch.uint8, generator=g)
    data = TensorImages(pixels, 255.0, "mnist-sized random uint8").to(device)
    rows, threads0 = [], torch.get_num_threads()
    for threads in a.threads:
        torch.set_num_threads(threads)
        for batch in a.batch:
            for hflip in (False, True):
                data.hflip = hflip
                sec = measure(data, batch, a.reps, device)
                rows.append(
                    {
                        "data": data.name,
                        "device": str(device),
                        "batch": batch,
                        "hflip": hflip,
                        "threads": threads,
                        "seconds_per_batch": sec,
                        "images_per_second": batch / sec,
                    }
                )
                print(
                    f"batch {batch:4d}, hflip {hflip!s:5}, {threads} thread(s): "
                    f"{batch / sec:,.0f} images/s"
                )
    torch.set_num_threads(threads0)
    if a.json:
        save(a.json, "data", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run small CPU workloads on one thread.

On small machines torch's intra-op threads cost more than they save on small tensors: with
``OMP_WAIT_POLICY=PASSIVE`` each parallel region wakes sleeping threads. Measured on a 2-core
CPU, the structured NTK of the benchmark MLP (D = 2) takes 3.9 ms at N = 16 on one thread and
16 ms on two; the two meet near 5·10⁸ multiply-adds.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

__all__ = ["SINGLE_THREAD_BELOW_MACS", "threads_for"]

#: Estimated multiply-adds under which a CPU computation runs on one thread.
SINGLE_THREAD_BELOW_MACS = 5e8


@contextmanager
def threads_for(work_macs: float, device: torch.device):
    """Use one intra-op thread inside the block when the work is small and on the CPU."""
    n = torch.get_num_threads()
    if device.type != "cpu" or n == 1 or work_macs >= SINGLE_THREAD_BELOW_MACS:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)

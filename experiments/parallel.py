"""Studies' runs in parallel processes: each task trains and measures one run in its own
process (spawned, so no torch state is shared), a task may wait for another's result (a Score
GAN for the EDM run that gives its data score), and a failed or interrupted task starts no
other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["run_tasks"]


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    jobs: int = 1,
    after: dict[int, int] | None = None,
) -> list:
    """``[fn(*tasks[i]) for i in ...]``, in ``jobs`` worker processes when above 1; task ``i``
    starts only once task ``after[i]`` has finished. Tasks start in the order given (as their
    prerequisites allow); results come back in that order."""
    after = dict(after or {})
    for i, j in after.items():
        if not (0 <= j < len(tasks)) or j == i:
            raise ValueError(f"after: task {i} waits for task {j}, which is not another task")
    order = _order(len(tasks), after)
    if jobs <= 1:
        done: dict[int, Any] = {}
        for i in order:
            done[i] = fn(*tasks[i])
        return [done[i] for i in range(len(tasks))]
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ctx = multiprocessing.get_context("spawn")
    results: dict[int, Any] = {}
    waiting, running = list(range(len(tasks))), {}
    with ProcessPoolExecutor(jobs, mp_context=ctx) as pool:
        try:
            while waiting or running:
                for i in [i for i in waiting if after.get(i, -1) in results or i not in after]:
                    running[pool.submit(fn, *tasks[i])] = i
                    waiting.remove(i)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    results[running.pop(f)] = f.result()
        except BaseException:  # one task failed or the study was stopped: start no other
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[i] for i in range(len(tasks))]


def _order(n: int, after: dict[int, int]) -> list[int]:
    """The tasks in the order given, each moved after the task it waits for."""
    order: list[int] = []
    visiting: set[int] = set()

    def visit(i: int) -> None:
        if i in order:
            return
        if i in visiting:
            raise ValueError(f"after: task {i} waits for itself through {sorted(visiting)}")
        visiting.add(i)
        if i in after:
            visit(after[i])
        visiting.discard(i)
        order.append(i)

    for i in range(n):
        visit(i)
    return order

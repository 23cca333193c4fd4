"""experiments.parallel.run_tasks: the same results in worker processes as in one, prerequisites
finished before the tasks that wait for them, and clear errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from experiments.parallel import run_tasks


def _write_after(path: str, wait_for: str | None, delay: float) -> tuple[int, bool]:
    """Write ``path`` after ``delay`` s; say whether ``wait_for`` existed when it started."""
    seen = wait_for is None or Path(wait_for).exists()
    time.sleep(delay)
    Path(path).write_text("done")
    return os.getpid(), seen


def _fail(x: int) -> int:
    raise RuntimeError(f"task {x} failed")


@pytest.mark.parametrize("jobs", [1, 2])
def test_results_in_task_order_and_prerequisites_first(tmp_path, jobs):
    a, b, c = (str(tmp_path / n) for n in "abc")
    # task 1 waits for task 0 (which is slow); task 2 waits for nothing
    tasks = [(a, None, 0.5), (b, a, 0.0), (c, None, 0.0)]
    out = run_tasks(_write_after, tasks, jobs, after={1: 0})
    assert [seen for _, seen in out] == [True, True, True]
    pids = {pid for pid, _ in out}
    assert (pids == {os.getpid()}) == (jobs == 1)
    assert run_tasks(pow, [(2, 3), (3, 2), (5, 0)], jobs) == [8, 9, 1]


def test_a_waiting_task_does_not_see_its_prerequisite_without_after(tmp_path):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    out = run_tasks(_write_after, [(a, None, 1.0), (b, a, 0.0)], jobs=2)
    assert out[1][1] is False  # the check above would pass by luck without this


def test_bad_prerequisites_and_failures_are_named():
    with pytest.raises(ValueError, match="task 0 waits for task 5"):
        run_tasks(pow, [(1, 1)], 1, after={0: 5})
    with pytest.raises(ValueError, match="waits for itself"):
        run_tasks(pow, [(1, 1), (2, 2)], 1, after={0: 1, 1: 0})
    with pytest.raises(ValueError, match="waits for itself"):
        run_tasks(pow, [(1, 1), (2, 2)], 2, after={0: 1, 1: 0})
    with pytest.raises(RuntimeError, match="task [12] failed"):
        run_tasks(_fail, [(1,), (2,)], 2)

"""Where sweep points run: in this process, on a local process pool, or on a Dask cluster.

Each executor calls ``on_result(task, result)`` in this process as each point
finishes, and ``on_failure(task, reason)`` for a point that cannot be run. A
point whose simulation raises is failed at once (it would raise again). A
point whose worker process dies is retried: on the process pool it is rerun
alone (so that a death is charged to the point that caused it) up to
``MAX_WORKER_DEATHS`` times; on Dask the scheduler retries it up to its
``distributed.scheduler.allowed-failures`` and then reports ``KilledWorker``.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .points import run_point

__all__ = ["EXECUTORS", "MAX_WORKER_DEATHS", "run_dask", "run_process_pool", "run_serial"]

EXECUTORS = ("serial", "process", "dask")
MAX_WORKER_DEATHS = 2
"""How often a point may kill its worker process on the process pool before it is failed."""

LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
"""Dask settings for the workers of a LocalCluster that a sweep starts."""

OnResult = Callable[[dict, dict], None]
OnFailure = Callable[[dict, str], None]


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def run_serial(tasks: list[dict], on_result: OnResult, on_failure: OnFailure) -> None:
    """Run the points one after another in this process."""
    for task in tasks:
        try:
            result = run_point(task)
        except Exception as err:  # a failed point is reported, the sweep goes on
            on_failure(task, _describe(err))
        else:
            on_result(task, result)


def run_process_pool(tasks: list[dict], on_result: OnResult, on_failure: OnFailure, *, jobs: int) -> None:
    """Run the points on ``jobs`` local worker processes (spawned: no state is inherited).

    At most ``jobs`` points are in flight, so when a worker dies the points
    that may have killed it are known: they are rerun one at a time on a new
    pool, and a point that kills its worker when alone is charged for it.
    """
    queue, suspects = deque(tasks), deque()
    deaths: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
    running: dict = {}

    def submit(waiting: deque) -> None:
        future = pool.submit(run_point, waiting[0])  # raises, leaving the point queued, if the pool broke
        running[future] = waiting.popleft()

    try:
        while queue or suspects or running:
            try:
                if suspects:
                    if not running:
                        submit(suspects)
                else:
                    while queue and len(running) < jobs:
                        submit(queue)
            except BrokenProcessPool:  # a worker died before this point was handed over: it stays queued
                if not running:
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
                    continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            lost = []
            for future in done:
                task = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(task)
                except Exception as err:
                    on_failure(task, _describe(err))
                else:
                    on_result(task, result)
            if not lost:
                continue
            # The pool is broken: every point still in flight is lost with it.
            lost.extend(running.values())
            running.clear()
            pool.shutdown(wait=False, cancel_futures=True)
            pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context)
            if len(lost) > 1:
                suspects.extend(lost)
                continue
            task = lost[0]
            deaths[task["key"]] = deaths.get(task["key"], 0) + 1
            if deaths[task["key"]] >= MAX_WORKER_DEATHS:
                on_failure(task, f"its worker process died {deaths[task['key']]} times while running it")
            else:
                suspects.append(task)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(tasks: list[dict], on_result: OnResult, on_failure: OnFailure, *, workers: int,
             scheduler: str | None = None) -> None:
    """Run the points on Dask: a new ``LocalCluster`` of ``workers`` processes, or the
    cluster whose scheduler is at ``scheduler`` (``tcp://HOST:PORT``)."""
    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    if scheduler:
        cluster, client = None, Client(scheduler)
    else:
        # The workers' statistical profiler samples the running task's stack every
        # 10 ms; in benchmarks/sweep_scale.py it added about a quarter to the
        # workers' CPU time, for a profile nobody reads here.
        with dask.config.set(LOCAL_WORKER_CONFIG):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        futures = client.map(run_point, tasks, key=[f"virtsim-point-{task['key']}" for task in tasks], pure=False)
        task_of = {future.key: task for future, task in zip(futures, tasks)}
        for future in as_completed(futures):
            task = task_of[future.key]
            try:
                result = future.result()
            except KilledWorker as err:
                on_failure(task, f"its worker died while running it, too often to retry ({err})")
            except Exception as err:
                on_failure(task, _describe(err))
            else:
                on_result(task, result)
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

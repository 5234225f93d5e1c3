"""First come, first served on N worker threads: the queue in front of a server.

Under processor sharing (the default) every request in a consumer runs at once.
A server with a fixed number of worker threads (an event loop: 1; a thread
pool: k) runs at most that many, each on one thread, to completion; the others
wait in one queue in arrival order. The queue is exact and costs O(1) per
request: a deque of waiting requests and a count of idle workers, no event of
its own. Each worker still runs on the consumer's cores, shared with everything
else there by the engine, so k workers on fewer cores time-share them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container


class WorkerPool:
    """``workers`` threads serving one FIFO queue; jobs in ``failed`` are dropped from it when their turn comes."""

    __slots__ = ("idle", "queue", "failed")

    def __init__(self, workers: int, failed: Container[int]):
        if workers < 1:
            raise ValueError(f"a server needs at least 1 worker, got {workers}")
        self.idle = workers
        self.queue: deque[tuple[int, Callable[[], None]]] = deque()
        self.failed = failed

    def take(self, job: int, start: Callable[[], None]) -> None:
        """Run ``start()`` on a worker now if one is idle, else when one is given back, in arrival order."""
        if self.idle:
            self.idle -= 1
            start()
        else:
            self.queue.append((job, start))

    def give_back(self) -> None:
        """A worker is done with its request: it takes the first waiting one still alive, or idles."""
        queue = self.queue
        while queue:
            job, start = queue.popleft()
            if job not in self.failed:  # lost to a failure while it waited
                start()
                return
        self.idle += 1

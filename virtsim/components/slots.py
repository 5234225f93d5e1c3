"""A resource of N slots with one first-come, first-served queue: worker threads, locks, pools.

Under processor sharing (the default) every request in a consumer runs at once.
Some things admit only N at a time: a server's worker threads (an event loop: 1;
a thread pool: k), a lock, a connection pool, a storage engine's commit path. A
request takes a slot, or waits in one queue in arrival order, and gives it back
when done with it. The queue is exact and costs O(1) per request: a deque of
waiting requests and a count of free slots, no event of its own. What a request
does while it holds a slot still runs on the consumer's cores, shared with
everything else there by the engine.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Container


class Slots:
    """``capacity`` slots behind one FIFO queue; jobs in ``failed`` are dropped from it when their turn comes."""

    __slots__ = ("idle", "queue", "failed")

    def __init__(self, capacity: int, failed: Container[int]):
        if capacity < 1:
            raise ValueError(f"needs at least 1 slot, got {capacity}")
        self.idle = capacity
        self.queue: deque[tuple[int, Callable[[], None]]] = deque()
        self.failed = failed

    def take(self, job: int, start: Callable[[], None]) -> None:
        """Run ``start()`` in a slot now if one is free, else when one is given back, in arrival order."""
        if self.idle:
            self.idle -= 1
            start()
        else:
            self.queue.append((job, start))

    def give_back(self) -> None:
        """A slot is given back: the first waiting job still alive takes it, or it stays free."""
        queue = self.queue
        while queue:
            job, start = queue.popleft()
            if job not in self.failed:  # lost to a failure while it waited
                start()
                return
        self.idle += 1

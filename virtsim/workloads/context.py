"""The handle a user-written workload uses to act at its place in the stack.

A workload is a plain SimPy generator::

    def web_request(ctx):
        yield ctx.cpu(0.004)          # 4 ms of CPU on a reference core
        yield ctx.sleep(0.001)        # wait 1 ms (not using the CPU)
        yield ctx.cpu(0.002, threads=2)

    def clients(ctx):
        while True:
            yield ctx.sleep(ctx.rng.exponential(0.05))
            ctx.spawn(web_request)    # recorded as a job in the job table
"""

from __future__ import annotations

import numpy as np
import simpy

from ..components import Consumer
from .jobs import JobLog


class Context:
    """Bound to one consumer (host, VM or container), one workload and one random stream."""

    def __init__(self, env: simpy.Environment, consumer: Consumer, log: JobLog, workload: int,
                 target: int, rng: np.random.Generator, job: int | None = None):
        self.env = env
        self.consumer = consumer
        self.rng = rng
        self._log = log
        self._workload = workload
        self._target = target
        self.job = job
        """Id of the job this context works for (None outside :meth:`spawn`)."""

    @property
    def now(self) -> float:
        """Simulated time in seconds."""
        return self.env.now

    def cpu(self, seconds: float, *, threads: int = 1) -> simpy.Event:
        """An event that fires when ``seconds`` of reference-core CPU work is done.

        The work runs in this context's consumer, shared fairly with everything
        else there; ``threads`` bounds how many cores it can use at once.
        """
        if threads < 1:
            raise ValueError(f"threads must be >= 1, got {threads!r}")
        done = self.env.event()
        if self.job is not None:
            self._log.add_cpu(self.job, seconds)
        if seconds <= 0:
            done.succeed()
            return done
        speed = self.consumer.core_speed
        self.consumer.node.submit(seconds, max_rate=threads * speed,
                                  on_done=lambda _activity: done.succeed())
        return done

    def sleep(self, seconds: float) -> simpy.Event:
        """An event that fires after ``seconds`` of simulated time."""
        return self.env.timeout(seconds)

    def spawn(self, request, *args) -> simpy.Process:
        """Run ``request(ctx, *args)`` as a new job; it ends when the generator returns."""
        job = self._log.arrive(self._workload, self._target, self.env.now, 0.0)
        child = Context(self.env, self.consumer, self._log, self._workload, self._target, self.rng, job)
        log = self._log

        def run():
            yield from request(child, *args)
            log.finish(job, self.env.now)

        return self.env.process(run())

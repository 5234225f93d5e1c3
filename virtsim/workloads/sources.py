"""Built-in workloads, driven by callbacks rather than a SimPy process per job.

A process per job costs several times a callback chain (see ``benchmarks/``),
so open loops, closed loops and trace replays schedule their next step with a
plain timeout and a callback, and start work directly in the target consumer.
An arrival source has one pending arrival at a time: the event that just fired
is queued again for the next one (given its callbacks back, a processed SimPy
event fires again at the same time, priority and order as a new Timeout).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import simpy
from simpy.events import NORMAL

from ..components import Consumer
from .jobs import JobLog
from .requests import Demand


class _JobStarter:
    """Starts a job in a consumer and records its end in the log.

    A job that is only CPU work on a stack that adds nothing is one activity
    (the fast path); otherwise the target's :class:`RequestPlan` (``plans``, by
    target code) runs its phases and its time breakdown is recorded.
    """

    def __init__(self, env: simpy.Environment, log: JobLog, workload: int, threads: int,
                 then: Callable[[], None] | None = None, plans: dict | None = None,
                 template: Demand | None = None, gates: dict | None = None, memory=None,
                 memory_bytes: float = 0.0, refuse_when_down: bool = False, replicas=None):
        self.env = env
        self.log = log
        self.workload = workload
        self.threads = threads
        self.then = then
        self.plans = plans or {}
        self.template = template
        self.gates = gates or {}
        """Gates by target code: jobs for a target that is starting up, or down after a failure, wait."""
        self.waiting: set[int] = set()
        """Jobs waiting at a closed gate (not yet running anywhere)."""
        self.memory = memory
        """The :class:`~virtsim.components.memory.MemoryUse` of limited containers, if requests take memory."""
        self.memory_bytes = memory_bytes
        self.refuse_when_down = refuse_when_down
        """Jobs finding their target not serving fail at once instead of waiting."""
        self.replicas = replicas
        """A :class:`~virtsim.components.replicas.ReplicaSet` that picks each job's target, if any."""
        # Every job is one CPU activity in the consumer it was sent to: nothing else to decide.
        self._direct = not self.plans and not self.gates and memory is None and replicas is None
        self._on_done = self._done

    def start(self, consumer: Consumer, target: int, cpu_s: float, now: float) -> None:
        """A job of ``cpu_s`` arrives at ``consumer`` now (``now``: the clock, passed in to save a read)."""
        if self.replicas is not None:
            consumer, target = self.replicas.pick()
        job = self.log.arrive(self.workload, target, now, cpu_s)
        if self._direct and cpu_s > 0.0:
            consumer.node.submit(cpu_s, max_rate=self.threads * consumer.core_speed,
                                 on_done=self._on_done, data=job)
            return
        if self.gates:
            gate = self.gates.get(target)
            if gate is not None and not gate.ready:
                if self.refuse_when_down:
                    self.fail(job, now)
                    return
                self.waiting.add(job)
                gate.when_ready(lambda: self._release(consumer, target, cpu_s, job, now, gate.reason))
                return
        self._run(consumer, target, cpu_s, job)

    def _release(self, consumer: Consumer, target: int, cpu_s: float, job: int, arrived: float,
                 reason: str) -> None:
        self.waiting.discard(job)
        waits = self.log.failure_wait if reason == "failure" else self.log.startup_wait
        waits[job] = self.env.now - arrived
        self._run(consumer, target, cpu_s, job)

    def _run(self, consumer: Consumer, target: int, cpu_s: float, job: int) -> None:
        if self.memory is not None and not self.memory.allocate(target, self.memory_bytes, job):
            self.fail(job, self.env.now)  # it took its container over the limit: killed with it
            return
        plan = self.plans.get(target) if self.plans else None
        if plan is not None:
            demand = replace(self.template, cpu_s=cpu_s)
            self.log.breakdown[job] = plan.breakdown(demand)
            failed = self.log.failed_at
            plan.start(demand, lambda: self._finish(job, self.env.now), alive=lambda: job not in failed)
        elif cpu_s > 0.0:
            consumer.node.submit(cpu_s, max_rate=self.threads * consumer.core_speed,
                                 on_done=self._on_done, data=job)
        else:  # nothing to do: done on arrival
            self._finish(job, self.env.now)

    def _done(self, activity) -> None:
        self._finish(activity.data, self.env.now)

    def _finish(self, job: int, now: float) -> None:
        self.log.finish(job, now)
        if self.memory is not None:
            self.memory.release(job)
        if self.then is not None:
            self.then()

    def fail(self, job: int, now: float) -> None:
        """The job's target went down while it ran: record it as failed; a closed-loop client goes on."""
        if job in self.log.failed_at:
            return
        self.log.fail(job, now)
        if self.memory is not None:
            self.memory.release(job)
        if self.then is not None:
            self.then()


class OpenLoop:
    """Jobs arrive by a renewal process (e.g. Poisson) regardless of completions."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int,
                 interarrival: Callable[[], float], cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.interarrival = interarrival
        self.cpu = cpu
        self.starter = _JobStarter(env, log, workload, threads, **job_options)

    def start(self) -> None:
        gap = self.interarrival()
        if gap != math.inf:  # inf: the process has ended (a rate curve that ends at 0)
            self._callbacks = [self._arrive]
            self.env.timeout(gap).callbacks = self._callbacks

    def _arrive(self, event) -> None:
        self.starter.start(self.consumer, self.target, self.cpu(), self.env.now)
        delay = self.interarrival()
        if delay == math.inf:  # the process has ended (a rate curve that ends at 0)
            return
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        event.callbacks = self._callbacks
        self.env.schedule(event, NORMAL, delay)


class TraceReplay:
    """Jobs arrive at given times, each with its own target and CPU demand.

    ``times_s`` (non-decreasing), ``targets`` (indices into ``consumers`` and
    ``target_codes``) and ``cpu_s`` are numpy arrays; they are turned into
    Python numbers a chunk at a time, so a million-row trace costs its arrays
    and no more.
    """

    CHUNK = 65536

    def __init__(self, env, log, workload: int, consumers: list[Consumer], target_codes: list[int],
                 times_s, targets, cpu_s, threads: int, **job_options):
        self.env = env
        self.consumers = consumers
        self.target_codes = target_codes
        self._arrays = (times_s, targets, cpu_s)
        self._rows = len(times_s)
        self._offset = 0  # row number of the chunk's first row
        self._chunk: tuple[list, list, list] = ([], [], [])
        self._next = 0  # position in the chunk
        self.starter = _JobStarter(env, log, workload, threads, **job_options)

    def _load_chunk(self, start: int) -> None:
        stop = min(start + self.CHUNK, self._rows)
        self._chunk = tuple(a[start:stop].tolist() for a in self._arrays)
        self._offset = start
        self._next = 0

    def start(self) -> None:
        if self._rows:
            self._load_chunk(0)
            self._callbacks = [self._arrive]
            self.env.timeout(self._chunk[0][0]).callbacks = self._callbacks

    def _arrive(self, event) -> None:
        times, targets, cpu = self._chunk
        i = self._next
        k = targets[i]
        now = self.env.now
        self.starter.start(self.consumers[k], self.target_codes[k], cpu[i], now)
        i += 1
        if i == len(times):
            if self._offset + i == self._rows:
                return
            self._load_chunk(self._offset + i)
            times = self._chunk[0]
            i = 0
        self._next = i
        delay = times[i] - now
        event.callbacks = self._callbacks
        self.env.schedule(event, NORMAL, delay if delay > 0.0 else 0.0)


class Batch:
    """``jobs`` jobs submitted together at each time of ``at_s``, each run to completion."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int, jobs: int, at_s,
                 cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.jobs = jobs
        self.at_s = at_s
        self.cpu = cpu
        self.starter = _JobStarter(env, log, workload, threads, **job_options)

    def start(self) -> None:
        for at in self.at_s:
            self.env.timeout(at).callbacks.append(self._submit)

    def _submit(self, _event) -> None:
        for _ in range(self.jobs):
            self.starter.start(self.consumer, self.target, self.cpu(), self.env.now)


class ClosedLoop:
    """``clients`` users, each alternating think time and one job."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int, clients: int,
                 think: Callable[[], float], cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.clients = clients
        self.think = think
        self.cpu = cpu
        self.starter = _JobStarter(env, log, workload, threads, then=self._think, **job_options)

    def start(self) -> None:
        for _ in range(self.clients):
            self._think()

    def _think(self) -> None:
        self.env.timeout(self.think()).callbacks.append(self._submit)

    def _submit(self, _event) -> None:
        self.starter.start(self.consumer, self.target, self.cpu(), self.env.now)

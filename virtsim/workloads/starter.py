"""Starting a job in its target: the fast path, request plans, gates, memory, replicas.

Built-in workloads are driven by callbacks rather than a SimPy process per job.
A process per job costs several times a callback chain (see ``benchmarks/``),
so the sources (open loops, closed loops, trace replays, batches) schedule
their next step with a plain timeout and a callback, and start work directly
in the target consumer through a :class:`JobStarter`.
An arrival source has one pending arrival at a time, a new Timeout each, all
sharing one callbacks list (SimPy only reads it: ``virtsim.engine.events``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import simpy

from ..components import Consumer
from .jobs import JobLog
from .requests import Breakdown, Demand
from ..components.slots import Slots


class JobStarter:
    """Starts a job in a consumer and records its end in the log.

    A job that is only CPU work on a stack that adds nothing is one activity
    (the fast path); otherwise the target's :class:`RequestPlan` (``plans``, by
    target code) runs its phases and its time breakdown is recorded.
    """

    def __init__(self, env: simpy.Environment, log: JobLog, workload: int, threads: int,
                 then: Callable[[], None] | None = None, plans: dict | None = None,
                 template: Demand | None = None, gates: dict | None = None, memory=None,
                 memory_bytes: float = 0.0, refuse_when_down: bool = False, replicas=None,
                 workers: int | None = None, holds_request: bool = False, client=None, calls=None):
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
        self.workers = workers
        """Worker threads of an FCFS server (a :class:`Slots` per target); None: processor sharing."""
        self.holds_request = holds_request
        """A worker stays busy for the whole request (blocking I/O), not only its CPU phase."""
        self.client = client
        """The :class:`~virtsim.workloads.clients.ClientSide` each request passes through first, if modelled."""
        self.calls = calls or {}
        """Target code → the :class:`~virtsim.workloads.calls.CallPlan` of its requests' calls, if they make any."""
        self.ends: dict[int, Callable[[], None]] = {}
        """Per job that is a call from another workload's request: what to tell when it ends (done or failed)."""
        self.client_alone: dict[int, object] = {}
        """Per job past its client and not yet started at the server: the client part's time alone, and the
        wake-ups per transaction its stack met (``ClientSide.run``)."""
        self.pools: dict[int, Slots] = {}
        self.requests: dict[int, object] = {}
        """Running requests that hold software resources, by job (their ``held`` is freed if the job fails)."""
        self.holding: dict[int, Slots] = {}
        """Jobs on a worker, and whose."""
        # Every job is one CPU activity in the consumer it was sent to: nothing else to decide.
        self._direct = (not self.plans and not self.gates and memory is None and replicas is None
                        and workers is None and client is None and not self.calls)
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
        if self.client is not None:  # the client's part first, at the client
            failed = self.log.failed_at
            self.client.run(job, lambda: job not in failed,
                            lambda alone, wake_s: self._from_client(consumer, target, cpu_s, job, now, alone, wake_s))
            return
        self._reach(consumer, target, cpu_s, job, now)

    def call(self, consumer: Consumer, target: int, cpu_s: float, on_end: Callable[[], None]) -> None:
        """A call from another workload's request arrives at ``consumer`` now, as one of this workload's jobs of
        ``cpu_s``; ``on_end()`` when it ends (its response leaves, or it failed)."""
        now = self.env.now
        job = self.log.arrive(self.workload, target, now, cpu_s)
        self.ends[job] = on_end
        if self.client is not None:
            failed = self.log.failed_at
            self.client.run(job, lambda: job not in failed,
                            lambda alone, wake_s: self._from_client(consumer, target, cpu_s, job, now, alone, wake_s))
            return
        self._reach(consumer, target, cpu_s, job, now)

    def _from_client(self, consumer: Consumer, target: int, cpu_s: float, job: int, sent: float,
                     alone, wake_s: float) -> None:
        """The client has done its part of the job: the request reaches the server."""
        now = self.env.now
        self.log.client_time[job] = now - sent
        if job in self.log.failed_at:  # its target failed meanwhile
            return
        self.client_alone[job] = (alone, wake_s)
        self._reach(consumer, target, cpu_s, job, now)

    def _reach(self, consumer: Consumer, target: int, cpu_s: float, job: int, now: float) -> None:
        """The job is at its target now: it waits there if the target is not serving, else it runs."""
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
        if self.workers is None:
            self._serve(consumer, target, cpu_s, job)
            return
        pool = self.pools.get(target)
        if pool is None:
            pool = self.pools[target] = Slots(self.workers, self.log.failed_at)
        queued_since = self.env.now
        pool.take(job, lambda: self._on_worker(pool, consumer, target, cpu_s, job, queued_since))

    def _on_worker(self, pool: Slots, consumer: Consumer, target: int, cpu_s: float, job: int,
                   queued_since: float) -> None:
        self.log.queue_wait[job] = self.env.now - queued_since
        self.holding[job] = pool
        self._serve(consumer, target, cpu_s, job)

    def _waited(self, job: int, seconds: float) -> None:
        """The job queued ``seconds`` for a software resource (``queue_s`` adds up its queues)."""
        waits = self.log.queue_wait
        waits[job] = waits.get(job, 0.0) + seconds

    def _free_worker(self, job: int) -> None:
        """The job's worker, if it holds one, is free for the next request."""
        pool = self.holding.pop(job, None)
        if pool is not None:
            pool.give_back()

    def _serve(self, consumer: Consumer, target: int, cpu_s: float, job: int) -> None:
        if self.memory is not None and not self.memory.allocate(target, self.memory_bytes, job):
            self.fail(job, self.env.now)  # it took its container over the limit: killed with it
            return
        plan = self.plans.get(target) if self.plans else None
        client = self.client
        if plan is not None:
            demand = replace(self.template, cpu_s=cpu_s)
            arrival = plan.arrive(demand)
            alone = plan.breakdown(demand, arrival)
            peer_parts, peer_latency_s = (), 0.0
            if client is not None:
                client_alone, wake_s = self.client_alone.pop(job)
                alone += client_alone + client.stream_breakdown(plan, demand, wake_s)
                if plan.nic is not None and demand.net_transactions:
                    peer_parts, peer_latency_s = client.stream_parts, client.latency_s + wake_s
                    if client.fabric is not None:  # the route to the client carries the wire's bytes
                        plan.peer_ports, route_s = client.route_to(consumer.path)
                        peer_latency_s += route_s
            self.log.breakdown[job] = alone
            failed = self.log.failed_at
            cpu_done = None if self.workers is None or self.holds_request else (lambda: self._free_worker(job))
            request = plan.start(demand, lambda: self._finish(job, self.env.now), alive=lambda: job not in failed,
                                 cpu_done=cpu_done, job=job, waited=lambda s: self._waited(job, s),
                                 peer_parts=peer_parts, peer_latency_s=peer_latency_s, arrival=arrival,
                                 calls=self.calls.get(target) if self.calls else None)
            if plan.locks:
                self.requests[job] = request
            return
        if client is not None:  # CPU work only at the server: its time alone is the client's and its own
            self.log.breakdown[job] = self.client_alone.pop(job)[0] + Breakdown.native(
                cpu_s / (self.threads * consumer.core_speed))
        if cpu_s > 0.0:
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
        if self.holding:
            self._free_worker(job)
        if self.requests:
            self.requests.pop(job, None)
        if self.ends and job in self.ends:  # a call: its response goes back to the caller
            self.ends.pop(job)()
            return
        if self.then is not None:
            self.then()

    def fail(self, job: int, now: float) -> None:
        """The job's target went down while it ran: record it as failed; a closed-loop client goes on."""
        if job in self.log.failed_at:
            return
        self.log.fail(job, now)
        if self.client_alone:
            self.client_alone.pop(job, None)
        if self.memory is not None:
            self.memory.release(job)
        held = [self.holding.pop(job)] if job in self.holding else []
        request = self.requests.pop(job, None) if self.requests else None
        if request is not None:
            held += request.held
            request.held = []
        for slots in held:
            # Once the instant's failures are all recorded: a failure fails the queue behind
            # this job too, and none of it may take the slot in between.
            self.env.timeout(0.0).callbacks.append(lambda _event, slots=slots: slots.give_back())
        if self.ends and job in self.ends:  # a call: the caller has its (failed) answer
            self.ends.pop(job)()
            return
        if self.then is not None:
            self.then()

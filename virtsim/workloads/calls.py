"""Calls from one workload's requests to another workload's service: multi-tier services.

A request whose demand lists ``calls`` makes them after its CPU phase (with
its operations' latency) and before its swap, disk and network phases: a
handler computes what to ask first, and writes its own reply after the
answers came back. The calls' entries run one after another; an entry's
``count`` calls run one after another too, or all at once with ``parallel``
(fan-out: the slowest sets the time). One call is:

1. the request's bytes from the caller's consumer to the callee's, over the
   route between them under a ``network`` section (one flow,
   ``Fabric.transfer``), then the route's one-way propagation latency;
2. a job of the callee's workload at its target (a replica picked by its
   balancer, if it has several): it queues and runs like any of its requests,
   with its own demand, discipline and calls (chains compose);
3. the response's bytes back over the reverse route, and its latency.

Without a network the callee is on the caller's host (the config layer
refuses a callee on another host then), and the bytes cross no modelled
device: no time.

The caller waits for all of it: its job's ``remote_s`` is the time from the
first call's send to the last response's arrival. The callee's jobs are
that workload's jobs. O(1) events per call: one flow and one timeout each way.
"""

from __future__ import annotations

from collections.abc import Callable


class Callee:
    """A workload as a service called by others: how one call's job starts at its target."""

    __slots__ = ("env", "sources", "index", "consumer", "target", "cpu")

    def __init__(self, env, sources: list, index: int, consumer, target: int, cpu: Callable[[], float]):
        self.env = env
        self.sources = sources
        """Every workload's source, in order (filled once all are built: a caller may come before its callee)."""
        self.index = index
        self.consumer = consumer
        self.target = target
        self.cpu = cpu
        """Draws the CPU work of one call's job."""

    def pick(self):
        """The consumer and target code the next call goes to (its balancer's pick, with replicas)."""
        replicas = self.sources[self.index].starter.replicas
        if replicas is not None:
            return replicas.pick()
        return self.consumer, self.target

    def serve(self, consumer, target: int, on_end: Callable[[], None]) -> None:
        """Start one call's job at ``consumer`` now; ``on_end()`` when it ends (done or failed)."""
        self.sources[self.index].starter.call(consumer, target, self.cpu(), on_end)


class CallStep:
    """One entry of a demand's ``calls``."""

    __slots__ = ("callee", "count", "request_bytes", "response_bytes", "parallel")

    def __init__(self, callee: Callee, count: int, request_bytes: float, response_bytes: float, parallel: bool):
        self.callee = callee
        self.count = count
        self.request_bytes = request_bytes
        self.response_bytes = response_bytes
        self.parallel = parallel


class CallPlan:
    """The calls of one workload's requests, from the consumer ``path``; records each job's ``remote_s``."""

    def __init__(self, env, log, fabric, path: str, steps: tuple[CallStep, ...]):
        self.env = env
        self.log = log
        self.fabric = fabric
        """The run's :class:`~virtsim.components.network.Fabric`, or None without a network."""
        self.path = path
        self.steps = steps
        self.calls = sum(step.count for step in steps)

    def run(self, job: int, then: Callable[[], None]) -> None:
        """Make the job's calls now, one entry after another; record its time in them, then call ``then()``."""
        start = self.env.now
        log = self.log

        def finished() -> None:
            log.remote_time[job] = self.env.now - start
            log.calls[job] = self.calls
            then()

        self._step(0, finished)

    def _step(self, i: int, then: Callable[[], None]) -> None:
        if i == len(self.steps):
            then()
            return
        step = self.steps[i]
        after = lambda: self._step(i + 1, then)  # noqa: E731
        if not step.count:
            after()
        elif step.parallel:
            left = [step.count]

            def one_done() -> None:
                left[0] -= 1
                if not left[0]:
                    after()

            for _ in range(step.count):
                self._call(step, one_done)
        else:
            self._sequence(step, step.count, after)

    def _sequence(self, step: CallStep, left: int, then: Callable[[], None]) -> None:
        if not left:
            then()
            return
        self._call(step, lambda: self._sequence(step, left - 1, then))

    def _call(self, step: CallStep, then: Callable[[], None]) -> None:
        """One call: the request's bytes there, the callee's job, the response's bytes back."""
        consumer, target = step.callee.pick()
        there = consumer.path

        def served() -> None:
            self._send(there, self.path, step.response_bytes, then)

        self._send(self.path, there, step.request_bytes,
                   lambda: step.callee.serve(consumer, target, served))

    def _send(self, src: str, dst: str, nbytes: float, then: Callable[[], None]) -> None:
        """``nbytes`` from consumer ``src`` to ``dst``, then the route's one-way latency; then ``then()``."""
        fabric = self.fabric
        if fabric is None or not (fabric.attached(_host(src)) and fabric.attached(_host(dst))):
            then()
            return
        latency_s = fabric.between(src, dst).latency_s
        arrived = then if latency_s <= 0.0 else (
            lambda: self.env.timeout(latency_s).callbacks.append(lambda _event: then()))
        if nbytes > 0:
            fabric.transfer(src, dst, nbytes, on_done=lambda _flow: arrived())
        else:
            arrived()


def _host(path: str) -> str:
    return path.split("/", 1)[0]

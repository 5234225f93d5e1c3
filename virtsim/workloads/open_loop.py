"""Open workloads: jobs arrive by their arrival process, regardless of completions.

Arrivals drawn from a process (Poisson, on/off, a rate curve) come to one
target (or its replicas); arrivals replayed from a jobs file bring their own
times, targets and demands (:mod:`.trace_replay`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from simpy.events import Timeout

from ..components import Consumer
from .arrivals import CurveGaps, OnOffGaps, RateCurve
from .distributions import make_sampler
from .starter import JobStarter
from .trace_replay import replay
from .wiring import WorkloadType


class OpenLoop:
    """Jobs arrive by a renewal process (e.g. Poisson) regardless of completions."""

    def __init__(self, env, log, workload: int, consumer: Consumer, target: int,
                 interarrival: Callable[[], float], cpu: Callable[[], float], threads: int, **job_options):
        self.env = env
        self.consumer = consumer
        self.target = target
        self.interarrival = interarrival
        self.cpu = cpu
        self.starter = JobStarter(env, log, workload, threads, **job_options)

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
        Timeout(self.env, delay).callbacks = self._callbacks


@dataclass(frozen=True)
class _Exponential:
    mean_s: float
    type: str = "exponential"


def _poisson(arrivals, rng, _stream):
    return make_sampler(_Exponential(1.0 / arrivals.rate_per_s), rng)


def _onoff(arrivals, rng, stream):
    return OnOffGaps(rng, arrivals.rate_per_s, make_sampler(arrivals.on_period, stream("on")),
                     make_sampler(arrivals.off_period, stream("off")))


def _curve(arrivals, rng, _stream):
    curve = RateCurve(arrivals.times_s, arrivals.rates_per_s, arrivals.interpolation, arrivals.period_s)
    return CurveGaps(rng, curve)


GAPS = {"poisson": _poisson, "onoff": _onoff, "curve": _curve}
"""Arrival process type → ``gaps(arrivals, rng, stream)``, its inter-arrival times drawn from ``rng``
(``stream(purpose)`` gives the workload's other streams)."""


def build(w, index: int, wiring, threads: int, options: dict):
    if w.arrivals.type == "file":
        return replay(w, index, wiring, threads, options)
    consumer, code = wiring.first_target(w)
    gaps = GAPS[w.arrivals.type](w.arrivals, wiring.stream_of(w, "arrivals"),
                                 lambda purpose: wiring.stream_of(w, purpose))
    return OpenLoop(wiring.env, wiring.log, index, consumer, code, gaps,
                    make_sampler(w.demand.cpu, wiring.stream_of(w, "cpu")), threads, **options)


OPEN = WorkloadType("open", build)

"""The built-in sources as generator functions, for custom workloads (``Simulation.context``).

The arrival processes are the ones the experiment files use (:mod:`.arrivals`),
so a workload written in Python and one written in YAML draw the same kind of
arrivals; a request is any generator function ``request(ctx, *args)``::

    ctx = sim.context("h1/b/web", workload="web")
    day = library.curve(ctx.rng, [(0, 2.0), (6 * 3600, 1.0), (14 * 3600, 16.0)], period_s=86400)
    sim.process(library.open_loop(ctx, day, checkout))

Each source is a generator to pass to ``Simulation.process``; each request it
sends is a job in the job table.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .arrivals import CurveGaps, OnOffGaps, PoissonGaps, RateCurve

__all__ = ["batch", "closed_loop", "curve", "onoff", "open_loop", "poisson"]


def _times(value: float | Callable[[], float]) -> Callable[[], float]:
    """A constant number of seconds, or a callable drawing them."""
    if callable(value):
        return value
    if not value >= 0:
        raise ValueError(f"a time must be ≥ 0 s, got {value!r}")
    return lambda: float(value)


def poisson(rng: np.random.Generator, rate_per_s: float) -> PoissonGaps:
    """Gaps of a Poisson process of ``rate_per_s``."""
    return PoissonGaps(rng, rate_per_s)


def onoff(rng: np.random.Generator, rate_per_s: float, on_s: float | Callable[[], float],
          off_s: float | Callable[[], float]) -> OnOffGaps:
    """Gaps of bursts: Poisson at ``rate_per_s`` for on-periods of ``on_s``, silence for ``off_s``.

    ``on_s`` and ``off_s`` are seconds or callables drawing them, e.g.
    ``lambda: rng.exponential(5.0)``.
    """
    return OnOffGaps(rng, rate_per_s, _times(on_s), _times(off_s))


def curve(rng: np.random.Generator, points: Sequence[tuple[float, float]], *, period_s: float | None = None,
          interpolation: str = "linear") -> CurveGaps:
    """Gaps of a Poisson process whose rate runs through ``points`` ``(time_s, rate_per_s)`` from time 0."""
    times, rates = zip(*points)
    return CurveGaps(rng, RateCurve(times, rates, interpolation, period_s))


def open_loop(ctx, gaps: Callable[[], float], request, *args):
    """Send ``request(ctx, *args)`` at each arrival of ``gaps``, whether earlier ones are done or not."""
    while True:
        gap = gaps()
        if gap == math.inf:
            return  # the process has ended
        yield ctx.sleep(gap)
        ctx.spawn(request, *args)


def closed_loop(ctx, clients: int, think_s: float | Callable[[], float], request, *args):
    """``clients`` users, each sending ``request``, waiting for its end, then thinking ``think_s``."""
    if clients < 1:
        raise ValueError(f"clients must be ≥ 1, got {clients!r}")
    think = _times(think_s)

    def client():
        while True:
            yield ctx.spawn(request, *args)
            yield ctx.sleep(think())

    yield ctx.env.all_of([ctx.env.process(client()) for _ in range(clients)])


def batch(ctx, jobs: int, request, *args):
    """Start ``jobs`` requests at once and wait for all of them; returns the makespan in seconds."""
    if jobs < 1:
        raise ValueError(f"jobs must be ≥ 1, got {jobs!r}")
    start = ctx.now
    yield ctx.env.all_of([ctx.spawn(request, *args) for _ in range(jobs)])
    return ctx.now - start

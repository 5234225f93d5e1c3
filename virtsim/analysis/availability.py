"""How long a workload's targets could serve, and how many replicas it ran, over the measured window."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["all_closed_s", "availability", "mean_replicas"]


def all_closed_s(targets, gates, start: float, end: float) -> float:
    """Seconds within [start, end] during which every one of ``targets`` was closed."""
    if any(t not in gates for t in targets):
        return 0.0  # one of them never closes
    changes = []
    for t in targets:
        for down, up in gates[t].closed:
            down, up = max(down, start), min(end if math.isnan(up) else up, end)
            if up > down:
                changes += [(down, 1), (up, -1)]
    changes.sort(key=lambda c: (c[0], c[1]))  # at a tie, reopen before another closes
    closed, since, total = 0, start, 0.0
    for time_s, step in changes:
        if closed == len(targets):
            total += time_s - since
        closed += step
        since = time_s
    return total


def mean_replicas(initial: int, scaling: list, workload: str, start: float, end: float) -> float:
    """Time-weighted mean of a workload's active replicas over [start, end]."""
    steps = [(0.0, initial)] + [(t, after) for t, w, _, after, _ in scaling if w == workload]
    total = 0.0
    for (t0, n), (t1, _) in zip(steps, steps[1:] + [(end, 0)]):
        total += n * max(0.0, min(t1, end) - max(t0, start))
    return total / (end - start) if end > start else float(initial)


def availability(targets, gates, start: float, end: float) -> float:
    """Mean over the workload's targets of the fraction of [start, end] each could serve.

    A target cannot serve while it starts up or is down after a failure.
    """
    span = end - start
    if not targets or span <= 0:
        return float("nan")
    up = [1.0 - (gates[t].closed_s(start, end) / span if t in gates else 0.0) for t in targets]
    return float(np.mean(up))

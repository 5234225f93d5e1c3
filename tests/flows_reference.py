"""An independent reference for :mod:`virtsim.engine.flows`, used only by the tests.

The engine solves weighted max-min fairness across links with a heap of
saturation levels, component by component, and keeps each flow's remaining
work between events. This module is written separately and simply, with other
algorithms, so that a shared mistake is unlikely:

* :func:`maxmin_rates`: plain progressive filling. All unfrozen flows grow
  together, ``weight × delta`` each; ``delta`` is the smallest step at which a
  link runs full or a flow reaches its ``max_rate``; flows on a full link and
  flows at their limit are frozen; repeat. Every link is looked at in every
  round (no components, no heap). O(flows² × links), fine for tests.
* :func:`lp_check`: checks a rate vector against the *definition* with linear
  programs (``scipy.optimize.linprog``): feasible (every link's load within
  its capacity, every flow within its limit), and for every flow ``f`` the
  largest rate ``f`` can reach while no flow whose rate per weight is at most
  ``f``'s loses anything is ``f``'s own rate. That is max-min fairness: no flow
  can go faster without slowing one that is no better off.
* :func:`bottleneck_violations`: the bottleneck characterisation. Every flow
  is at its limit, or crosses a full link on which its rate per weight is the
  highest.
* :func:`simulate`: completion times, step by step. Between two events
  (a start, a capacity change, a completion) the rates are
  :func:`maxmin_rates`; each step advances every flow's remaining work and
  takes the earliest completion.

A problem is plain data: ``capacity`` maps a link's name to units per second;
a flow is a dict with ``links`` (names), ``weight`` and ``max_rate``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linprog

#: Relative tolerance for "a link is full" and "a flow is at its limit".
TIGHT = 1e-12

#: How far below its rate the LP of :func:`lp_check` may push a flow that must not lose
#: anything (absorbs the rounding of a rate vector that is exactly tight).
SLACK = 1e-10

_LP_OPTIONS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}


def maxmin_rates(capacity: dict[str, float], flows: list[dict]) -> list[float]:
    """Weighted max-min fair rates of ``flows`` by plain progressive filling."""
    n = len(flows)
    rates = [0.0] * n
    frozen = [False] * n
    for i, f in enumerate(flows):
        if not f["links"] and f.get("max_rate", math.inf) == math.inf:
            raise ValueError("a flow over no links needs a finite max_rate")
    while not all(frozen):
        # The largest common step before a link runs full or a flow hits its limit.
        delta = math.inf
        for name, cap in capacity.items():
            used = sum(rates[i] for i, f in enumerate(flows) if name in f["links"])
            growing = sum(f["weight"] for i, f in enumerate(flows) if name in f["links"] and not frozen[i])
            if growing > 0:
                delta = min(delta, max(0.0, cap - used) / growing)
        for i, f in enumerate(flows):
            if not frozen[i]:
                delta = min(delta, (f.get("max_rate", math.inf) - rates[i]) / f["weight"])
        for i, f in enumerate(flows):
            if not frozen[i]:
                rates[i] += f["weight"] * delta
        # Freeze the flows at their limit and those crossing a full link.
        for i, f in enumerate(flows):
            if not frozen[i] and rates[i] >= f.get("max_rate", math.inf) * (1 - TIGHT):
                rates[i] = f.get("max_rate", math.inf)
                frozen[i] = True
        for name, cap in capacity.items():
            used = sum(rates[i] for i, f in enumerate(flows) if name in f["links"])
            if used >= cap * (1 - TIGHT) - 1e-300:
                for i, f in enumerate(flows):
                    if name in f["links"]:
                        frozen[i] = True
    return rates


def loads(capacity: dict[str, float], flows: list[dict], rates: list[float]) -> dict[str, float]:
    """The sum of the rates of the flows crossing each link."""
    return {name: sum(r for f, r in zip(flows, rates) if name in f["links"]) for name in capacity}


def bottleneck_violations(capacity: dict[str, float], flows: list[dict], rates: list[float],
                          rel: float = 1e-9) -> list[int]:
    """The flows that have no bottleneck: not at their limit, and no full link where they lead."""
    load = loads(capacity, flows, rates)
    bad = []
    for i, f in enumerate(flows):
        if rates[i] >= f.get("max_rate", math.inf) * (1 - rel):
            continue
        mine = rates[i] / f["weight"]
        ok = False
        for name in f["links"]:
            cap = capacity[name]
            if load[name] < cap * (1 - rel) - 1e-300:
                continue
            best = max(r / g["weight"] for g, r in zip(flows, rates) if name in g["links"])
            if mine >= best * (1 - rel):
                ok = True
                break
        if not ok:
            bad.append(i)
    return bad


def lp_check(capacity: dict[str, float], flows: list[dict], rates: list[float], rel: float = 1e-7) -> list[str]:
    """What is wrong with ``rates`` as the weighted max-min fair vector (empty if nothing), by LPs."""
    problems = []
    names = list(capacity)
    n = len(flows)
    scale = max([r for r in rates] + [1e-300])
    a_ub = np.array([[1.0 if name in f["links"] else 0.0 for f in flows] for name in names]) if names else None
    b_ub = np.array([capacity[name] / scale for name in names]) if names else None
    for name, load in loads(capacity, flows, rates).items():
        if load > capacity[name] * (1 + rel) + 1e-300:
            problems.append(f"link {name}: load {load!r} > capacity {capacity[name]!r}")
    for i, f in enumerate(flows):
        if rates[i] > f.get("max_rate", math.inf) * (1 + rel) or rates[i] < 0:
            problems.append(f"flow {i}: rate {rates[i]!r} outside [0, {f.get('max_rate', math.inf)!r}]")
    for i, f in enumerate(flows):
        mine = rates[i] / f["weight"]
        bounds = []
        for j, g in enumerate(flows):
            hi = g.get("max_rate", math.inf) / scale
            hi = None if hi == math.inf else hi
            if j != i and rates[j] / g["weight"] <= mine * (1 + rel):
                lo = min(rates[j] / scale * (1 - SLACK), hi if hi is not None else math.inf)
            else:
                lo = 0.0
            bounds.append((lo, hi))
        cost = np.zeros(n)
        cost[i] = -1.0
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs", options=_LP_OPTIONS)
        if res.status != 0:
            problems.append(f"flow {i}: LP {res.message}")
            continue
        best = res.x[i] * scale
        if best > rates[i] * (1 + 1e-6) + 1e-9 * scale:
            problems.append(f"flow {i}: could reach {best!r} > {rates[i]!r} without slowing a flow no better off")
    return problems


def simulate(capacity: dict[str, float], flows: list[dict],
             changes: list[tuple[float, str, float]] = ()) -> list[float]:
    """Completion time of each flow, step by step.

    A flow also has ``amount`` and ``start`` (s), and optionally
    ``cancel`` (s), when it stops unfinished. ``changes`` are
    ``(time, link, capacity)``. A flow cancelled, or whose rate stays 0
    forever, never completes (``inf``).
    """
    capacity = dict(capacity)
    n = len(flows)
    remaining = [float(f["amount"]) for f in flows]
    finish = [math.inf] * n
    pending = sorted(changes)
    now = 0.0
    while True:
        active = [i for i in range(n) if flows[i]["start"] <= now < flows[i].get("cancel", math.inf)
                  and finish[i] == math.inf]
        rates = maxmin_rates(capacity, [flows[i] for i in active]) if active else []
        # The next event: a start, a cancellation, a capacity change or a completion.
        t_next = min([flows[i]["start"] for i in range(n) if flows[i]["start"] > now] + [math.inf])
        t_next = min([t_next] + [flows[i]["cancel"] for i in active if "cancel" in flows[i]])
        if pending:
            t_next = min(t_next, pending[0][0])
        for i, r in zip(active, rates):
            if r > 0:
                t_next = min(t_next, now + remaining[i] / r)
        if t_next == math.inf:
            return finish
        dt = t_next - now
        for i, r in zip(active, rates):
            remaining[i] -= r * dt
        now = t_next
        for i, r in zip(active, rates):
            if remaining[i] <= 1e-9 * max(1.0, flows[i]["amount"]):
                finish[i] = now
        while pending and pending[0][0] <= now:
            _, name, cap = pending.pop(0)
            capacity[name] = cap

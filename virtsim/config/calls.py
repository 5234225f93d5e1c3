"""Calls from one workload's requests to another's service, checked: known callees, no cycle, a route."""

from __future__ import annotations

from ..wording import unknown
from .resolution import Context
from .workload_spec import WorkloadSpec

__all__ = ["check_calls"]


def _host(path: str) -> str:
    return path.split("/", 1)[0]


def check_calls(workloads: list[tuple[int, WorkloadSpec]], network, ctx: Context) -> None:
    """Each call names another workload that serves (a target of its own), calls form no cycle, and a callee on
    another host is reached through a ``network`` section."""
    by_name = {wl.name: (i, wl) for i, wl in workloads}
    names = list(by_name)
    edges: dict[str, list[str]] = {}
    for i, wl in workloads:
        calls = wl.demand.calls if wl.demand is not None else ()
        loc = ("workloads", i, "demand", "calls")
        for k, call in enumerate(calls):
            callee = by_name.get(call.service)
            if callee is None:
                ctx.add((*loc, k, "service"), unknown("workload", call.service, [n for n in names if n != wl.name]))
                continue
            _, target = callee
            if target.jobs_file is not None or target.demand is None or target.demand.cpu is None:
                ctx.add((*loc, k, "service"), f"workload {call.service!r} replays a jobs file (each job's target "
                                              "and demand): a callee needs a 'target' and a 'demand' of its own")
                continue
            edges.setdefault(wl.name, []).append(call.service)
            if network is None:
                far = sorted({_host(p) for p in target.target_paths} - {_host(p) for p in wl.target_paths})
                if far and wl.target_paths:
                    ctx.add((*loc, k, "service"),
                            f"workload {call.service!r} runs on {', '.join(far)}, another host than "
                            f"{wl.name!r}: calls across hosts need a top-level 'network' section for their bytes "
                            "to cross (README: 'A network of hosts')")
    for i, wl in workloads:
        cycle = _cycle(wl.name, edges)
        if cycle is not None:
            k = next(k for k, c in enumerate(wl.demand.calls) if c.service == cycle[1])
            ctx.add(("workloads", i, "demand", "calls", k, "service"),
                    f"calls form a cycle: {' -> '.join(cycle)}; a request would wait for itself (remove one call)")


def _cycle(start: str, edges: dict[str, list[str]]) -> list[str] | None:
    """A chain of calls from ``start`` back to ``start``, if one exists."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, chain = stack.pop()
        for callee in edges.get(name, ()):
            if callee == start:
                return [*chain, start]
            if callee not in seen:
                seen.add(callee)
                stack.append((callee, [*chain, callee]))
    return None

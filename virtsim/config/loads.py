"""Resolve ``loads``: expand target patterns, check them, read the trace rows."""

from __future__ import annotations

from fnmatch import fnmatchcase

from ..data.pods import PodTrace, load_pods
from ..data.traces import UtilizationTrace, load_utilization_trace
from ..model.topology import walk_vms
from ..wording import unknown
from . import load_inputs as li
from .load_spec import PodLoadSpec, UtilizationLoadSpec
from .resolution import Context

__all__ = ["load_trace", "ordered_targets", "resolve_loads"]


def ordered_targets(hosts) -> list[str]:
    """Every host, VM and container path of resolved ``hosts``, in file order."""
    paths = []
    for host in hosts:
        paths.append(host.name)
        for nested in walk_vms(host):
            paths.append(nested.path)
            paths.extend(f"{nested.path}/{c.name}" for c in nested.vm.containers)
        paths.extend(f"{host.name}/{c.name}" for c in host.containers)
    return paths


def resolve_loads(items: list[tuple[int, li.UtilizationLoadInput | li.PodLoadInput]], hosts,
                  ctx: Context) -> tuple:
    """The resolved loads; problems go to ``ctx``."""
    valid = ordered_targets(hosts)
    known = set(valid)
    loaded, driven = [], {}
    for n, load in items:
        loc = ("loads", n)
        before = len(ctx.problems)
        targets = _targets(load, valid, known, (*loc, "targets"), ctx)
        for target in targets:
            if target in driven:
                ctx.add((*loc, "targets"), f"{target!r} already follows load {driven[target]!r}")
            driven[target] = load.name
        if load.type == "pods":
            if len(ctx.problems) == before:
                pods = _pods(load, targets, loc, ctx)
                if pods is not None:
                    loaded.append(pods)
            continue
        if load.rows is not None and len(load.rows) != len(targets):
            ctx.add((*loc, "rows"), f"{len(load.rows)} rows for {len(targets)} targets; give one row per target")
        if len(ctx.problems) > before:
            continue
        written = [load.path] if isinstance(load.path, str) else list(load.path)
        paths = [ctx.file(p) for p in written]
        missing = [p for p in paths if not p.is_file()]
        for path in missing:
            ctx.add((*loc, "path"), f"file not found: {path}")
        if missing:
            continue
        trace = ctx.read((*loc, "path"), load_utilization_trace, load.format, paths, load.rows, len(targets))
        if trace is None:
            continue
        loaded.append(UtilizationLoadSpec(
            name=load.name, format=load.format, paths=tuple(str(p.resolve()) for p in paths), sha256=trace.sha256,
            targets=tuple(targets), rows=None if load.rows is None else tuple(load.rows), start_s=load.start,
            trace=trace))
    return tuple(loaded)


def _pods(load: li.PodLoadInput, targets: list[str], loc: tuple, ctx: Context) -> PodLoadSpec | None:
    path = ctx.file(load.path)
    if not path.is_file():
        ctx.add((*loc, "path"), f"file not found: {path}")
        return None
    trace = ctx.read((*loc, "path"), load_pods, path, targets, load.count, load.start)
    if trace is None:
        return None
    return PodLoadSpec(name=load.name, path=str(path.resolve()), sha256=trace.sha256, targets=tuple(targets),
                       count=load.count, start_s=load.start, trace=trace)


def _targets(load, valid: list[str], known: set[str], loc: tuple, ctx: Context) -> list[str]:
    if isinstance(load.targets, str):
        if not any(ch in load.targets for ch in "*?["):
            written = [load.targets]
        else:
            matched = [p for p in valid if fnmatchcase(p, load.targets)]
            if not matched:
                ctx.add(loc, f"pattern {load.targets!r} matches no host, VM or container")
            return matched
    else:
        written = load.targets
    for target in written:
        if target not in known:
            ctx.add(loc, unknown("target", target, known))
    if len(set(written)) != len(written):
        ctx.add(loc, "a target appears twice")
    return list(written)


def load_trace(load: UtilizationLoadSpec | PodLoadSpec) -> UtilizationTrace | PodTrace:
    """The parsed rows of a load: those read at load time, or read again (a spec rebuilt from its dump)."""
    if load.trace is not None:
        return load.trace
    if load.type == "pods":
        return load_pods(load.path, list(load.targets), load.count, load.start_s)
    return load_utilization_trace(load.format, load.paths, load.rows, len(load.targets))

"""Open workloads: jobs arrive by an arrival process (or from a jobs file), whatever the system does."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from pydantic import Field

from ..data.arrivals_file import load_arrivals_file
from . import workload_inputs as wi
from . import workload_spec as ws
from .distributions import resolve_distribution
from .resolution import Context
from .workload_kind import WorkloadKind


class OpenWorkload(ws.WorkloadSpec):
    """Jobs arriving by ``arrivals``: a process, or the rows of a jobs file (each with its target and demand)."""

    type: Literal["open"] = "open"
    arrivals: ws.ArrivalsSpec = Field(description="The arrival process.")

    open_ended = True

    @property
    def jobs_file(self) -> ws.FileArrivals | None:
        return self.arrivals if isinstance(self.arrivals, ws.FileArrivals) else None

    @property
    def poisson_rate_per_s(self) -> float | None:
        return self.arrivals.rate_per_s if isinstance(self.arrivals, ws.PoissonArrivals) else None


class Open(WorkloadKind):
    spec = OpenWorkload
    summary = "'open' (arrivals)"
    noun = "an open workload"
    input_fields = {
        "arrivals": (wi.ArrivalsInput | None, Field(default=None, description="Open workloads: how jobs arrive.")),
    }

    def check(self, wl, loc: tuple, ctx: Context) -> None:
        if wl.arrivals is None:
            ctx.add((*loc, "arrivals"), f"required key is missing for {self.noun}")

    def jobs_from_file(self, wl) -> bool:
        return isinstance(wl.arrivals, wi.FileArrivalsInput)

    def resolve_keys(self, wl, loc: tuple, ctx: Context, targets: Collection[str]) -> dict:
        if wl.arrivals is None:
            return {}
        return {"arrivals": _arrivals(wl, (*loc, "arrivals"), ctx, targets)}

    def spec_fields(self, wl, resolved: dict) -> dict:
        return {"arrivals": resolved["arrivals"]}


def _arrivals(wl, loc: tuple, ctx: Context, targets: Collection[str]):
    arrivals = wl.arrivals
    if isinstance(arrivals, wi.PoissonInput):
        return ws.PoissonArrivals(rate_per_s=arrivals.rate)
    if isinstance(arrivals, wi.OnOffInput):
        on = resolve_distribution(arrivals.on_period, (*loc, "on_period"), ctx)
        off = resolve_distribution(arrivals.off_period, (*loc, "off_period"), ctx)
        if isinstance(on, ws.ConstantDist) and on.value_s <= 0:
            ctx.add((*loc, "on_period"), f"an on-period must be > 0 s, got {on.value_s:g} s")
            return None
        return None if on is None or off is None else ws.OnOffArrivals(rate_per_s=arrivals.rate, on_period=on,
                                                                       off_period=off)
    if isinstance(arrivals, wi.CurveInput):
        return ws.CurveArrivals(times_s=tuple(p.at for p in arrivals.points),
                                rates_per_s=tuple(p.rate for p in arrivals.points),
                                interpolation=arrivals.interpolation, period_s=arrivals.period)
    path = ctx.file(arrivals.path)
    table = ctx.read((*loc, "path"), load_arrivals_file, path, targets, default_target=wl.target, shown=arrivals.path)
    if table is None:
        return None
    return ws.FileArrivals(path=str(path.resolve()), sha256=table.sha256, rows=len(table), table=table)


OPEN = Open()

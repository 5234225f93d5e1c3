"""Numbers as a person reads them: the unit a quantity is shown in, and what a metric is called.

Tables keep SI base units (seconds, joules); pictures and the console show a
quantity in the unit that makes its number readable (3 ms is '3 ms', not
'0.003 s'). Pure numpy: the console uses it without importing matplotlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["ENERGY_UNITS", "TIME_UNITS", "Unit", "choose_unit", "format_quantity", "metric_name",
           "metric_quantity"]


@dataclass(frozen=True)
class Unit:
    symbol: str
    size: float
    """How many base units (s, J) one of it is."""
    at_least: float
    """The largest magnitude (base units) from which it is chosen."""


TIME_UNITS = (Unit("µs", 1e-6, 0.0), Unit("ms", 1e-3, 1e-3), Unit("s", 1.0, 1.0),
              Unit("min", 60.0, 600.0), Unit("h", 3600.0, 36000.0))
"""Seconds: minutes only from 10 min and hours from 10 h, so 90 s stays '90 s'."""
ENERGY_UNITS = (Unit("J", 1.0, 0.0), Unit("Wh", 3600.0, 3600.0), Unit("kWh", 3.6e6, 3.6e6),
                Unit("MWh", 3.6e9, 3.6e9))
"""Joules: watt-hours from 1 Wh, as energy is billed."""


def choose_unit(values, units=TIME_UNITS) -> Unit:
    """The unit for ``values`` (base units): the largest whose threshold the largest magnitude reaches."""
    finite = np.abs(np.asarray(values, dtype=float).ravel())
    finite = finite[np.isfinite(finite)]
    top = float(finite.max()) if finite.size else 0.0
    if top <= 0:  # nothing to scale: the base unit
        return next((u for u in units if u.size == 1.0), units[0])
    return [u for u in units if top >= u.at_least][-1]


def _number(value: float) -> str:
    text = f"{value:.3g}"
    return text if "e" not in text else f"{value:.0f}"


def format_quantity(value: float, units=TIME_UNITS) -> str:
    """``value`` (base units) in its own unit, three significant digits: '3.25 ms', '4.07 s'."""
    unit = choose_unit([value], units)
    return f"{_number(value / unit.size)} {unit.symbol}"


_METRICS = {
    # metric column: (what a picture calls it, what the console calls it; None: the column's own name)
    "response_time_mean_s": ("mean response time", "mean response time"),
    "response_time_p50_s": ("median response time", "median response time"),
    "response_time_p95_s": ("95th-percentile response time", "p95 response time"),
    "response_time_p99_s": ("99th-percentile response time", "p99 response time"),
    "throughput_per_s": ("throughput (jobs/s)", "throughput"),
    "cpu_utilization": ("CPU utilization", None),
    "jobs_completed": ("jobs completed", None),
    "energy_j": ("energy", None),
    "hosts_used": ("hosts used", None),
    "hosts_powered_on": ("hosts powered on", None),
    "cost": ("cost", None),
    "slowdown_mean": ("mean slowdown", None),
}


def metric_quantity(metric: str) -> str:
    """What a table's metric column is, in words ('mean response time'), without its unit."""
    base = metric.removesuffix("_mean") if metric.removesuffix("_mean") in _METRICS else metric
    if base in _METRICS:
        return _METRICS[base][0]
    return re.sub(r"_(s|j|bytes)$", "", base).replace("_", " ")


def metric_name(metric: str) -> str:
    """The console's short name of a metric column ('p99 response time'), else the column's name."""
    return (_METRICS.get(metric, (None, None))[1]) or metric

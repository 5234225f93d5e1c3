"""Text for the console: times in the unit a person reads, per-workload lines, paired differences."""

from __future__ import annotations

import math

import pandas as pd

from .quantities import Unit, choose_unit, metric_name

__all__ = ["difference_lines", "duration_text", "time_unit", "workload_lines"]

_UNITS = (Unit("ns", 1e-9, 0.0), Unit("µs", 1e-6, 1e-6), Unit("ms", 1e-3, 1e-3), Unit("s", 1.0, 1.0))
"""The console's seconds: down to nanoseconds, never minutes."""


def time_unit(seconds: float) -> tuple[float, str]:
    """(scale, name) of the largest unit in which ``seconds`` is at least 1: (1e-3, 'ms') for 0.0032."""
    if not abs(seconds) > 0:  # 0 and NaN: the smallest unit (choose_unit would give seconds)
        return _UNITS[0].size, _UNITS[0].symbol
    unit = choose_unit([seconds], _UNITS)
    return unit.size, unit.symbol


def duration_text(seconds: float, unit: tuple[float, str] | None = None, *, signed: bool = False,
                  digits: int = 4) -> str:
    """``0.003247`` → ``'3.247 ms'``; ``unit`` fixes the unit (to put several numbers in one)."""
    if seconds != seconds:
        return "n/a"
    scale, name = unit or time_unit(seconds)
    value = seconds / scale
    return f"{value:+.{digits}g} {name}" if signed else f"{value:.{digits}g} {name}"


def workload_lines(workloads: pd.DataFrame, *, availability: bool = False) -> list[str]:
    """One line per workload: jobs completed and its own response times (never pooled with another's)."""
    width = max(16, *(len(str(name)) for name in workloads["workload"]))
    lines = []
    for w in workloads.to_dict("records"):
        line = (f"{str(w['workload']):<{width}} {int(w['jobs_completed']):>8} jobs  "
                f"mean {duration_text(w['response_time_mean_s'])}  p99 {duration_text(w['response_time_p99_s'])}")
        if availability:
            line += f"  availability {w['availability']:.4%}"
        lines.append(line)
    return lines


def difference_lines(differences: pd.DataFrame, metrics: list[str] | None = None) -> list[str]:
    """Per compared workload and metric (of ``metrics``, default the first), each stack's paired
    difference from the baseline: ``virtualbox − kvm: +0.040 ms ± 0.001 (95%)``; without
    replications, the difference alone."""
    lines = []
    keys = [c for c in ("scenario",) if c in differences.columns]
    wanted = metrics if metrics is not None else [differences["metric"].iloc[0]]
    shown = differences[differences["metric"].isin(wanted)]
    for _, group in shown.groupby([*keys, "workload", "metric"], sort=False):
        first = group.iloc[0]
        metric = first["metric"]
        where = f"scenario {first['scenario']}, " if keys and differences["scenario"].nunique() > 1 else ""
        n = int(first["replications"])
        lines.append(f"{where}{first['workload']}, {metric_name(metric)} "
                     f"({n} replication{'s' if n != 1 else ''}):")
        width = max(len(f"{row['stack']} − {row['baseline']}") for _, row in group.iterrows())
        for _, row in group.iterrows():
            pair = f"{row['stack']} − {row['baseline']}"
            lines.append(f"  {pair:<{width}}  {_difference_text(row, metric)}")
    return lines


def _difference_text(row, metric: str) -> str:
    mean, half, level = row["difference_mean"], row["difference_ci"], row["level"]
    relative = row["relative_difference"]
    if metric.endswith("_s"):
        scale, name = time_unit(mean if mean else row["baseline_mean"])
        text = f"{mean / scale:+.3g} {name}"
        bound = "" if half != half else f" ± {_plain(half / scale)} {name}"
    else:
        text, bound = f"{mean:+.4g} /s", ("" if half != half else f" ± {half:.2g} /s")
    interval = f" ({level:.0%})" if bound else ""
    share = f"  [{relative:+.1%}]" if not math.isnan(relative) else ""
    return f"{text}{bound}{interval}{share}"


def _plain(value: float) -> str:
    """Two significant digits without an exponent: 0.0066, 1.5, 42."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = min(9, max(0, 1 - math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f}"

"""Text for the console: times in the unit a person reads, per-workload lines, paired differences."""

from __future__ import annotations

import math

import pandas as pd

from .quantities import Unit, choose_unit, metric_name

__all__ = ["difference_lines", "duration_text", "estimate_text", "time_unit", "workload_lines"]

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


def difference_lines(differences: pd.DataFrame) -> list[str]:
    """Per compared workload, for the first metric, each stack's paired difference from the baseline:
    ``virtualbox − kvm: +0.040 ms ± 0.001 (95%)``; without replications, the difference alone."""
    lines = []
    keys = ["scenario"] if "scenario" in differences.columns else []
    several = bool(keys) and differences["scenario"].nunique() > 1
    shown = differences[differences["metric"] == differences["metric"].iloc[0]]
    for _, group in shown.groupby([*keys, "workload", "metric"], sort=False):
        first = group.iloc[0]
        metric = first["metric"]
        where = f"scenario {first['scenario']}, " if several else ""
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
        unit = time_unit(mean if mean else row["baseline_mean"])
        # A NaN difference (a stack without jobs) is written as a number: '+nan ns'.
        text = duration_text(mean, unit, signed=True, digits=3) if mean == mean else f"{mean:+.3g} {unit[1]}"
        bound = "" if half != half else f" ± {_plain(half / unit[0])} {unit[1]}"
    else:
        text, bound = f"{mean:+.4g} /s", ("" if half != half else f" ± {half:.2g} /s")
    interval = f" ({level:.0%})" if bound else ""
    share = f"  [{relative:+.1%}]" if not math.isnan(relative) else ""
    return f"{text}{bound}{interval}{share}"


def estimate_text(mean: float, half: float, unit: tuple[float, str] | None = None) -> str:
    """A mean and the half-width of its interval: ``'3.247 ± 0.12'``; the mean alone when ``half`` is NaN.

    ``unit`` (scale, name), such as :func:`time_unit` gives, divides both and is
    named after them: ``'3.247 ± 0.12 ms'``.
    """
    if unit is None:
        return f"{mean:.4g}" + ("" if half != half else f" ± {half:.2g}")
    scale, name = unit
    return f"{mean / scale:.4g}" + ("" if half != half else f" ± {half / scale:.2g}") + f" {name}"


def _plain(value: float) -> str:
    """Two significant digits without an exponent: 0.0066, 1.5, 42."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = min(9, max(0, 1 - math.floor(math.log10(abs(value)))))
    return f"{value:.{decimals}f}"

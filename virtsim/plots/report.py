"""Every picture a result folder allows, written as PNG files (``virtsim plot DIR``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ._common import SLIDE_STYLE, policy_columns, swept_columns, varying_columns
from .breakdown import time_breakdown
from .diagram import stack_diagram
from .folder import ResultFolder, read_result_folder
from .heatmap import sweep_heatmap
from .placement_energy import energy_by_policy
from .response import response_time_vs_load
from .scenario_breakdown import scenario_breakdown
from .timeseries import utilization_over_time
from .topology import plot_topology

__all__ = ["Picture", "plot_folder", "sweep_axes"]

_LOAD_WORDS = ("rate", "clients", "load", "utilization")
_MAX_PANELS = 4
"""Most workloads given a panel of their own in the per-scenario breakdown (more: all jobs together)."""


@dataclass(frozen=True)
class Picture:
    name: str
    """File name without '.png'."""
    path: Path | None
    """Where it was written; None when skipped."""
    reason: str = ""
    """Why it was skipped."""


def sweep_axes(summary: pd.DataFrame) -> list[str]:
    """Columns named by a swept field (``hosts[0].hardware.cores``) that take several values."""
    return varying_columns(summary, swept_columns(summary))


def _per_scenario(result: ResultFolder, metric: str) -> pd.DataFrame:
    """The scenarios table (means and 95 % CIs) when it has ``metric``, else the summary."""
    scenarios = result.tables.get("scenarios")
    if scenarios is not None and f"{metric}_mean" in scenarios.columns:
        return scenarios
    return result.tables["summary"]


def _load_axis(axes: list[str], summary: pd.DataFrame) -> str | None:
    numeric = [a for a in axes if pd.api.types.is_numeric_dtype(summary[a])]
    for axis in numeric:
        if any(word in axis.rsplit(".", 1)[-1] for word in _LOAD_WORDS):
            return axis
    return numeric[0] if numeric else None


def _diagram(result: ResultFolder, ax):
    if not result.config:
        raise LookupError("manifest.json has no resolved config")
    return stack_diagram(result.config, ax=ax)


def _stacks(result: ResultFolder) -> pd.DataFrame:
    stacks = result.tables.get("stacks")
    if stacks is None or stacks.empty:
        raise LookupError("no stacks.csv rows (no job completed after the warm-up)")
    return stacks


def _breakdown(result: ResultFolder, ax):
    stacks = _stacks(result)
    if result.axes:
        raise LookupError("a sweep: its breakdown is drawn per scenario (breakdown-by-scenario)")
    return time_breakdown(stacks, normalize=True, ax=ax)


def _scenario_breakdown(result: ResultFolder, ax):
    """A panel per workload (one bar per scenario in each), all in one figure."""
    if not result.axes:
        raise LookupError("not a sweep (no scenarios to compare)")
    stacks = _stacks(result)
    workloads = list(dict.fromkeys(stacks["workload"].astype(str))) if "workload" in stacks.columns else []
    panels = workloads if 1 <= len(workloads) <= _MAX_PANELS else [None]  # None: all jobs together
    if ax is None:
        import matplotlib.pyplot as plt

        scenarios = stacks["scenario"].nunique() if "scenario" in stacks.columns else len(stacks)
        _, axes = plt.subplots(len(panels), 1, figsize=(10.0, len(panels) * (2.6 + 0.42 * scenarios)),
                               layout="constrained", squeeze=False)
        axes = list(axes[:, 0])
    else:
        axes = [ax]
        panels = panels[:1]
    by = [a for a in result.axes if a in stacks.columns] or None
    for panel, workload in zip(axes, panels):
        scenario_breakdown(stacks, by=by, workload=workload, ax=panel)
    return axes[0]


def _utilization(result: ResultFolder, ax):
    if "timeseries" not in result.tables:
        raise LookupError("no timeseries.csv: add 'sample_interval: 10 s' (say) to the experiment")
    return utilization_over_time(result.tables["timeseries"], ax=ax)


def _response(result: ResultFolder, ax):
    summary = result.tables["summary"]
    axes = sweep_axes(summary)
    load = _load_axis(axes, summary)
    if load is None:
        raise LookupError(f"needs a summary with a numeric swept column (several load levels); "
                          f"it has {len(summary)} row(s) and no such column")
    others = [a for a in axes if a != load]
    table = _per_scenario(result, "response_time_mean_s")
    several = "workload" in table.columns and table["workload"].nunique() > 1
    if several and not others:  # unlike workloads are never pooled: a line each
        return response_time_vs_load(table, load, stack="workload", ax=ax)
    return response_time_vs_load(_first_workload(table), load, stack=others[0] if others else None, ax=ax)


def _first_workload(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of one workload of a per-workload scenarios table (the first), so none is pooled with another."""
    if "workload" not in table.columns or table["workload"].nunique() <= 1:
        return table
    return table[table["workload"] == table["workload"].iloc[0]]


def _heatmap(result: ResultFolder, ax):
    summary = result.tables["summary"]
    axes = sweep_axes(summary)
    if len(axes) < 2:
        raise LookupError(f"needs a summary over two swept columns; it has {len(axes)}")
    return sweep_heatmap(_first_workload(_per_scenario(result, "response_time_mean_s")), axes[0], axes[1],
                         "response_time_mean_s", ax=ax)


def _energy(result: ResultFolder, ax):
    summary = result.tables["summary"]
    placement = (result.config or {}).get("placement")
    if "hosts_used" not in summary.columns:
        raise LookupError("not a placement study (the experiment has no placement section)")
    label = placement.get("policy") if isinstance(placement, dict) else None
    return energy_by_policy(summary, by=policy_columns(summary, result.axes) or None, label=label, ax=ax)


def _topology(result: ResultFolder, ax):
    network = (result.config or {}).get("network")
    if not network:
        raise LookupError("the experiment has no network section")
    links = result.tables.get("links")
    usable = links is not None and {"link", "utilization"} <= set(links.columns)
    return plot_topology(network, utilization=links if usable else None, ax=ax)


PICTURES: dict[str, Callable] = {
    "stack-diagram": _diagram,
    "topology": _topology,
    "breakdown": _breakdown,
    "breakdown-by-scenario": _scenario_breakdown,
    "utilization": _utilization,
    "response-vs-load": _response,
    "heatmap": _heatmap,
    "energy-by-policy": _energy,
}
"""Each picture's file name and how it is drawn from a result folder (LookupError: cannot be drawn)."""


def plot_folder(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                dpi: int = 150) -> list[Picture]:
    """Draw every picture the result ``folder`` allows into ``out_dir`` (default: the folder itself).

    Pictures are drawn in :data:`SLIDE_STYLE` (large text) and saved at
    ``dpi``. Returns one :class:`Picture` per kind, written or skipped with
    its reason. Raises ``NotAResultFolder`` for a folder ``virtsim run -o``
    did not write.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    result = read_result_folder(folder)
    out = Path(out_dir) if out_dir is not None else result.path
    out.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name, draw in PICTURES.items():
        with matplotlib.rc_context(SLIDE_STYLE):  # sizes are fixed when text is made and laid out: both inside
            before = set(plt.get_fignums())
            try:
                ax = draw(result, None)
            except (LookupError, ValueError) as why:  # missing data, or a table without a needed column
                for number in set(plt.get_fignums()) - before:  # a figure begun before the problem showed
                    plt.close(number)
                pictures.append(Picture(name, None, str(why)))
                continue
            path = out / f"{name}.png"
            try:
                ax.figure.savefig(path, dpi=dpi)
            finally:
                plt.close(ax.figure)
        pictures.append(Picture(name, path))
    return pictures

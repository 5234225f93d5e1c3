"""What a placement policy costs: energy and hosts used per policy (or scenario), with their 95 % CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.stats import scenario_table
from ._common import axes_or_new, legend_above, policy_columns, require_columns, swept_columns
from .labels import capitalized
from .scenario_breakdown import scenario_labels
from .units import ENERGY_UNITS, format_quantity, set_unit_axis

__all__ = ["energy_by_policy"]

_HOSTS = ("hosts_used", "hosts_powered_on")


def _groups(summary: pd.DataFrame, by: list[str] | None) -> list[str]:
    if by is not None:
        return by
    return policy_columns(summary, swept_columns(summary)) or (["scenario"] if "scenario" in summary.columns else [])


def energy_by_policy(summary: pd.DataFrame, *, by: list[str] | None = None, label: str | None = None, ax=None):
    """Per placement policy, a bar of the energy the hosts used (left axis) and one of the hosts used (right).

    ``summary`` is a summary table with ``energy_j`` and ``hosts_used`` (a
    run with a ``placement`` section) or ``hosts_powered_on``: a sweep's, one
    row per scenario and replication, or a single run's. ``by`` names the
    columns that tell policies apart (default: the swept ``placement.*``
    fields that vary, else every varying swept field, else ``scenario``);
    a single run's bar is called ``label``. Replications of a policy are
    averaged and, when there are several, get a 95 % Student-t error bar.
    Energy is shown in Wh, kWh or MWh, as its size needs; without a power
    model (energy NaN) only the hosts are drawn. Each bar is labelled with
    its value. Returns the (left) Axes.
    """
    hosts = next((c for c in _HOSTS if isinstance(summary, pd.DataFrame) and c in summary.columns), _HOSTS[0])
    require_columns(summary, ["energy_j", hosts], "energy_by_policy")
    if summary.empty:
        raise ValueError("energy_by_policy: the summary table has no rows")
    by = _groups(summary, by)
    require_columns(summary, by, "energy_by_policy")
    table = summary.assign(_all=label or "this run") if not by else summary
    stats = scenario_table(table, by or ["_all"], metrics=("energy_j", hosts))
    if by:
        labels, axis_title = scenario_labels(stats[by])
    else:
        labels, axis_title = [label or "this run"], None
    ax = axes_or_new(ax, figsize=(max(6.0, 1.4 * len(labels) + 3.0), 4.8))
    x = np.arange(len(labels))
    energy, energy_ci = stats["energy_j_mean"].to_numpy(dtype=float), stats["energy_j_ci95"].to_numpy(dtype=float)
    used, used_ci = stats[f"{hosts}_mean"].to_numpy(dtype=float), stats[f"{hosts}_ci95"].to_numpy(dtype=float)
    hosts_label = hosts.replace("_", " ")
    handles = []
    if np.isfinite(energy).any():
        bars = ax.bar(x - 0.2, energy, width=0.4, color="#ef6c00", label="energy (left)",
                      yerr=_error(energy_ci), capsize=5)
        set_unit_axis(ax.yaxis, energy + np.nan_to_num(energy_ci), "energy", ENERGY_UNITS)
        ax.bar_label(bars, [format_quantity(e, ENERGY_UNITS) for e in energy], padding=3, fontsize="small")
        handles.append(bars)
        host_ax, dx, width, side = ax.twinx(), 0.2, 0.4, " (right)"  # the hosts on their own axis, at the right
        host_ax.spines["right"].set_visible(True)
        host_ax.set_ylim(0, max(1.0, float(np.nanmax(used + np.nan_to_num(used_ci)))) * 1.15)
        title = f"Energy and {hosts_label} per {_what(by)}"
    else:  # no power model: the hosts alone
        host_ax, dx, width, side = ax, 0.0, 0.6, ""
        title = f"{capitalized(hosts_label)} per {_what(by)} (no power model: no energy)"
    counts = host_ax.bar(x + dx, used, width=width, color="#1565c0", label=f"{hosts_label}{side}",
                         yerr=_error(used_ci), capsize=5)
    host_ax.set_ylabel(hosts_label)
    host_ax.bar_label(counts, [f"{n:.3g}" for n in used], padding=3, fontsize="small")
    host_ax.yaxis.get_major_locator().set_params(integer=True)
    handles.append(counts)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.08)  # room for the values on top
    ax.set_xlim(-0.7, len(labels) - 0.3)
    ax.set_xticks(x, labels, rotation=20 if max(map(len, labels)) > 12 else 0,
                  ha="right" if max(map(len, labels)) > 12 else "center")
    if axis_title is not None:
        ax.set_xlabel(axis_title)
    if np.isfinite(energy_ci).any() or np.isfinite(used_ci).any():
        title += " (bars: 95 % CI)"
    legend_above(ax, title, ncols=2, handles=handles, labels=[h.get_label() for h in handles])
    return ax


def _what(by: list[str]) -> str:
    """What the bars stand for: policies when placement settings tell them apart, else scenarios."""
    return "policy" if not by or any(c.startswith("placement.") for c in by) else "scenario"


def _error(half: np.ndarray):
    """Error bar half-widths, or None when no replication gives one (no bar drawn)."""
    return np.nan_to_num(half) if np.isfinite(half).any() else None

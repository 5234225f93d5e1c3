"""Every picture a result folder allows, written as PNG files (``virtsim plot DIR``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .breakdown import time_breakdown
from .diagram import stack_diagram
from .folder import ResultFolder, read_result_folder
from .heatmap import sweep_heatmap
from .response import response_time_vs_load
from .timeseries import utilization_over_time

__all__ = ["Picture", "plot_folder", "sweep_axes"]

_LOAD_WORDS = ("rate", "clients", "load", "utilization")


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
    return [c for c in summary.columns if ("." in c or "[" in c) and summary[c].nunique(dropna=False) > 1]


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


def _breakdown(result: ResultFolder, ax):
    stacks = result.tables.get("stacks")
    if stacks is None or stacks.empty:
        raise LookupError("no stacks.csv rows (no job completed after the warm-up)")
    return time_breakdown(stacks, normalize=True, ax=ax)


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
    return response_time_vs_load(summary, load, stack=others[0] if others else None, ax=ax)


def _heatmap(result: ResultFolder, ax):
    summary = result.tables["summary"]
    axes = sweep_axes(summary)
    if len(axes) < 2:
        raise LookupError(f"needs a summary over two swept columns; it has {len(axes)}")
    return sweep_heatmap(summary, axes[0], axes[1], "response_time_mean_s", ax=ax)


PICTURES: dict[str, Callable] = {
    "stack-diagram": _diagram,
    "breakdown": _breakdown,
    "utilization": _utilization,
    "response-vs-load": _response,
    "heatmap": _heatmap,
}
"""Each picture's file name and how it is drawn from a result folder (LookupError: cannot be drawn)."""


def plot_folder(folder: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                dpi: int = 120) -> list[Picture]:
    """Draw every picture the result ``folder`` allows into ``out_dir`` (default: the folder itself).

    Returns one :class:`Picture` per kind, written or skipped with its reason.
    Raises ``NotAResultFolder`` for a folder ``virtsim run -o`` did not write.
    """
    import matplotlib.pyplot as plt

    result = read_result_folder(folder)
    out = Path(out_dir) if out_dir is not None else result.path
    out.mkdir(parents=True, exist_ok=True)
    pictures = []
    for name, draw in PICTURES.items():
        try:
            ax = draw(result, None)
        except (LookupError, ValueError) as why:  # missing data, or a table without a needed column
            pictures.append(Picture(name, None, str(why)))
            continue
        path = out / f"{name}.png"
        try:
            ax.figure.savefig(path, dpi=dpi)
        finally:
            plt.close(ax.figure)
        pictures.append(Picture(name, path))
    return pictures

"""Units for axes: one unit per axis, chosen from the data it shows (3 ms is '3 ms', not '0.003 s').

Tables keep SI base units (seconds, joules); a picture shows them in the
unit that makes its numbers readable. The data drawn stay in base units; the
axis gets a ``FuncFormatter`` that divides by the unit, so a reader of the
Axes (``get_ydata``) still sees seconds. The units themselves, and which one a
number gets, are :mod:`virtsim.quantities`' (the console's too).
"""

from __future__ import annotations

from matplotlib.ticker import AutoLocator, FuncFormatter, PercentFormatter

from ..quantities import ENERGY_UNITS, TIME_UNITS, Unit, choose_unit, format_quantity

__all__ = ["ENERGY_UNITS", "TIME_UNITS", "Unit", "choose_unit", "format_quantity", "set_percent_axis",
           "set_unit_axis"]


class ScaledLocator(AutoLocator):
    """Ticks at round numbers of a unit (every 10 Wh, 5 min), not of the base unit the data are in."""

    def __init__(self, size: float):
        super().__init__()
        self.size = size

    def tick_values(self, vmin, vmax):
        return super().tick_values(vmin / self.size, vmax / self.size) * self.size


def set_unit_axis(axis, values, quantity: str, units=TIME_UNITS) -> Unit:
    """Label ``axis`` (``ax.xaxis``, ``ax.yaxis``, a colour bar's) '``quantity`` (unit)' and tick it in that unit.

    ``values`` are what the axis spans, in base units (the largest decides).
    Returns the unit chosen.
    """
    unit = choose_unit(values, units)
    axis.set_major_locator(ScaledLocator(unit.size))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos, size=unit.size: f"{v / size:.6g}"))
    axis.set_label_text(f"{quantity} ({unit.symbol})")
    return unit


def set_percent_axis(axis, quantity: str) -> None:
    """Label ``axis`` '``quantity`` (%)' and tick fractions (0 to 1) as percentages."""
    axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    axis.set_label_text(f"{quantity} (%)")

"""Units for axes: one unit per axis, chosen from the data it shows (3 ms is '3 ms', not '0.003 s').

Tables keep SI base units (seconds, joules); a picture shows them in the
unit that makes its numbers readable. The data drawn stay in base units; the
axis gets a ``FuncFormatter`` that divides by the unit, so a reader of the
Axes (``get_ydata``) still sees seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

__all__ = ["ENERGY_UNITS", "TIME_UNITS", "Unit", "choose_unit", "format_quantity", "set_percent_axis",
           "set_unit_axis"]


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


class ScaledLocator(MaxNLocator):
    """Ticks at round numbers of a unit (every 10 Wh, 5 min), not of the base unit the data are in."""

    def __init__(self, size: float, **options):
        super().__init__(**{"nbins": "auto", "steps": [1, 2, 2.5, 5, 10], **options})
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
